"""The ``jiefen`` command: ``jiefen demo``, ``jiefen serve``, ``jiefen migrate``, ``jiefen createuser``,
``jiefen verify-audit``, ``jiefen sweep``, ``jiefen import``, ``jiefen export``; any Django management command
via ``jiefen manage …``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiefen.settings")
    import django

    django.setup()


def _migrate(verbosity: int = 1) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup()
    _migrate()
    return 0


def _start_embedded_beat() -> None:
    """In the embedded mode there is no Celery beat: a daemon thread runs the beat schedule's jobs inline."""
    from django.conf import settings

    from jiefen.core import scheduler

    if settings.CELERY_TASK_ALWAYS_EAGER:
        scheduler.start(settings.CELERY_BEAT_SCHEDULE)


def _serve(host: str, port: int, threads: int) -> int:
    from django.core.management import call_command
    from waitress import serve

    from jiefen.wsgi import application

    call_command("collectstatic", interactive=False, verbosity=0)
    _start_embedded_beat()
    print(f"Jiefen is serving on http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    serve(application, host=host, port=port, threads=threads, ident="jiefen")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    if not args.no_migrate:
        _migrate(verbosity=0)
    return _serve(args.host, args.port, args.threads)


def cmd_demo(args: argparse.Namespace) -> int:
    _setup()
    from jiefen.demo.services import DEMO_PASSWORD, demo_accounts, load_demo

    print("Preparing the database …", flush=True)
    _migrate(verbosity=0)
    created = load_demo(cases=args.cases, progress=True)
    print("Demo data loaded." if created else "The database already holds data; demo data not loaded again.")
    print(f"\nDemo accounts (password for all: {DEMO_PASSWORD}):")
    accounts = demo_accounts()
    name_width = max(len(username) for username, _, _ in accounts) + 2
    role_width = max(_display_width(role) for _, role, _ in accounts) + 2
    for username, role_label, unit in accounts:
        print(f"  {username.ljust(name_width)}{_pad(role_label, role_width)}{unit}")
    print(
        f"\nOpen http://{args.host}:{args.port}/ — the citizen portal is at http://{args.host}:{args.port}/portal/\n"
    )
    if args.no_serve:
        return 0
    return _serve(args.host, args.port, args.threads)


def _display_width(text: str) -> int:
    """Columns a terminal gives ``text``: wide (CJK) characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _display_width(text))


def cmd_createuser(args: argparse.Namespace) -> int:
    _setup()
    import getpass

    from jiefen.core.errors import DomainError
    from jiefen.org.services import create_user

    password = args.password or os.environ.get("JIEFEN_NEW_USER_PASSWORD") or getpass.getpass("Password: ")
    try:
        user = create_user(
            username=args.username,
            password=password,
            roles=args.role or [],
            unit_code=args.unit,
            full_name=args.name or "",
            is_superuser=args.superuser,
            actor=None,
        )
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(f"created user {user.username}")
    return 0


def cmd_verify_audit(args: argparse.Namespace) -> int:
    _setup()
    from jiefen.audit.services import verify_chain

    result = verify_chain()
    if result.ok:
        print(f"audit chain intact: {result.checked} entries verified")
        return 0
    print(f"AUDIT CHAIN BROKEN at entry #{result.first_bad_seq}: {result.reason}", file=sys.stderr)
    return 1


def cmd_sweep(args: argparse.Namespace) -> int:
    _setup()
    from jiefen.clocks.services import sweep

    result = sweep()
    print(f"warned {result.warned}, breached {result.breached}, windows expired {result.expired}")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["jiefen manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jiefen", description="Jiefen (解纷) petition and dispute platform")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    def serving(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--threads", type=int, default=8)

    demo = add("demo", cmd_demo, "migrate, load the demo district if the database is empty, and serve")
    serving(demo)
    demo.add_argument(
        "--cases",
        type=int,
        default=2000,
        help="how many demo cases to generate (the first start takes a few minutes)",
    )
    demo.add_argument("--no-serve", action="store_true", help="load the demo data and stop")
    serve = add("serve", cmd_serve, "serve the web application")
    serving(serve)
    serve.add_argument("--no-migrate", action="store_true")
    add("migrate", cmd_migrate, "create or update the database tables")
    create = add("createuser", cmd_createuser, "create a staff user")
    create.add_argument("username")
    create.add_argument("--password")
    create.add_argument("--role", action="append", help="a role (repeatable): dispatcher, unit_handler, …")
    create.add_argument("--unit", help="the unit's code")
    create.add_argument("--name", help="full name")
    create.add_argument("--superuser", action="store_true")
    add("verify-audit", cmd_verify_audit, "check the audit chain; exit 1 naming the first altered entry")
    add("sweep", cmd_sweep, "run the clock sweep once")
    from jiefen.transfer.cli import add_commands as add_transfer_commands

    add_transfer_commands(add)  # jiefen import, jiefen export
    from jiefen.analytics.cli import add_commands as add_analytics_commands

    add_analytics_commands(add)  # jiefen hotspots, jiefen rollups
    from jiefen.intelligence.cli import add_commands as add_intelligence_commands

    add_intelligence_commands(add)  # jiefen train, classify, similar, reindex
    manage = add("manage", cmd_manage, "run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
