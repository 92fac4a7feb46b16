"""Each service: what it does on its happy path, and what it refuses (changing nothing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from jiefen.cases import services
from jiefen.cases.actors import CITIZEN
from jiefen.cases.intake import Intake, PersonInput
from jiefen.cases.models import Assignment, Case, CaseEvent, EventKind, Matter, MatterStatus, Petitioner
from jiefen.cases.workflow import AssignmentStatus, CaseStatus
from jiefen.clocks.models import Clock, ClockKind, ClockState
from jiefen.core.errors import Conflict, IllegalMove, InvalidInput, NotAllowed


def snapshot(case: Case) -> tuple[Any, ...]:
    fresh = Case.objects.get(pk=case.pk)
    return (
        fresh.status,
        fresh.version,
        CaseEvent.objects.filter(case=case).count(),
        Clock.objects.filter(case=case).count(),
    )


# --- intake ------------------------------------------------------------------------------------------------------


def test_registration_numbers_the_case_and_keeps_the_query_code_secret(clerk: Any) -> None:
    registered = services.register_case(
        intake=Intake(
            channel="walk_in",
            case_type="complaint",
            title="楼上漏水",
            content="楼上卫生间漏水到我家",
            petitioner=PersonInput(name="李四", phone="139 1234 5678", id_number="11010519491231002X"),
        ),
        actor=clerk,
    )
    case = registered.case
    today = timezone.localdate()
    assert case.receipt_number == f"SJS-{today:%Y%m%d}-00001"
    assert len(registered.query_code) == 8
    assert registered.query_code not in case.query_code_hash
    from jiefen.cases.intake import query_code_matches

    assert query_code_matches(case, registered.query_code.lower())
    assert not query_code_matches(case, "WRONG123")
    assert case.status == CaseStatus.REGISTERED
    assert case.matter is not None
    assert list(case.events.values_list("kind", flat=True)) == [EventKind.REGISTERED, EventKind.CLOCK_STARTED]


def test_query_codes_use_every_letter_of_their_alphabet_equally_often() -> None:
    from collections import Counter

    from jiefen.cases.intake import _QUERY_ALPHABET, QUERY_CODE_LENGTH, new_query_code

    codes = [new_query_code() for _ in range(31_000)]
    assert {len(code) for code in codes} == {QUERY_CODE_LENGTH}
    counts = Counter("".join(codes))
    assert set(counts) == set(_QUERY_ALPHABET)
    expected = 31_000 * QUERY_CODE_LENGTH / len(_QUERY_ALPHABET)  # 8,000, give or take 90
    # (bytes taken modulo the alphabet's size without skipping give 8 of the letters 12 % more than the rest)
    assert all(abs(n - expected) < 0.06 * expected for n in counts.values()), counts


def test_receipt_numbers_run_on_per_day(make_case: Any) -> None:
    numbers = [make_case().receipt_number[-5:] for _ in range(3)]
    assert numbers == ["00001", "00002", "00003"]


def test_phone_and_id_number_are_encrypted_and_found_by_keyed_hash(make_case: Any) -> None:
    make_case(petitioner=PersonInput(name="王五", phone="+86 138-0013-8999", id_number="11010519491231002x"))
    person = Petitioner.objects.get(name="王五")
    assert "13800138999" not in person.phone_encrypted
    assert person.phone == "13800138999"
    assert person.masked_phone == "138****8999"
    assert person.id_number == "11010519491231002X"
    assert person.masked_id_number == "1101**********002X"
    # The same person coming again is found, not duplicated.
    make_case(petitioner=PersonInput(name="王五", phone="13800138999"))
    assert Petitioner.objects.filter(name="王五").count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"channel": "pigeon"}, "渠道"),
        ({"case_type": "rant"}, "诉求类型"),
        ({"title": "", "content": ""}, "标题和内容不能都为空"),
        ({"title": "长" * 201}, "标题不能超过 200 字"),
        ({"content": "长" * 20001}, "内容不能超过 20000 字"),
        ({"people_count": 0}, "人数"),
        (
            {"is_group": True, "representatives": [PersonInput(name=f"代表{i}") for i in range(6)]},
            "不能超过 5 人",
        ),
        ({"representatives": [PersonInput(name="代表")]}, "只有集体访"),
        ({"latitude": 95.0, "longitude": 116.0}, "纬度"),
        ({"latitude": 39.9}, "同时填写"),
        ({"is_anonymous": True, "case_type": "appeal"}, "匿名"),
        ({"petitioner": PersonInput(name="赵六", id_number="110105194912310021")}, "身份证"),
        ({"petitioner": PersonInput(name="赵六", phone="12")}, "电话"),
    ],
)
def test_bad_intake_is_refused_with_a_clear_message_and_nothing_stored(
    make_case: Any, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        make_case(**overrides)
    assert Case.objects.count() == 0
    assert Matter.objects.count() == 0


def test_a_group_visit_keeps_up_to_five_representatives(make_case: Any) -> None:
    case = make_case(
        is_group=True, people_count=40, representatives=[PersonInput(name=f"代表{i}") for i in range(5)]
    )
    assert case.representatives.count() == 5
    assert case.people_count == 40


def test_a_report_is_confidential(make_case: Any) -> None:
    assert make_case(case_type="report").confidential is True


# --- acceptance --------------------------------------------------------------------------------------------------


def test_decline_needs_a_reason_and_the_proper_channel(make_case: Any, dispatcher: Any) -> None:
    case = make_case()
    before = snapshot(case)
    with pytest.raises(InvalidInput, match="应当通过的途径"):
        services.decline_case(case=case, actor=dispatcher, reason="属于民事纠纷", proper_channel="")
    assert snapshot(case) == before
    services.decline_case(
        case=case, actor=dispatcher, reason="属于民事纠纷", proper_channel="向人民法院提起诉讼"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.DECLINED
    event = case.events.filter(kind=EventKind.MOVE).get()
    assert event.data == {"proper_channel": "向人民法院提起诉讼"}
    assert Clock.objects.get(case=case, kind=ClockKind.ACCEPTANCE).state == ClockState.STOPPED


def test_transfer_records_the_authority(make_case: Any, dispatcher: Any) -> None:
    case = make_case()
    services.transfer_case(case=case, actor=dispatcher, authority="区人力社保局", reason="属劳动监察职责")
    case.refresh_from_db()
    assert case.status == CaseStatus.TRANSFERRED
    assert case.events.filter(kind=EventKind.MOVE).get().data == {"authority": "区人力社保局"}


def test_only_consultations_are_answered_on_the_spot(make_case: Any, dispatcher: Any) -> None:
    complaint = make_case()
    before = snapshot(complaint)
    with pytest.raises(IllegalMove, match="咨询"):
        services.answer_now(case=complaint, actor=dispatcher, answer="请找物业")
    assert snapshot(complaint) == before
    consult = make_case(case_type="consult", title="公租房怎么申请")
    services.answer_now(case=consult, actor=dispatcher, answer="向街道住房保障窗口申请")
    consult.refresh_from_db()
    assert consult.status == CaseStatus.CLOSED


def test_a_repeat_petition_is_merged_into_the_first_and_shares_its_matter(make_case: Any, clerk: Any) -> None:
    first, repeat = make_case(), make_case()
    services.merge_case(case=repeat, into=first, actor=clerk)
    repeat.refresh_from_db()
    assert repeat.status == CaseStatus.MERGED
    assert repeat.matter_id == first.matter_id
    assert repeat.merged_into_id == first.pk
    with pytest.raises(InvalidInput):
        services.merge_case(case=first, into=first, actor=clerk)


def test_only_the_dispatcher_accepts(make_case: Any, handler_a: Any, clerk: Any) -> None:
    case = make_case()
    before = snapshot(case)
    for actor in (handler_a, clerk, CITIZEN):
        with pytest.raises(NotAllowed):
            services.accept_case(case=case, actor=actor)
    assert snapshot(case) == before


# --- dispatch and assignments -----------------------------------------------------------------------------------


def test_dispatch_creates_lead_and_assisting_tasks_with_clocks(
    make_case: Any, dispatcher: Any, district: dict[str, Any]
) -> None:
    case = make_case()
    services.accept_case(case=case, actor=dispatcher)
    lead, assist = services.dispatch_case(
        case=case, actor=dispatcher, lead_unit=district["street_a"], assist_units=[district["property_co"]]
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPATCHED
    assert (lead.role, lead.unit, assist.role, assist.unit) == (
        "lead",
        district["street_a"],
        "assist",
        district["property_co"],
    )
    assert lead.return_due_at is not None
    assert Clock.objects.filter(assignment=lead, kind=ClockKind.SIGN, state=ClockState.RUNNING).count() == 1
    assert Clock.objects.filter(assignment=assist, kind=ClockKind.SIGN).count() == 0


def test_another_streets_handler_cannot_sign(dispatched_case: Any, outsider_b: Any) -> None:
    lead = dispatched_case.assignments.get(role="lead")
    with pytest.raises(NotAllowed, match="八角街道"):
        services.sign_assignment(assignment=lead, actor=outsider_b)
    lead.refresh_from_db()
    assert lead.status == AssignmentStatus.PENDING


def test_a_community_below_the_street_may_act_on_the_streets_task_but_not_the_reverse_direction(
    dispatched_case: Any, handler_a1: Any
) -> None:
    lead = dispatched_case.assignments.get(role="lead")
    # The community is below the street: the street's task is not the community's to sign.
    with pytest.raises(NotAllowed):
        services.sign_assignment(assignment=lead, actor=handler_a1)


def test_signing_twice_is_a_conflict(dispatched_case: Any, handler_a: Any) -> None:
    lead = dispatched_case.assignments.get(role="lead")
    services.sign_assignment(assignment=lead, actor=handler_a)
    with pytest.raises(Conflict):
        services.sign_assignment(assignment=lead, actor=handler_a)


def test_a_return_within_five_working_days_is_reviewed_and_upheld_then_redispatched(
    dispatched_case: Any, handler_a: Any, dispatcher: Any, district: dict[str, Any]
) -> None:
    case = dispatched_case
    lead = case.assignments.get(role="lead")
    services.return_assignment(assignment=lead, actor=handler_a, reason="不属本街道辖区，属古城街道")
    lead.refresh_from_db()
    assert lead.status == AssignmentStatus.RETURNED
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPATCHED  # waits for the dispatcher's review
    services.review_return(assignment=lead, actor=dispatcher, uphold=True, note="同意")
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    services.dispatch_case(case=case, actor=dispatcher, lead_unit=district["street_b"])
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPATCHED
    assert case.assignments.filter(status=AssignmentStatus.PENDING).get().unit == district["street_b"]


def test_an_overruled_return_goes_back_to_the_unit(
    dispatched_case: Any, handler_a: Any, dispatcher: Any
) -> None:
    lead = dispatched_case.assignments.get(role="lead")
    services.return_assignment(assignment=lead, actor=handler_a, reason="不归我们管")
    services.review_return(assignment=lead, actor=dispatcher, uphold=False, note="属地责任在八角街道")
    lead.refresh_from_db()
    assert (lead.status, lead.return_decision) == (AssignmentStatus.PENDING, "overruled")
    dispatched_case.refresh_from_db()
    assert dispatched_case.status == CaseStatus.DISPATCHED


def test_a_return_after_five_working_days_is_refused(dispatched_case: Any, handler_a: Any) -> None:
    lead = dispatched_case.assignments.get(role="lead")
    late = lead.return_due_at + timedelta(minutes=1)
    with time_machine.travel(late, tick=False), pytest.raises(IllegalMove, match="退单期限已于"):
        services.return_assignment(assignment=lead, actor=handler_a, reason="太晚了")
    lead.refresh_from_db()
    assert lead.status == AssignmentStatus.PENDING


def test_a_street_passes_its_task_to_a_community_and_stays_responsible(
    dispatched_case: Any, handler_a: Any, district: dict[str, Any]
) -> None:
    lead = dispatched_case.assignments.get(role="lead")
    services.sign_assignment(assignment=lead, actor=handler_a)
    child = services.pass_down_assignment(
        assignment=lead, actor=handler_a, unit=district["community_a1"], instructions="请社区核实"
    )
    assert (child.parent_id, child.unit, child.role) == (lead.pk, district["community_a1"], "assist")
    lead.refresh_from_db()
    assert lead.status == AssignmentStatus.SIGNED
    services.pass_down_assignment(assignment=lead, actor=handler_a, unit=district["property_co"])
    with pytest.raises(InvalidInput, match="古城街道"):
        services.pass_down_assignment(assignment=lead, actor=handler_a, unit=district["street_b"])


# --- handling and reply ---------------------------------------------------------------------------------------


@pytest.fixture
def in_progress(dispatched_case: Any, handler_a: Any) -> Case:
    services.sign_assignment(assignment=dispatched_case.assignments.get(role="lead"), actor=handler_a)
    dispatched_case.refresh_from_db()
    return dispatched_case


def test_a_reply_missing_parts_is_refused_naming_them(in_progress: Case, handler_a: Any) -> None:
    with pytest.raises(InvalidInput, match="答复意见缺少：依据、申请复查的权利和期限告知"):
        services.draft_reply(
            case=in_progress,
            actor=handler_a,
            facts="已核实",
            basis="",
            conclusion="已处理",
            review_rights=" ",
        )
    assert in_progress.replies.count() == 0


def test_an_unapproved_reply_cannot_be_sent(in_progress: Case, handler_a: Any) -> None:
    services.draft_reply(
        case=in_progress, actor=handler_a, facts="f", basis="b", conclusion="c", review_rights="r"
    )
    before = snapshot(in_progress)
    with pytest.raises(IllegalMove, match="尚未经单位负责人审批"):
        services.send_reply(case=in_progress, actor=handler_a)
    assert snapshot(in_progress) == before


def test_only_the_units_leader_approves(in_progress: Case, handler_a: Any, outsider_b: Any) -> None:
    reply = services.draft_reply(
        case=in_progress, actor=handler_a, facts="f", basis="b", conclusion="c", review_rights="r"
    )
    for actor in (handler_a, outsider_b):
        with pytest.raises(NotAllowed):
            services.approve_reply(reply=reply, actor=actor)
    reply.refresh_from_db()
    assert reply.approved_at is None


def _replied(case: Case, handler: Any, unit_leader: Any) -> Case:
    reply = services.draft_reply(
        case=case, actor=handler, facts="f", basis="b", conclusion="c", review_rights="r"
    )
    services.approve_reply(reply=reply, actor=unit_leader)
    services.send_reply(case=case, actor=handler)
    case.refresh_from_db()
    return case


def test_not_satisfied_reopens_up_to_the_limit_then_closes_for_supervision(
    in_progress: Case, handler_a: Any, leader_a: Any
) -> None:
    case = in_progress
    for round_number in (1, 2):
        _replied(case, handler_a, leader_a)
        services.record_feedback(
            case=case, actor=CITIZEN, resolved="not_resolved", satisfaction="not_satisfied", comment="车还在"
        )
        case.refresh_from_db()
        assert (case.status, case.reopen_count) == (CaseStatus.REOPENED, round_number)
        services.resume_case(case=case, actor=handler_a)
        case.refresh_from_db()
        assert case.status == CaseStatus.IN_PROGRESS
    _replied(case, handler_a, leader_a)
    services.record_feedback(case=case, actor=CITIZEN, resolved="not_resolved", satisfaction="not_satisfied")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.events.filter(kind=EventKind.MOVE).latest("id").data == {"escalate": True}


def test_the_review_chain_ends_final(in_progress: Case, handler_a: Any, leader_a: Any, leader: Any) -> None:
    case = _replied(in_progress, handler_a, leader_a)
    services.request_review(case=case, actor=CITIZEN, reason="答复不符合事实")
    case.refresh_from_db()
    assert case.status == CaseStatus.UNDER_REVIEW
    services.decide_review(case=case, actor=leader, decision="维持原答复")
    case.refresh_from_db()
    services.request_reexam(case=case, actor=CITIZEN, reason="仍不服")
    case.refresh_from_db()
    services.decide_reexam(case=case, actor=leader, decision="维持复查意见")
    case.refresh_from_db()
    assert case.status == CaseStatus.FINAL
    assert Matter.objects.filter(cases=case).get().status == MatterStatus.FINAL


def test_a_review_request_after_its_window_is_refused(
    in_progress: Case, handler_a: Any, leader_a: Any
) -> None:
    case = _replied(in_progress, handler_a, leader_a)
    window = Clock.objects.get(case=case, kind=ClockKind.REVIEW_REQUEST_WINDOW)
    before = snapshot(case)
    late = window.due_at + timedelta(minutes=1)
    with time_machine.travel(late, tick=False), pytest.raises(IllegalMove, match="复查申请期限已过"):
        services.request_review(case=case, actor=CITIZEN, reason="不服")
    assert snapshot(case) == before


def test_withdrawal_stops_every_clock_and_cancels_open_tasks(dispatched_case: Any) -> None:
    services.withdraw_case(case=dispatched_case, actor=CITIZEN, reason="问题已自行解决")
    dispatched_case.refresh_from_db()
    assert dispatched_case.status == CaseStatus.WITHDRAWN
    assert not Clock.objects.filter(
        case=dispatched_case, state__in=[ClockState.RUNNING, ClockState.PAUSED]
    ).exists()
    assert set(Assignment.objects.filter(case=dispatched_case).values_list("status", flat=True)) == {
        AssignmentStatus.CANCELLED
    }


def test_a_note_cannot_be_added_to_a_closed_case(make_case: Any, dispatcher: Any) -> None:
    case = make_case(case_type="consult")
    services.answer_now(case=case, actor=dispatcher, answer="已答复")
    with pytest.raises(IllegalMove):
        services.add_note(case=case, actor=dispatcher, note="补记")


# --- concurrency ------------------------------------------------------------------------------------------------


def test_a_move_against_a_stale_copy_is_a_conflict_and_changes_nothing(
    make_case: Any, dispatcher: Any
) -> None:
    case = make_case()
    mine, theirs = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    services.accept_case(case=mine, actor=dispatcher)
    after_first = snapshot(case)
    with pytest.raises(Conflict, match="刚刚已被其他人处理"):
        services.decline_case(case=theirs, actor=dispatcher, reason="重复", proper_channel="无")
    assert snapshot(case) == after_first
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_a_stale_version_from_a_form_is_a_conflict(
    make_case: Any, dispatcher: Any, district: dict[str, Any]
) -> None:
    case = make_case()
    seen = case.version
    services.accept_case(case=Case.objects.get(pk=case.pk), actor=dispatcher, note="先受理")
    fresh = Case.objects.get(pk=case.pk)
    with pytest.raises(Conflict):
        services.dispatch_case(case=fresh, actor=dispatcher, lead_unit=district["street_a"], version=seen)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_actions_on_a_case_are_recorded_by_kind(dispatched_case: Case, handler_a: Any) -> None:
    event = services.add_note(
        case=dispatched_case, actor=handler_a, note="为困难老人申请临时救助", action="assistance"
    )
    assert (event.kind, event.data) == (EventKind.NOTE, {"action": "assistance"})
    with pytest.raises(InvalidInput, match="办理方式"):
        services.add_note(case=dispatched_case, actor=handler_a, note="x", action="bribe")


def test_an_assisting_unit_hands_its_part_to_the_lead(
    make_case: Any, dispatcher: Any, handler_a: Any, property_handler: Any, district: dict[str, Any]
) -> None:
    case = make_case()
    services.accept_case(case=case, actor=dispatcher)
    lead, assist = services.dispatch_case(
        case=case, actor=dispatcher, lead_unit=district["street_a"], assist_units=[district["property_co"]]
    )
    with pytest.raises(Conflict, match="待签收"):
        services.submit_assist_part(
            assignment=assist, actor=property_handler, text="已清理"
        )  # not signed yet
    services.sign_assignment(assignment=assist, actor=property_handler)
    with pytest.raises(NotAllowed):
        services.submit_assist_part(assignment=assist, actor=handler_a, text="替物业回复")
    services.submit_assist_part(assignment=assist, actor=property_handler, text="已清理占道车辆")
    assist.refresh_from_db()
    assert assist.status == AssignmentStatus.REPLIED
    part = case.events.get(kind=EventKind.ASSIGNMENT_REPLIED)
    assert (part.note, part.data["unit"]) == ("已清理占道车辆", "京西物业公司")
    with pytest.raises(IllegalMove, match="主办单位"):
        services.submit_assist_part(assignment=lead, actor=handler_a, text="x")


def test_only_units_with_a_task_add_records(
    make_case: Any, outsider_b: Any, handler_a: Any, district: dict[str, Any]
) -> None:
    # In street B's jurisdiction, so outsider_b can see it, but nothing has been dispatched to street B.
    case = make_case(jurisdiction_unit_id=district["street_b"].pk)
    with pytest.raises(NotAllowed, match="没有该信访件的交办任务"):
        services.add_note(case=case, actor=outsider_b, note="看看")
    with pytest.raises(NotAllowed):
        services.add_note(case=case, actor=CITIZEN, note="我来记一笔")
    assert not case.events.filter(kind=EventKind.NOTE).exists()
