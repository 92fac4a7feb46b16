"""The whole chain of issue #4, asserting clocks and events at each step."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jiefen.cases import services
from jiefen.cases.actors import CITIZEN
from jiefen.cases.models import Case, EventKind, ExtensionStatus, MatterStatus
from jiefen.cases.workflow import AssignmentStatus, CaseStatus
from jiefen.clocks.models import Clock, ClockState
from jiefen.core.errors import IllegalMove, NotAllowed

TZ = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=TZ)


def end_of(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 23, 59, 59, tzinfo=TZ)


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def running(case: Case) -> dict[str, datetime]:
    """The case's running clocks by kind (assignment clocks named with their unit)."""
    result = {}
    for clock in Clock.objects.filter(case=case, state=ClockState.RUNNING).select_related("assignment__unit"):
        key = clock.kind if clock.assignment is None else f"{clock.kind}:{clock.assignment.unit.name}"
        result[key] = clock.due_at
    return result


def kinds_since(case: Case, last_id: int) -> list[str]:
    return [
        f"{e.kind}:{e.move}" if e.move else e.kind for e in case.events.filter(pk__gt=last_id).order_by("id")
    ]


def last_event_id(case: Case) -> int:
    return case.events.order_by("-id").values_list("id", flat=True).first() or 0


def test_full_petition_chain(
    make_case: Any,
    clerk: Any,
    dispatcher: Any,
    supervisor: Any,
    handler_a: Any,
    leader_a: Any,
    handler_a1: Any,
    property_handler: Any,
    district: dict[str, Any],
) -> None:
    street_a, street_b = district["street_a"], district["street_b"]

    # Registration, Mon 2 March 2026: 15 days to decide on acceptance (Art. 22).
    with time_machine.travel(at(3, 2), tick=False):
        case = make_case()
    assert case.status == CaseStatus.REGISTERED
    assert running(case) == {"acceptance": end_of(3, 17)}
    mark = last_event_id(case)

    # Acceptance, Wed 4 March: 60 days to handle (Art. 34); 3 May is inside Labour Day (1–5 May) → 6 May.
    with time_machine.travel(at(3, 4), tick=False):
        services.accept_case(case=fresh(case), actor=dispatcher)
    assert running(case) == {"handling": end_of(5, 6)}
    assert kinds_since(case, mark) == ["move:accept", "clock_stopped", "clock_started", "notice_issued"]
    notice = case.documents.get()
    assert notice.title == "信访事项受理告知书"
    assert "60日内办结" in notice.text and case.receipt_number in notice.text

    # Dispatched by mistake to street B, which returns it within 5 working days; the return is upheld.
    with time_machine.travel(at(3, 4, 11), tick=False):
        (wrong,) = services.dispatch_case(case=fresh(case), actor=dispatcher, lead_unit=street_b)
    assert running(case)["return_window:古城街道"] == end_of(3, 11)
    assert running(case)["sign:古城街道"] == end_of(3, 5)
    with time_machine.travel(at(3, 5), tick=False):
        from jiefen.org.services import create_user

        handler_b = create_user(
            username="handler_b",
            password="x",
            roles=["unit_handler"],
            unit_code=street_b.code,
            actor=None,
            validate=False,
        )
        services.return_assignment(assignment=wrong, actor=handler_b, reason="八角南里小区属八角街道管辖")
        mark = last_event_id(case)
        services.review_return(assignment=wrong, actor=dispatcher, uphold=True, note="同意，改派八角街道")
    assert fresh(case).status == CaseStatus.ACCEPTED
    assert kinds_since(case, mark) == ["return_reviewed", "move:all_returned"]

    # Re-dispatched to street A (lead) with the property company assisting; street A signs.
    with time_machine.travel(at(3, 5, 11), tick=False):
        lead, assist = services.dispatch_case(
            case=fresh(case), actor=dispatcher, lead_unit=street_a, assist_units=[district["property_co"]]
        )
        services.sign_assignment(assignment=lead, actor=handler_a)
        services.sign_assignment(assignment=assist, actor=property_handler)
    assert fresh(case).status == CaseStatus.IN_PROGRESS
    assert "sign:八角街道" not in running(case)

    # Street A passes it down to its community; the property company works on its part.
    with time_machine.travel(at(3, 6), tick=False):
        child = services.pass_down_assignment(
            assignment=lead, actor=handler_a, unit=district["community_a1"], instructions="请社区牵头协调物业"
        )
        services.sign_assignment(assignment=child, actor=handler_a1)
        services.add_note(case=fresh(case), actor=handler_a1, note="走访现场，约谈物业，清理占道车辆")
    assert Case.objects.get(pk=case.pk).assignments.get(pk=lead.pk).status == AssignmentStatus.SIGNED

    # An extension: requested by the street, approved by its leader and then by the office (+30 days).
    with time_machine.travel(at(4, 27), tick=False):
        request = services.request_extension(
            case=fresh(case), actor=handler_a, days=30, reason="需协调停车位改造"
        )
        with pytest.raises(NotAllowed):
            services.decide_extension(
                request=request, actor=dispatcher, approve=True
            )  # the unit's leader first
        services.decide_extension(request=request, actor=leader_a, approve=True)
        request = services.decide_extension(request=request, actor=supervisor, approve=True, note="同意延期")
    assert request.status == ExtensionStatus.APPROVED
    # 6 May + 30 days = 5 June (a Friday).
    assert running(case)["handling"] == end_of(6, 5)

    # The reply: drafted, approved by the unit leader, sent. Follow-up (15 days) and review windows (30) start.
    with time_machine.travel(at(5, 20), tick=False):
        reply = services.draft_reply(
            case=fresh(case),
            actor=handler_a,
            facts="经核实，小区3号楼前消防通道长期被私家车占用。",
            basis="《消防法》第二十八条；《物业管理条例》第四十五条。",
            conclusion="已协调物业清理占道车辆并施划禁停标线。",
            review_rights="如不服本答复意见，可自收到之日起30日内向区人民政府请求复查。",
        )
        services.approve_reply(reply=reply, actor=leader_a)
        services.send_reply(case=fresh(case), actor=handler_a)
    assert fresh(case).status == CaseStatus.FOLLOW_UP
    # The review window's 30th day, Fri 19 June, is the Dragon Boat Festival: it ends Mon 22 June.
    assert running(case) == {"follow_up_window": end_of(6, 4), "review_request_window": end_of(6, 22)}

    # Not satisfied: reopened to the same unit, which takes it up again with a new handling clock (重办).
    with time_machine.travel(at(5, 22), tick=False):
        mark = last_event_id(case)
        services.record_feedback(
            case=fresh(case),
            actor=CITIZEN,
            resolved="partly",
            satisfaction="not_satisfied",
            comment="晚上又停满了",
        )
    reopened = fresh(case)
    assert (reopened.status, reopened.reopen_count) == (CaseStatus.REOPENED, 1)
    assert kinds_since(case, mark)[:2] == ["feedback", "move:not_satisfied"]
    assert running(case) == {"handling": end_of(7, 21)}
    with time_machine.travel(at(5, 23), tick=False):
        services.resume_case(case=fresh(case), actor=handler_a)
        reply = services.draft_reply(
            case=fresh(case),
            actor=handler_a,
            facts="增设夜间巡查。",
            basis="同上。",
            conclusion="已安装道闸，夜间禁止外来车辆进入。",
            review_rights="如不服本答复意见，可自收到之日起30日内请求复查。",
        )
        services.approve_reply(reply=reply, actor=leader_a)
        services.send_reply(case=fresh(case), actor=handler_a)

    # Satisfied: closed; nothing runs but the window to ask for a review.
    with time_machine.travel(at(5, 25), tick=False):
        services.record_feedback(
            case=fresh(case), actor=CITIZEN, resolved="resolved", satisfaction="satisfied"
        )
    closed = fresh(case)
    assert closed.status == CaseStatus.CLOSED
    assert closed.clock_colour == "none"
    assert list(running(case)) == ["review_request_window"]
    moves = list(closed.events.exclude(move="").order_by("id").values_list("move", flat=True))
    assert moves == [
        "accept",
        "dispatch",
        "all_returned",
        "dispatch",
        "sign",
        "reply",
        "start_follow_up",
        "not_satisfied",
        "resume",
        "reply",
        "start_follow_up",
        "satisfied",
    ]
    from jiefen.audit.services import verify_chain

    assert verify_chain().ok


def test_review_chain_to_final(
    dispatched_case: Case,
    handler_a: Any,
    leader_a: Any,
    leader: Any,
    dispatcher: Any,
    clerk: Any,
    make_case: Any,
) -> None:
    case = dispatched_case
    with time_machine.travel(at(3, 2), tick=False):
        services.sign_assignment(assignment=case.assignments.get(role="lead"), actor=handler_a)
        reply = services.draft_reply(
            case=fresh(case),
            actor=handler_a,
            facts="事实",
            basis="依据",
            conclusion="结论",
            review_rights="30日内可请求复查",
        )
        services.approve_reply(reply=reply, actor=leader_a)
        services.send_reply(case=fresh(case), actor=handler_a)

    # 复查 within 30 days of the reply; decided by the level above within 30 days (Art. 35).
    with time_machine.travel(at(3, 20), tick=False):
        services.request_review(case=fresh(case), actor=CITIZEN, reason="答复未解决实际问题")
    assert fresh(case).status == CaseStatus.UNDER_REVIEW
    assert running(case) == {"review_decision": end_of(4, 20)}
    with time_machine.travel(at(4, 10), tick=False):
        services.decide_review(case=fresh(case), actor=leader, decision="维持原答复意见")
    assert fresh(case).status == CaseStatus.REVIEWED
    assert running(case) == {"reexam_request_window": end_of(5, 11)}

    # 复核 within 30 days of the review; after it the matter is final (Art. 36).
    with time_machine.travel(at(5, 6), tick=False):
        services.request_reexam(case=fresh(case), actor=CITIZEN, reason="对复查意见仍不服")
    assert running(case) == {"reexam_decision": end_of(6, 5)}
    with time_machine.travel(at(5, 28), tick=False):
        services.decide_reexam(case=fresh(case), actor=leader, decision="维持复查意见，本事项终结")
    final = fresh(case)
    assert final.status == CaseStatus.FINAL
    matter = final.matter
    assert matter is not None and matter.status == MatterStatus.FINAL
    assert running(case) == {}

    # A new petition on the same facts is flagged when linked to the matter, and cannot be accepted.
    with time_machine.travel(at(6, 10), tick=False):
        again = make_case(title="还是消防通道的问题")
        services.link_to_matter(case=again, matter=matter, actor=clerk)
        flagged = again.events.filter(kind=EventKind.FIELD_CHANGED).get()
        assert flagged.data["final_matter"] is True
        with pytest.raises(IllegalMove, match="第三十六条不再受理"):
            services.accept_case(case=fresh(again), actor=dispatcher)
        assert fresh(again).status == CaseStatus.REGISTERED
        services.decline_case(
            case=fresh(again),
            actor=dispatcher,
            reason="该事项已复核终结",
            proper_channel="不再受理（信访工作条例第三十六条）",
        )
    assert fresh(again).status == CaseStatus.DECLINED
