"""``jiefen import`` and ``jiefen export`` (wired into jiefen/cli.py)."""

from __future__ import annotations

import argparse
import sys


def add_commands(add: object) -> None:
    """Register the subcommands with the ``add(name, handler, help)`` helper of ``jiefen.cli``."""
    p = add("import", cmd_import, "import cases from CSV, TSV, XLSX or JSON lines (chosen by extension)")  # type: ignore[operator]
    p.add_argument("--file", required=True, help="the file to import")
    p.add_argument(
        "--map",
        dest="columns",
        help="key=column,… with keys id, title, text, time, petitioner, phone, "
        "address, category, channel, status, unit, lat, lon, support, oppose",
    )
    p.add_argument("--mapping", help="use a saved mapping by name")
    p.add_argument("--save-mapping", help="save --map under this name for later runs")
    p.add_argument(
        "--source", help="the system the external ids belong to (default: the mapping's, else the file name)"
    )
    p.add_argument("--channel", help="channel of the imported cases (default: import)")
    p.add_argument("--case-type", help="case type of the imported cases (default: complaint)")
    p.add_argument("--rejects", help="where to write the refused rows with their reasons (CSV)")
    p.add_argument(
        "--batch-size", type=_positive, help="rows per transaction (default: the import's BATCH_SIZE)"
    )
    p.add_argument("--no-progress", action="store_true")
    e = add("export", cmd_export, "export cases as CSV, one row per case; written to the audit log")  # type: ignore[operator]
    e.add_argument("--output", required=True, help="the CSV file to write")
    e.add_argument(
        "--user", help="export as this user: their cases, and personal data only where they may see it"
    )
    e.add_argument("--source", help="only cases imported from this system")
    e.add_argument("--status", help="only cases in this status")


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1 is needed, not {value!r}")
    return number


def cmd_import(args: argparse.Namespace) -> int:
    from jiefen.cli import _setup

    _setup()
    from jiefen.core.errors import DomainError
    from jiefen.transfer import services
    from jiefen.transfer.readers import UnreadableFile

    try:
        mapping = services.load_mapping(args.mapping) if args.mapping else None
        if args.columns:
            columns = services.parse_mapping(args.columns)
        elif mapping is not None:
            columns = mapping.columns
        else:
            print("error: give --map key=column,… or --mapping NAME", file=sys.stderr)
            return 2
        if args.save_mapping:
            services.save_mapping(
                name=args.save_mapping,
                columns=columns,
                source=args.source or "",
                channel=args.channel or "",
                case_type=args.case_type or "",
            )
        run = services.start_run(
            path=args.file,
            columns=columns,
            source=args.source or (mapping.source if mapping else ""),
            channel=args.channel or (mapping.channel if mapping and mapping.channel else "import"),
            case_type=args.case_type or (mapping.case_type if mapping and mapping.case_type else "complaint"),
        )
    except (DomainError, UnreadableFile) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    run = services.execute_run(
        run,
        progress=not args.no_progress,
        rejects_path=args.rejects,
        batch_size=args.batch_size or services.BATCH_SIZE,
    )
    if run.error:
        print(f"error: {run.error}", file=sys.stderr)
        return 1
    print(
        f"import #{run.pk} from {run.file_name} (source {run.source}): read {run.rows_read}, "
        f"created {run.created}, already there {run.skipped}, rejected {run.rejected}"
    )
    if run.rejects_file:
        print(f"rejected rows and reasons: {run.rejects_file}")
    for label, key in (("categories", "unknown_categories"), ("units", "unknown_units")):
        if run.notes.get(key):
            print(f"unknown {label} left empty: {', '.join(run.notes[key][:10])}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from jiefen.cli import _setup

    _setup()
    from jiefen.cases.models import Case
    from jiefen.cases.queries import cases_visible_to
    from jiefen.org.models import User
    from jiefen.transfer.services import export_cases

    user = None
    cases = Case.objects.all()
    if args.user:
        user = User.objects.filter(username=args.user, is_active=True).first()
        if user is None:
            print(f"error: no active user {args.user!r}", file=sys.stderr)
            return 2
        cases = cases_visible_to(user)
    filters = {}
    if args.source:
        cases, filters["source"] = cases.filter(external_source=args.source), args.source
    if args.status:
        cases, filters["status"] = cases.filter(status=args.status), args.status
    with open(args.output, "w", encoding="utf-8-sig", newline="") as out:
        rows = export_cases(cases=cases, out=out, user=user, target=args.output, filters=filters)
    print(f"exported {rows} cases to {args.output}")
    return 0
