"""Benchmark of the similar-case index's hourly catch-up: finding the cases the index lacks.

The catch-up (``intelligence.services.catch_up_index``) compares the count and sum of case ids per block of
ids in the database and in the index, and reads id by id only the blocks that differ (``_unindexed``). This
prints its time on a case table of ``--cases`` rows, against reading every case id into the process and
comparing them all (what it did before), for an index that lacks nothing, 100 cases spread over the whole
table, and the 100 latest cases.

    /work/venv/bin/python bench/catch_up.py [--database sqlite|postgres|both] [--cases 1000000]

The table is the demo's cases copied (each copy has its own receipt number); the index is stood in for by
its ids, which is all the comparison reads of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _setup import fresh_database, machine  # noqa: E402


def copy_cases(total: int) -> None:
    """Copy the demo's cases until the table holds at least ``total`` rows, in one INSERT … SELECT."""
    from django.db import connection

    from jiefen.cases.models import Case

    fields = [f.column for f in Case._meta.concrete_fields if not f.primary_key]
    table = connection.ops.quote_name(Case._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in fields)

    def copied(column: str) -> str:
        name = connection.ops.quote_name(column)
        if column in {"receipt_number", "external_id"}:  # (unique: each copy gets its own)
            return f"CASE WHEN {name} = '' THEN '' ELSE {name} || '-' || CAST(g.n AS VARCHAR(12)) END"
        return name

    chosen = ", ".join(copied(c) for c in fields)
    template = Case.objects.count()
    copies = -(-(total - template) // template)
    with connection.cursor() as cursor:
        # (the names are the model's own, quoted; the one value is a parameter)
        insert = (
            f"INSERT INTO {table} ({columns}) "  # noqa: S608
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < %s) "
            f"SELECT {chosen} FROM {table}, g"
        )
        cursor.execute(insert, [copies])
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {table}")


def every_id(before: dt.datetime) -> np.ndarray:
    """The catch-up's reading before the tallies: every settled case id, read into the process."""
    from jiefen.cases.models import Case

    registered = Case.objects.filter(created_at__lt=before).values_list("pk", flat=True)
    return np.fromiter(registered.iterator(chunk_size=20_000), dtype=np.int64)


def run(kind: str, total: int) -> None:
    fresh_database(kind, "catchup")
    from django.utils import timezone

    from jiefen.cases.models import Case
    from jiefen.demo.services import load_demo
    from jiefen.intelligence import services

    t0 = time.perf_counter()
    load_demo(cases=500)
    copy_cases(total)
    ids = np.sort(np.fromiter(Case.objects.values_list("pk", flat=True).iterator(), dtype=np.int64))
    print(f"[{kind}] {len(ids):,} cases in {time.perf_counter() - t0:.0f}s", flush=True)
    before = timezone.now() + dt.timedelta(minutes=1)  # every case has settled
    rng = np.random.default_rng(0)
    lacking = {
        "nothing": np.zeros(0, dtype=np.int64),
        "100 spread": rng.choice(ids, 100, replace=False),
        "the latest 100": ids[-100:],
    }
    for name, lost in lacking.items():
        indexed = np.setdiff1d(ids, lost)
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            found = services._unindexed(indexed, before=before)
            timings.append(time.perf_counter() - started)
        assert sorted(found) == sorted(lost.tolist()), name
        started = time.perf_counter()
        old = np.setdiff1d(every_id(before), indexed)
        old_s = time.perf_counter() - started
        assert sorted(old.tolist()) == sorted(lost.tolist())
        print(
            f"[{kind}] index lacks {name:15s}: tallies {min(timings):6.2f} s (best of 2)  "
            f"every id {old_s:6.2f} s",
            flush=True,
        )
    print(f"[{kind}] peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cases", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.database == "both":  # one process per database: Django is set up once per process
        for kind in ("sqlite", "postgres"):
            command = [sys.executable, __file__, "--database", kind, "--cases", str(args.cases)]
            subprocess.run(command, check=True)
        return
    print(machine(), flush=True)
    run(args.database, args.cases)


if __name__ == "__main__":
    main()
