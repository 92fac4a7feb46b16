"""Registering many cases at once (imports) writes exactly what one-by-one registration writes."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from jiefen.audit.services import verify_chain
from jiefen.cases.intake import Intake, PersonInput, query_code_matches
from jiefen.cases.models import Case, EventKind, Petitioner
from jiefen.cases.services import register_case, register_cases
from jiefen.clocks.models import Clock, ClockKind


def intake(title: str, **overrides: Any) -> Intake:
    fields: dict[str, Any] = {
        "channel": "import",
        "case_type": "complaint",
        "title": title,
        "content": f"{title}的详细情况",
    }
    fields.update(overrides)
    return Intake(**fields)


def test_good_rows_are_registered_and_bad_rows_reported_by_position(clerk: Any) -> None:
    result = register_cases(
        intakes=[
            intake("噪音扰民", petitioner=PersonInput(name="甲", phone="13700000001")),
            intake("", content=""),
            intake("漏水", petitioner=PersonInput(name="甲", phone="13700000001")),
            intake("车位", channel="fax"),
            intake("欠薪", petitioner=PersonInput(name="乙", id_number="11010519491231002X")),
        ],
        actor=clerk,
    )
    assert [r.case.title for r in result.registered] == ["噪音扰民", "漏水", "欠薪"]
    assert [(pos, "标题和内容不能都为空" in msg or "渠道" in msg) for pos, msg in result.rejected] == [
        (1, True),
        (3, True),
    ]
    today = timezone.localdate()
    assert [r.case.receipt_number for r in result.registered] == [
        f"SJS-{today:%Y%m%d}-{n:05d}" for n in (1, 2, 3)
    ]
    # The same person twice in a batch is one petitioner.
    assert Petitioner.objects.filter(name="甲").count() == 1
    assert all(query_code_matches(r.case, r.query_code) for r in result.registered)


def test_a_bulk_case_has_the_same_clock_events_and_audit_as_a_single_one(clerk: Any) -> None:
    single = register_case(intake=intake("单件"), actor=clerk).case
    (bulk,) = register_cases(intakes=[intake("批量")], actor=clerk).registered
    for case in (single, bulk.case):
        fresh = Case.objects.get(pk=case.pk)
        clock = Clock.objects.get(case=fresh, kind=ClockKind.ACCEPTANCE)
        assert fresh.due_at == clock.due_at
        assert fresh.clock_colour == "green"
        assert list(fresh.events.values_list("kind", flat=True)) == [
            EventKind.REGISTERED,
            EventKind.CLOCK_STARTED,
        ]
        assert fresh.matter is not None
    assert verify_chain().ok


def test_a_known_petitioner_is_found_not_duplicated(clerk: Any, make_case: Any) -> None:
    make_case(petitioner=PersonInput(name="丙", phone="13700000009"))
    register_cases(
        intakes=[intake("再来", petitioner=PersonInput(name="丙", phone="137 0000 0009"))], actor=clerk
    )
    assert Petitioner.objects.filter(name="丙").count() == 1
    assert Case.objects.filter(petitioner__name="丙").count() == 2


def test_nothing_valid_writes_nothing(clerk: Any) -> None:
    result = register_cases(intakes=[intake("", content="")], actor=clerk)
    assert result.registered == [] and len(result.rejected) == 1
    assert Case.objects.count() == 0
