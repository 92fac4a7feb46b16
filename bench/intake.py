"""Intake benchmark: submissions per second through the citizen endpoint (gunicorn, 2 workers, loopback), and
rows per second importing a generated CSV through ``jiefen import``'s service, enrichment included.

    python bench/intake.py --database sqlite
    python bench/intake.py --database postgres
    python bench/intake.py --database both --submissions 1000 --rows 100000
    python bench/intake.py --database sqlite --submissions 0     # the import only

The office has history first (``--history`` cases, a classifier trained on them and the similar-case index),
so every submission and row gets the full analysis. The portal is measured twice: with the analysis inline
in the request (the embedded default), and in the background (``JIEFEN_INTAKE_ENRICHMENT=background`` with
one Celery worker on Redis), where the figure "all analysed" is the rate at which the worker caught up.
The import enriches every row inline, reading each next batch in a second process while it writes the
current one (``intelligence.ahead``), as ``jiefen import`` does. Its CPU time is printed per process (the
import's, its reader's, and on PostgreSQL the server backend's) beside the wall time: on two cores they share,
that shows which of them the import waited for.

gunicorn runs 2 workers with threads as the README deploys them (``--web-threads``): 4 per worker on
PostgreSQL, 1 on SQLite.

The client behaves like a browser: it fetches the form (cookie, CSRF token, hidden idempotency key and signed
challenge), waits the minimum fill time, then posts. The per-address rate limit would stop a load test from one
address, so the server runs with JIEFEN_INTAKE_RATE_LIMITS=0 — a bench-only switch; the test suite checks it is
on by default. Targets (issue #3): ≥ 150 submissions/s, ≥ 2,000 rows/s.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import os
import random
import re
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HIDDEN = re.compile(r'name="(csrfmiddlewaretoken|key|challenge)" value="([^"]*)"')
ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


BROKER = "redis://127.0.0.1:6379/14"
# Threads per web worker, as the README deploys: on PostgreSQL a request spends much of its time waiting for
# the database, and a second thread works meanwhile; SQLite writes one transaction at a time, and threads
# waiting for its lock only sleep in its busy handler.
WEB_THREADS = {"postgres": 4, "sqlite": 1}


def start_gunicorn(
    port: int, workers: int, env: dict[str, str], web_threads: int = 1
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "jiefen.wsgi:application",
            "-w",
            str(workers),
            "--threads",
            str(web_threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def request(
    port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body.encode() if body else None, headers=headers or {})
        response = conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def fetch_form(port: int) -> dict[str, str]:
    status, headers, html = request(port, "GET", "/portal/submit/", headers={"User-Agent": "bench Mobile"})
    if status != 200:
        raise RuntimeError(f"form: HTTP {status}")
    fields = dict(HIDDEN.findall(html))
    cookie = headers.get("set-cookie", "")
    fields["cookie"] = cookie.split(";", 1)[0]
    return fields


def post_form(port: int, form: dict[str, str], n: int) -> int:
    title, place = TITLES[n % len(TITLES)], PLACES[n % len(PLACES)]
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": form["csrfmiddlewaretoken"],
            "key": form["key"],
            "challenge": form["challenge"],
            "website": "",
            "case_type": "complaint",
            "title": f"{place}{title}",
            "content": f"{place}{title}的问题已经持续{n % 30 + 2}天，多次反映没有解决，老人孩子出入都受影响，"
            "希望有关部门尽快处理。",
            "place": place,
            "name": "张三",
            "phone": f"13{n % 1_000_000_000:09d}",
        }
    )
    status, headers, _ = request(
        port,
        "POST",
        "/portal/submit/",
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": form["cookie"],
            "User-Agent": "bench Mobile",
        },
    )
    if status != 302 or "/portal/receipt/" not in headers.get("location", ""):
        raise RuntimeError(f"submit: HTTP {status}")
    return status


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """One Celery worker process (the background analysis and notifications)."""
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    return subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "jiefen", "worker", "-P", "solo", "-l", "warning", "-Q", "celery"],
        cwd=ROOT,
        env=env,
    )


def wait_analysed(started: float, timeout: float = 600) -> float:
    """Seconds from ``started`` until no case waits for its analysis."""
    from jiefen.cases.models import Case

    deadline = time.perf_counter() + timeout
    while Case.objects.filter(enrichment_pending=True).exists():
        if time.perf_counter() > deadline:
            raise RuntimeError("the background analysis did not finish")
        time.sleep(0.05)
    return time.perf_counter() - started


def bench_submissions(
    n: int, threads: int, workers: int, *, background: bool, web_threads: int = 1
) -> dict[str, float]:
    from django.conf import settings

    env = {**os.environ, "JIEFEN_INTAKE_RATE_LIMITS": "0", "PYTHONPATH": str(ROOT)}
    if background:
        env |= {"JIEFEN_BROKER_URL": BROKER, "JIEFEN_INTAKE_ENRICHMENT": "background"}
    port = free_port()
    proc = start_gunicorn(port, workers, env, web_threads)
    worker = start_worker(env) if background else None
    try:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda _: fetch_form(port), range(min(threads, 20))))  # warm the workers
            t0 = time.perf_counter()
            forms = list(pool.map(lambda _: fetch_form(port), range(n)))
            get_rate = n / (time.perf_counter() - t0)
            time.sleep(
                settings.INTAKE_MIN_FILL_SECONDS + 0.2
            )  # a person takes longer; the server insists on this
            t0 = time.perf_counter()
            list(pool.map(lambda a: post_form(port, a[1], a[0]), enumerate(forms)))
            post_rate = n / (time.perf_counter() - t0)
            analysed = wait_analysed(t0)
    finally:
        for p in (proc, worker):
            if p is not None:
                p.terminate()
                p.wait(timeout=30)
    return {"form_views_per_s": get_rate, "submissions_per_s": post_rate, "analysed_per_s": n / analysed}


TITLES = [
    "噪音扰民",
    "垃圾清运不及时",
    "小区停车难",
    "暖气不热",
    "拖欠工资",
    "道路积水",
    "违章建筑",
    "物业收费不合理",
]
PLACES = ["八角南里小区", "古城南路", "鲁谷路工地", "杨庄东区5号楼", "金顶街", "苹果园地铁站"]


def write_csv(path: Path, rows: int, *, seed: int = 7, prefix: str = "H") -> None:
    rng = random.Random(seed)
    start = time.mktime((2019, 1, 1, 0, 0, 0, 0, 0, -1))
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["工单编号", "标题", "内容", "时间", "诉求人", "电话", "地址", "分类", "点赞"])
        for i in range(rows):
            t = start + rng.random() * 3 * 365 * 86400
            stamp = time.localtime(t)
            when = [
                time.strftime("%Y/%m/%d %H:%M:%S", stamp),
                time.strftime("%Y-%m-%d", stamp),
                f"{stamp.tm_year}年{stamp.tm_mon}月{stamp.tm_mday}日 {stamp.tm_hour}时{stamp.tm_min}分",
                f"{(t - time.mktime((1899, 12, 30, 0, 0, 0, 0, 0, -1))) / 86400:.4f}",
            ][i % 4]
            title = rng.choice(TITLES)
            place = rng.choice(PLACES)
            writer.writerow(
                [
                    f"{prefix}{i:08d}",
                    f"{place}{title}",
                    f"市民反映：{place}{title}问题已经持续{rng.randint(2, 30)}天，多次反映没有解决，请有关部门尽快处理。"
                    * 2,
                    when,
                    f"市民{rng.randint(1, 30000)}",
                    f"13{rng.randint(0, 999_999_999):09d}" if i % 3 else "",
                    place,
                    rng.choice(["噪音扰民", "无序停车", "", "不存在的分类"]),
                    rng.randint(0, 50),
                ]
            )


MAPPING = "id=工单编号,title=标题,text=内容,time=时间,petitioner=诉求人,phone=电话,address=地址,category=分类,support=点赞"


def seed_history(cases: int, scratch: Path) -> None:
    """An office with history, as intake meets it in production: ``cases`` earlier cases, a classifier
    trained on them (labels from their titles) and the similar-case index built over them — so every
    submission and imported row below gets the full enrichment (classifier, index search, related cases)."""
    from jiefen.cases.services import intake_enrichers
    from jiefen.intelligence import services as intelligence
    from jiefen.transfer import services

    path = scratch / "history.csv"
    write_csv(path, cases, seed=1, prefix="S")
    enrichers = list(intake_enrichers)
    intake_enrichers.clear()  # the history itself is loaded bare; it is indexed below
    try:
        run = services.start_run(
            path=path, columns=services.parse_mapping(MAPPING), source="history", channel="hotline_12345"
        )
        services.execute_run(run, progress=False)
    finally:
        intake_enrichers.extend(enrichers)
    with path.open(encoding="utf-8") as f:
        texts = [row["内容"] for row in csv.DictReader(f)]
    labels = [next(t for t in TITLES if t in text) for text in texts]
    t0 = time.perf_counter()
    intelligence.train_classifier(texts=texts, labels=labels, source="bench history", evaluate=False)
    intelligence.reindex()
    print(f"  history: {cases} cases, classifier and index in {time.perf_counter() - t0:.1f} s", flush=True)


def bench_import(rows: int, scratch: Path) -> dict[str, float]:
    from jiefen.cases.services import intake_enrichers
    from jiefen.transfer import services

    path = scratch / "hotline.csv"
    write_csv(path, rows)
    columns = services.parse_mapping(MAPPING)
    run = services.start_run(path=path, columns=columns, source="12345", channel="hotline_12345")
    backend = _backend_cpu()
    cpu = (time.process_time(), _children_cpu(), backend())
    t0 = time.perf_counter()
    run = services.execute_run(run, progress=False)
    seconds = time.perf_counter() - t0
    main_s, reader_s, server_s = (
        after - before
        for after, before in zip((time.process_time(), _children_cpu(), backend()), cpu, strict=True)
    )
    # (where the time went: the import's process, its reader process, and the database server's backend)
    print(
        f"  import CPU: main {main_s:.1f} s, reader {reader_s:.1f} s"
        + (f", PostgreSQL backend {server_s:.1f} s" if server_s else "")
        + f" (wall {seconds:.1f} s, {os.cpu_count()} cores)"
    )
    print(f"  enrichers: {[getattr(e, '__qualname__', repr(e)) for e in intake_enrichers]}")
    print(f"  import: read {run.rows_read}, created {run.created}, rejected {run.rejected}")
    again = services.execute_run(
        services.start_run(path=path, columns=columns, source="12345"), progress=False
    )
    print(f"  re-import: created {again.created}, already there {again.skipped}")
    return {"import_rows_per_s": run.rows_read / seconds, "import_seconds": seconds}


def _children_cpu() -> float:
    """CPU seconds of this process's ended children (the import's reader ends with the import)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _backend_cpu() -> Callable[[], float]:
    """A reading of the CPU seconds of this connection's PostgreSQL backend, where the server runs on this
    machine (else of nothing: 0)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return lambda: 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    stat = Path(f"/proc/{pid}/stat")

    def read() -> float:
        if not stat.exists():
            return 0.0
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return read


def run_one(
    database: str, submissions: int, rows: int, threads: int, history: int, web_threads: int | None
) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _setup import fresh_database, machine

    url = fresh_database(database, "intake")
    print(f"[{database}] {url}\n  {machine()}", flush=True)
    seed_history(history, Path(os.environ["JIEFEN_DATA_DIR"]))
    if web_threads is None:
        web_threads = WEB_THREADS[database]
    results: dict[str, float] = {}
    for background in (False, True) if submissions else ():
        results = bench_submissions(
            submissions, threads, workers=2, background=background, web_threads=web_threads
        )
        how = (
            "analysis in the background (1 Celery worker on Redis)"
            if background
            else "analysis inline (the embedded default)"
        )
        print(
            f"  portal, {how}: {submissions} submissions, {threads} client threads, gunicorn 2 workers × "
            f"{web_threads} threads: "
            f"{results['submissions_per_s']:.0f} submissions/s acknowledged, all analysed at "
            f"{results['analysed_per_s']:.0f}/s (form views {results['form_views_per_s']:.0f}/s)",
            flush=True,
        )
    results |= bench_import(rows, Path(os.environ["JIEFEN_DATA_DIR"]))
    print(
        f"  import: {rows} rows in {results['import_seconds']:.1f} s = {results['import_rows_per_s']:.0f} rows/s",
        flush=True,
    )
    print(f"  load average after: {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument(
        "--web-threads",
        type=int,
        default=None,
        help="threads per gunicorn worker (default: 4 on PostgreSQL, 1 on SQLite, as the README deploys)",
    )
    parser.add_argument("--history", type=int, default=20_000, help="earlier cases in the office (indexed)")
    args = parser.parse_args()
    if args.database == "both":
        for database in ("sqlite", "postgres"):
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--database",
                    database,
                    "--submissions",
                    str(args.submissions),
                    "--rows",
                    str(args.rows),
                    "--threads",
                    str(args.threads),
                    "--history",
                    str(args.history),
                    *(["--web-threads", str(args.web_threads)] if args.web_threads else []),
                ],
                check=True,
            )
        return
    run_one(args.database, args.submissions, args.rows, args.threads, args.history, args.web_threads)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
