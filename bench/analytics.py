"""Analytics benchmark: a district with 1,000,000 cases and their events, rollups filled by the real job, the
dashboard page timed through Django's test client, an incremental rollup of 10,000 new cases registered
through the real intake service, and a hotspot run over the last 90 days (100,000 cases).

    python bench/analytics.py --database sqlite
    python bench/analytics.py --database postgres

The bulk data set is written with plain multi-row INSERTs (COPY on PostgreSQL) of realistic rows: a
registration event for every case, and accept / lead dispatch / sign-clock stop / reply / rating events for
40 % of them, spread over two years with 100,000 cases in the last 90 days.

Targets (issue #6): dashboard ≤ 300 ms on PostgreSQL and ≤ 1 s on SQLite once rollups are filled;
incremental rollup of 10,000 new cases ≤ 5 s; hotspot run over the last 90 days of 100,000 cases ≤ 60 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import datetime, timedelta
from typing import Any

from _setup import fresh_database

PROBLEMS = [
    ("楼下烧烤店油烟扰民", "WY02"),
    ("夜间施工噪音扰民", "WY02"),
    ("车辆乱停堵塞消防通道", "WY0101"),
    ("物业收费不合理", "WY07"),
    ("电梯经常故障无人维修", "WY07"),
    ("拖欠农民工工资", "LD01"),
    ("占道经营影响通行", "CG01"),
    ("垃圾清运不及时", "CG01"),
    ("路灯不亮存在安全隐患", "CG01"),
    ("学校周边交通拥堵", "CG01"),
]
HEADS = ["阳光", "幸福", "锦绣", "翠湖", "金色", "和平", "富力", "万科", "华府", "盛世", "龙湾", "碧水"]
TAILS = ["家园", "花园", "新村", "名苑", "华庭", "公寓"]


def _timed(fn: Any, repeat: int = 1) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--recent", type=int, default=100_000, help="cases in the last 90 days")
    parser.add_argument("--new", type=int, default=10_000, help="cases registered for the incremental rollup")
    parser.add_argument(
        "--reuse",
        help="database URL of an earlier run's data set: migrate it, catch its rollups up, and time the rest",
    )
    args = parser.parse_args()
    if args.reuse:
        _reuse(args.reuse)
    else:
        fresh_database(args.database, "analytics")

    from django.conf import settings

    from jiefen.analytics.services import refresh_rollups
    from jiefen.cases.models import Category

    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(6)
    if args.reuse:
        from jiefen.org.models import Unit, User

        leader = User.objects.get(username="leader")
        clerk = User.objects.get(username="clerk")
        communities = list(Unit.objects.filter(kind="community"))
        cats = {c.code: c.pk for c in Category.objects.all()}
        compounds = {u.pk: [f"{rng.choice(HEADS)}{rng.choice(TAILS)}" for _ in range(3)] for u in communities}
        caught, result = _timed(lambda: refresh_rollups(lag_seconds=0, batch=100_000))
        print(
            f"reused data set; rollups caught up with {result.events:,} events in {caught:.1f} s", flush=True
        )
    else:
        leader, clerk, communities, cats, compounds = _bulk(args, rng)
    _measure(args, rng, leader, clerk, communities, cats, compounds)


def _reuse(url: str) -> None:
    import os
    import sys
    import tempfile
    from pathlib import Path

    os.environ["JIEFEN_DATA_DIR"] = tempfile.mkdtemp(prefix="jiefen-bench-reuse-")
    os.environ["JIEFEN_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiefen.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _bulk(args: Any, rng: random.Random) -> tuple[Any, Any, list[Any], dict[str, int], dict[int, list[str]]]:
    from django.db import connection, transaction
    from django.utils import timezone

    from jiefen.analytics.services import refresh_rollups
    from jiefen.cases.models import Case, CaseEvent, Category
    from jiefen.org.services import create_unit, create_user

    root = create_unit(code="D", name="石景山区信访办", kind="district")
    communities = []
    for s in range(9):
        street = create_unit(code=f"S{s}", name=f"第{s + 1}街道", kind="street", parent=root)
        for c in range(16):
            communities.append(
                create_unit(
                    code=f"S{s}C{c}", name=f"第{s + 1}街道{c + 1}社区", kind="community", parent=street
                )
            )
    companies = [
        create_unit(code=f"P{i}", name=f"物业公司{i}", kind="property_company", parent=root) for i in range(8)
    ]
    streets_units = [u for u in communities]
    leader = create_user(
        username="leader",
        password="bench-pass-123",
        roles=["leader"],
        unit_code="D",
        actor=None,
        validate=False,
    )
    clerk = create_user(
        username="clerk",
        password="bench-pass-123",
        roles=["reception_clerk"],
        unit_code="D",
        actor=None,
        validate=False,
    )
    cats = {c.code: c.pk for c in Category.objects.all()}
    compounds = {u.pk: [f"{rng.choice(HEADS)}{rng.choice(TAILS)}" for _ in range(3)] for u in streets_units}

    # --- the bulk data set ------------------------------------------------------------------------------------
    now = timezone.now()
    t0 = time.perf_counter()
    case_cols = [
        "id", "receipt_number", "query_code_hash", "channel", "case_type", "title", "content", "place_text",
        "jurisdiction_unit_id", "category_id", "urgency", "people_count", "is_group", "confidential",
        "is_anonymous", "external_id", "external_source", "support_count", "oppose_count", "status", "version",
        "reopen_count", "clock_colour", "enrichment", "created_at", "received_at", "accepted_at", "replied_at",
        "closed_at", "updated_at",
    ]  # fmt: skip
    event_cols = ["case_id", "kind", "move", "from_status", "to_status", "actor_id", "actor_label", "note", "data",
                  "is_public", "created_at"]  # fmt: skip
    channels = ["walk_in", "phone", "web", "mobile", "hotline_12345", "letter"]
    types = ["complaint", "help", "consult", "suggestion", "report"]
    n, recent = args.cases, args.recent
    pg = connection.vendor == "postgresql"

    def when(i: int) -> datetime:
        if i >= n - recent:
            return now - timedelta(seconds=rng.uniform(60, 90 * 86400 - 60))
        return now - timedelta(days=rng.uniform(91, 730))

    def write(table: str, cols: list[str], rows: list[tuple[Any, ...]]) -> None:
        with connection.cursor() as cursor:
            if pg:
                with cursor.cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",  # noqa: S608
                    rows,
                )

    batch = 50_000
    events_written = 0
    for start in range(0, n, batch):
        cases, events = [], []
        for i in range(start, min(n, start + batch)):
            pk = i + 1
            unit = rng.choice(communities)
            problem, code = PROBLEMS[rng.randrange(len(PROBLEMS))]
            place = rng.choice(compounds[unit.pk])
            at = when(i)
            handled = rng.random() < 0.4
            status = "closed" if handled else "registered"
            accepted = at + timedelta(hours=2) if handled else None
            replied = at + timedelta(days=rng.uniform(1, 20)) if handled else None
            title = f"{place}小区{problem}"
            cases.append(
                (pk, f"B{pk:09d}", "x", rng.choice(channels), rng.choice(types), title,
                 f"{unit.name}{place}小区{problem}，多次反映未解决，请尽快处理。", place, unit.pk, cats.get(code),
                 "normal", 1, False, False, False, "", "", rng.randrange(0, 5) if rng.random() < 0.2 else 0, 0,
                 status, 1, 0, "none", "{}", at, at, accepted, replied, replied, now)
            )  # fmt: skip
            events.append(
                (
                    pk,
                    "registered",
                    "",
                    "",
                    "registered",
                    None,
                    "bench",
                    "",
                    json.dumps({"channel": "web"}),
                    True,
                    at,
                )
            )
            if handled:
                lead = rng.choice(companies) if code in ("WY07", "WY0101") else unit
                on_time = rng.random() < 0.9
                satisfaction = rng.choices(["satisfied", "basically", "not_satisfied"], [6, 3, 1])[0]
                resolved = rng.choices(["resolved", "partly", "not_resolved"], [6, 2, 2])[0]
                events.extend(
                    [
                        (pk, "move", "accept", "registered", "accepted", None, "bench", "", "{}", True, accepted),
                        (pk, "assigned", "", "", "", None, "bench", "", json.dumps({"unit_id": lead.pk, "role": "lead"}), True, accepted),
                        (pk, "clock_stopped", "", "", "", None, "bench", "", json.dumps({"clock": "sign", "due_at": "", "on_time": on_time}), False, accepted + timedelta(hours=3)),
                        (pk, "move", "reply", "in_progress", "replied", None, "bench", "", "{}", True, replied),
                        (pk, "feedback", "", "", "", None, "bench", "", json.dumps({"resolved": resolved, "satisfaction": satisfaction}), True, replied + timedelta(days=1)),
                    ]
                )  # fmt: skip
        with transaction.atomic():
            write(Case._meta.db_table, case_cols, cases)
            write(CaseEvent._meta.db_table, event_cols, events)
        events_written += len(events)
    if pg:
        with connection.cursor() as cursor:
            for table in (Case._meta.db_table, CaseEvent._meta.db_table):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
                )
            cursor.execute("ANALYZE")
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"bulk data: {n:,} cases, {events_written:,} events in {time.perf_counter() - t0:.0f} s", flush=True
    )

    # --- rollups from scratch ---------------------------------------------------------------------------------
    full, result = _timed(lambda: refresh_rollups(lag_seconds=0, batch=100_000))
    print(f"rollup fill from scratch: {result.events:,} events → {result.rows:,} upserts in {full:.1f} s "
          f"({result.events / full:,.0f} events/s)", flush=True)  # fmt: skip
    return leader, clerk, communities, cats, compounds


def _measure(
    args: Any,
    rng: random.Random,
    leader: Any,
    clerk: Any,
    communities: list[Any],
    cats: dict[str, int],
    compounds: dict[int, list[str]],
) -> None:
    from django.test import Client
    from django.utils import timezone

    from jiefen.analytics.services import refresh_rollups
    from jiefen.analytics.services.hotspots import run_recent
    from jiefen.cases.intake import Intake, PersonInput
    from jiefen.cases.services import register_cases

    # --- the dashboard ----------------------------------------------------------------------------------------
    client = Client()
    client.force_login(leader)
    today = timezone.localdate()
    timings = {}
    for label, query in (
        ("30 days", ""),
        ("90 days", f"?start={today - timedelta(days=89)}&end={today}"),
        ("1 year", f"?start={today - timedelta(days=364)}&end={today}"),
    ):
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            response = client.get(f"/analytics/{query}")
            samples.append(time.perf_counter() - start)
            assert response.status_code == 200
        timings[label] = (statistics.median(samples), min(samples))
        print(
            f"dashboard page ({label}): median {timings[label][0] * 1000:.0f} ms, best {timings[label][1] * 1000:.0f} ms",
            flush=True,
        )

    # --- incremental rollup of new cases ----------------------------------------------------------------------
    t0 = time.perf_counter()
    for start in range(0, args.new, 1000):
        intakes = []
        for _i in range(start, min(args.new, start + 1000)):
            unit = rng.choice(communities)
            problem, code = PROBLEMS[rng.randrange(len(PROBLEMS))]
            intakes.append(
                Intake(channel="web", case_type="complaint", title=f"{rng.choice(compounds[unit.pk])}小区{problem}",
                       content=f"{problem}，请处理。", jurisdiction_unit_id=unit.pk, category_id=cats.get(code),
                       petitioner=PersonInput(name="居民", phone=f"139{rng.randrange(10**8):08d}"))
            )  # fmt: skip
        register_cases(intakes=intakes, actor=clerk)
    print(f"registered {args.new:,} new cases in {time.perf_counter() - t0:.1f} s", flush=True)
    inc, result = _timed(lambda: refresh_rollups(lag_seconds=0))
    print(
        f"incremental rollup of {args.new:,} new cases: {result.events:,} events in {inc:.2f} s", flush=True
    )

    # --- hotspots over the last 90 days -----------------------------------------------------------------------
    hot, run = _timed(run_recent)
    print(f"hotspot run over the last 90 days: {run.run.cases_scanned:,} cases → {run.hotspots_found} hotspots "
          f"({run.run.warnings} warnings) in {hot:.1f} s", flush=True)  # fmt: skip
    for h in run.hotspots[:5]:
        print(f"   {h.heat:7.1f}  {h.title}  {h.case_count} cases")

    print("\nsummary", args.database)
    print(f"  dashboard (30 days, median)   {timings['30 days'][0] * 1000:7.0f} ms")
    print(f"  dashboard (1 year, median)    {timings['1 year'][0] * 1000:7.0f} ms")
    print(f"  incremental rollup ({args.new:,})  {inc:7.2f} s")
    print(f"  hotspot run (90 days)         {hot:7.1f} s")


if __name__ == "__main__":
    main()
