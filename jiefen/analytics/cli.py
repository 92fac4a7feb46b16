"""``jiefen hotspots`` (wired into jiefen/cli.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path


def add_commands(add: object) -> None:
    """Register the subcommands with the ``add(name, handler, help)`` helper of ``jiefen.cli``."""
    p = add(
        "hotspots", cmd_hotspots, "find hotspots among the cases received in a period; optionally write a CSV"
    )  # type: ignore[operator]
    p.add_argument("--since", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--until", required=True, help="last day, YYYY-MM-DD (inclusive)")
    p.add_argument("--output", help="CSV file: one row per hotspot, hottest first")
    p.add_argument("--top", type=int, default=10, help="how many to print")
    r = add(
        "rollups", cmd_rollups, "count new case events into the dashboard rollups (--rebuild: from scratch)"
    )  # type: ignore[operator]
    r.add_argument("--rebuild", action="store_true")


def cmd_hotspots(args: argparse.Namespace) -> int:
    from jiefen.cli import _setup

    _setup()
    from jiefen.analytics.services.hotspots import day_bounds, run_hotspots, write_hotspots_csv

    try:
        since, until = date.fromisoformat(args.since), date.fromisoformat(args.until)
    except ValueError:
        print("error: --since and --until are dates, YYYY-MM-DD", file=sys.stderr)
        return 2
    if until < since:
        print("error: --until is before --since", file=sys.stderr)
        return 2
    result = run_hotspots(since=day_bounds(since, until)[0], until=day_bounds(since, until)[1])
    print(f"scanned {result.run.cases_scanned} cases, found {result.hotspots_found} hotspots")
    for rank, h in enumerate(result.hotspots[: args.top], start=1):
        print(f"{rank:>3}. {h.heat:7.2f}  {h.title}  ({h.case_count} cases, {h.people_count} people)")
    if args.output:
        rows = write_hotspots_csv(result=result, path=Path(args.output))
        print(f"wrote {rows} rows to {args.output}")
    return 0


def cmd_rollups(args: argparse.Namespace) -> int:
    from jiefen.cli import _setup

    _setup()
    from jiefen.analytics.services import rebuild_rollups, refresh_rollups

    result = rebuild_rollups() if args.rebuild else refresh_rollups()
    print(f"counted {result.events} events into {result.rows} rollup rows (mark {result.last_event_id})")
    return 0
