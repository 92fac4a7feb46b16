"""Routing benchmark: suggestions per second over 1,000 rules and 10,000 place aliases.

    python bench/routing.py --database sqlite
    python bench/routing.py --database postgres --rules 1000 --aliases 10000 --decisions 20000

Target (issue #4): ≥ 2,000 routing decisions per second in one process once the table is loaded.
"""

from __future__ import annotations

import argparse
import random
import time

from _setup import fresh_database

SYLLABLES = "东西南北中金银玉花园春秋华景新旧安康乐泰和平阳光明月星海山河湖林桥庄村里苑府城"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument("--aliases", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=20_000)
    args = parser.parse_args()
    fresh_database(args.database, "routing")

    from jiefen.cases.models import Case, CaseType, Category, Channel
    from jiefen.org.models import AliasKind, JurisdictionAlias, Unit
    from jiefen.routing.models import KeywordMode, RoutingRule, Target
    from jiefen.routing.services import clear_routing_cache, suggest

    rng = random.Random(20260304)
    root = Unit.objects.create(code="D", name="示例区", kind="district")
    streets = [
        Unit.objects.create(code=f"S{n}", name=f"第{n}街道", kind="street", parent=root) for n in range(30)
    ]
    communities = [
        Unit.objects.create(code=f"C{n}", name=f"第{n}社区", kind="community", parent=streets[n % 30])
        for n in range(300)
    ]
    companies = [
        Unit.objects.create(code=f"P{n}", name=f"第{n}物业公司", kind="property_company", parent=root)
        for n in range(40)
    ]
    departments = [
        Unit.objects.create(code=f"B{n}", name=f"第{n}委办局", kind="department", parent=root)
        for n in range(20)
    ]

    names: set[str] = set()
    while len(names) < args.aliases:
        names.add(
            "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
            + rng.choice(["小区", "家园", "里", "苑", "村"])
        )
    aliases = sorted(names)
    JurisdictionAlias.objects.bulk_create(
        [JurisdictionAlias(alias=a, unit=rng.choice(communities), kind=AliasKind.COMPOUND) for a in aliases]
    )
    JurisdictionAlias.objects.bulk_create(
        [
            JurisdictionAlias(alias=a, unit=rng.choice(companies), kind=AliasKind.COMPOUND)
            for a in aliases[::3]
        ]
    )

    categories = list(Category.objects.all())
    words = [
        "停车",
        "噪音",
        "漏水",
        "物业费",
        "电梯",
        "供暖",
        "垃圾",
        "拖欠工资",
        "违建",
        "路灯",
        "占道",
        "绿化",
        "养老",
        "医保",
    ]
    for n in range(args.rules):
        rule = RoutingRule.objects.create(
            name=f"规则{n}",
            order=n,
            category=rng.choice(categories) if rng.random() < 0.5 else None,
            case_type=rng.choice(CaseType.values) if rng.random() < 0.3 else "",
            channel=rng.choice(Channel.values) if rng.random() < 0.3 else "",
            keywords="，".join(rng.sample(words, rng.randint(1, 3))) if rng.random() < 0.7 else "",
            keyword_mode=KeywordMode.ALL if rng.random() < 0.5 else KeywordMode.ANY,
            place_unit=rng.choice(streets) if rng.random() < 0.4 else None,
            target=rng.choice([Target.UNIT, Target.JURISDICTION_STREET, Target.JURISDICTION_COMMUNITY]),
            lead_unit=rng.choice(departments),
            assist_property_company=rng.random() < 0.3,
        )
        if rng.random() < 0.2:
            rule.assist_units.set(rng.sample(departments, 2))

    cases = []
    for _ in range(2_000):
        alias = rng.choice(aliases)
        cases.append(
            Case(
                channel=rng.choice(Channel.values),
                case_type=rng.choice(CaseType.values),
                title=f"{rng.choice(words)}问题",
                content=f"反映{alias}{rng.randint(1, 30)}号楼{rng.choice(words)}，{rng.choice(words)}长期没人管，请尽快处理。"
                * 3,
                place_text=f"{alias}{rng.randint(1, 30)}号楼" if rng.random() < 0.8 else "",
                category_id=rng.choice(categories).pk,
            )
        )

    clear_routing_cache()
    started = time.perf_counter()
    suggest(cases[0])
    load = time.perf_counter() - started
    decided = 0
    started = time.perf_counter()
    for n in range(args.decisions):
        if suggest(cases[n % len(cases)]).lead is not None:
            decided += 1
    elapsed = time.perf_counter() - started
    rate = args.decisions / elapsed
    print(
        f"routing ({args.database}): {args.rules} rules, {args.aliases} aliases; table loaded in {load * 1000:.0f} ms; "
        f"{args.decisions} decisions in {elapsed:.2f} s = {rate:,.0f} decisions/s "
        f"({decided / args.decisions:.0%} with a lead); target ≥ 2,000/s: {'met' if rate >= 2000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
