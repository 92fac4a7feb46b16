"""Shared set-up for the benchmarks: a fresh database (SQLite file or PostgreSQL) in a scratch folder."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def fresh_database(kind: str, name: str) -> str:
    """Point Django at a brand-new database of ``kind`` ('sqlite' or 'postgres') and migrate it."""
    scratch = Path(tempfile.mkdtemp(prefix=f"jiefen-bench-{name}-"))
    os.environ["JIEFEN_DATA_DIR"] = str(scratch)
    if kind == "sqlite":
        url = f"sqlite:///{scratch / 'bench.sqlite3'}"
    elif kind == "postgres":
        import psycopg

        db = f"jiefen_bench_{name}"
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db}"')
        url = f"postgres://postgres@127.0.0.1:5432/{db}"
    else:
        raise SystemExit(f"unknown database kind {kind!r}")
    os.environ["JIEFEN_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiefen.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return url


def machine() -> str:
    """A line on the machine the figures come from, printed first by the benchmarks: its cores, its load and
    its speed — the best of three timings of a fixed pure-Python loop (ten million additions), so figures
    measured on machines of different speed, or on a busy one, can be compared."""
    return (
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
        f"10M-step Python loop {min(_loop_seconds() for _ in range(3)):.2f} s (best of 3)"
    )


def _loop_seconds() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started
