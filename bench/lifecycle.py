"""Lifecycle benchmark: create cases through the real intake service, move them through the lifecycle, and
time the clock sweep over all open cases.

    python bench/lifecycle.py --database sqlite --cases 100000
    python bench/lifecycle.py --database postgres --cases 100000

Targets (issue #2): creation ≥ 500 cases/s, sweep ≤ 5 s over 100,000 open cases.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta
from typing import Any

from _setup import fresh_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=5_000, help="how many to register one by one")
    parser.add_argument("--batch", type=int, default=500, help="batch size for the rest")
    parser.add_argument(
        "--enrichment",
        action="store_true",
        help="run the intake enrichers (language engine, routing) too; by default the lifecycle layer alone",
    )
    parser.add_argument(
        "--moved", type=int, default=5_000, help="how many cases to move through the lifecycle"
    )
    args = parser.parse_args()
    url = fresh_database(args.database, "lifecycle")
    if not args.enrichment:
        from jiefen.cases.services import intake_enrichers

        intake_enrichers.clear()

    from django.db import connection

    from jiefen.audit.services import verify_chain
    from jiefen.cases import services
    from jiefen.cases.actors import CITIZEN
    from jiefen.cases.intake import Intake, PersonInput
    from jiefen.cases.models import Case
    from jiefen.clocks.models import Clock, ClockState
    from jiefen.clocks.services import sweep
    from jiefen.org.services import create_unit, create_user

    root = create_unit(code="SJS", name="石景山区信访办", kind="district")
    streets = [create_unit(code=f"S{i}", name=f"街道{i}", kind="street", parent=root) for i in range(9)]

    def user(name: str, roles: list[str], unit: Any) -> Any:
        return create_user(
            username=name,
            password="bench-pass-123",
            roles=roles,
            unit_code=unit.code,
            actor=None,
            validate=False,
        )

    clerk = user("clerk", ["reception_clerk"], root)
    dispatcher = user("dispatcher", ["dispatcher"], root)
    handlers = [user(f"h{i}", ["unit_handler"], s) for i, s in enumerate(streets)]
    leaders = [user(f"l{i}", ["unit_leader"], s) for i, s in enumerate(streets)]
    rng = random.Random(7)
    titles = [
        "小区车辆乱停堵塞消防通道",
        "楼上装修噪音扰民",
        "屋顶漏水多次报修无人处理",
        "物业费上涨不合理",
        "拖欠农民工工资",
    ]

    print(
        f"database: {args.database} ({connection.vendor}), cases: {args.cases:,}, "
        f"intake enrichment {'on' if args.enrichment else 'off'}"
    )

    def intake(i: int) -> Intake:
        return Intake(
            channel=rng.choice(["web", "mobile", "walk_in", "phone", "hotline_12345"]),
            case_type=rng.choice(["complaint", "help", "suggestion", "appeal"]),
            title=rng.choice(titles),
            content=f"第{i}号诉求：" + rng.choice(titles) + "，请尽快处理。",
            petitioner=PersonInput(name=f"群众{i % 5000}", phone=f"139{i % 100000000:08d}"),
            place_text=f"某小区{i % 300}号楼",
        )

    # One at a time, as a clerk or the citizen portal registers them (each in its own transaction).
    single_n = min(args.cases, args.single)
    started = time.perf_counter()
    cases: list[Case] = [services.register_case(intake=intake(i), actor=clerk).case for i in range(single_n)]
    single = time.perf_counter() - started
    print(f"creation, one by one: {single_n:,} cases in {single:.1f} s = {single_n / single:,.0f} cases/s")
    # The rest in batches, as imports and the hotline feed do (same rows, clocks, events and audit entries).
    started = time.perf_counter()
    bulk_n = args.cases - single_n
    for offset in range(single_n, args.cases, args.batch):
        batch = [intake(i) for i in range(offset, min(offset + args.batch, args.cases))]
        cases.extend(r.case for r in services.register_cases(intakes=batch, actor=clerk).registered)
    bulk = time.perf_counter() - started
    if bulk_n:
        print(
            f"creation, in batches of {args.batch}: {bulk_n:,} cases in {bulk:.1f} s = {bulk_n / bulk:,.0f} cases/s"
        )
    print(
        f"creation overall: {len(cases):,} cases in {single + bulk:.1f} s = {len(cases) / (single + bulk):,.0f} cases/s"
    )

    # Moves on a sample: accept, dispatch, sign, reply and close; the rest stay open for the sweep.
    moves = 0
    sample = cases[: args.moved]
    started = time.perf_counter()
    for case in sample:
        k = case.pk % 9
        services.accept_case(case=case, actor=dispatcher)
        (lead,) = services.dispatch_case(case=case, actor=dispatcher, lead_unit=streets[k])
        services.sign_assignment(assignment=lead, actor=handlers[k])
        case.refresh_from_db(fields=["status", "version"])
        moves += 3
    for case in sample[: len(sample) // 2]:
        k = case.pk % 9
        reply = services.draft_reply(
            case=case,
            actor=handlers[k],
            facts="已核实",
            basis="依据",
            conclusion="已处理",
            review_rights="30日内可申请复查",
        )
        services.approve_reply(reply=reply, actor=leaders[k])
        services.send_reply(case=case, actor=handlers[k])
        services.record_feedback(case=case, actor=CITIZEN, resolved="resolved", satisfaction="satisfied")
        moves += 3  # reply, start of follow-up, close
    move_time = time.perf_counter() - started
    print(
        f"moves: {moves:,} lifecycle moves on {len(sample):,} cases in {move_time:.1f} s = {moves / move_time:,.0f} moves/s"
    )

    open_cases = Case.objects.exclude(status__in=["closed"]).count()
    running = Clock.objects.filter(state=ClockState.RUNNING).count()
    print(f"open cases: {open_cases:,}; running clocks: {running:,}")
    from django.utils import timezone

    now = timezone.now()
    timings = []
    for label, moment in [
        ("routine sweep, nothing due", now),
        ("sweep where every open case turns yellow", now + timedelta(days=50)),
        ("sweep where every open case turns red", now + timedelta(days=200)),
    ]:
        t0 = time.perf_counter()
        result = sweep(now=moment)
        elapsed = time.perf_counter() - t0
        timings.append(elapsed)
        print(
            f"{label}: {elapsed:.2f} s (warned {result.warned:,}, breached {result.breached:,}, "
            f"windows expired {result.expired:,})"
        )
    t0 = time.perf_counter()
    check = verify_chain()
    print(
        f"audit chain: {'intact' if check.ok else 'BROKEN'} over {check.checked:,} entries, verified in {time.perf_counter() - t0:.1f} s"
    )
    print(f"database url: {url}")


if __name__ == "__main__":
    main()
