from typing import Any

from jiefen.cases import services
from jiefen.cases.workflow import CaseStatus


def test_it_walks_a_case_from_registration_to_closed(
    dispatched_case: Any, handler_a: Any, leader_a: Any, clerk: Any
) -> None:
    case = dispatched_case
    lead = case.assignments.get(role="lead")
    services.sign_assignment(assignment=lead, actor=handler_a)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    reply = services.draft_reply(
        case=case,
        actor=handler_a,
        facts="已核实",
        basis="物业服务合同",
        conclusion="已清理",
        review_rights="30日内可申请复查",
    )
    services.approve_reply(reply=reply, actor=leader_a)
    services.send_reply(case=case, actor=handler_a)
    case.refresh_from_db()
    assert case.status == CaseStatus.FOLLOW_UP
    services.record_feedback(case=case, actor=clerk, resolved="resolved", satisfaction="satisfied")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
