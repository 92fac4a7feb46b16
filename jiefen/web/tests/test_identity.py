from typing import Any

from jiefen.audit.models import AuditAction, AuditEntry
from jiefen.cases.intake import PersonInput


def _views() -> list[tuple[int | None, str, dict[str, Any]]]:
    return [
        (e.actor_id, e.object_id, e.data)
        for e in AuditEntry.objects.filter(action=AuditAction.PERSONAL_DATA_VIEWED).order_by("seq")
    ]


def test_viewing_the_full_identity_is_written_to_the_audit_log(
    client_for: Any, clerk: Any, make_case: Any
) -> None:
    case = make_case(petitioner=PersonInput(name="张三", phone="13800138000", id_number="11010519491231002X"))
    response = client_for(clerk).get(f"/cases/{case.pk}/identity/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<dd>张三</dd>" in html
    assert "<dd>13800138000</dd>" in html
    assert "<dd>11010519491231002X</dd>" in html
    assert "本次查看已记入审计日志。" in html
    assert _views() == [(clerk.pk, str(case.pk), {"petitioner": case.petitioner_id})]


def test_a_unit_handler_of_the_case_may_see_an_ordinary_petitioner(
    client_for: Any, handler_a: Any, dispatched_case: Any
) -> None:
    client = client_for(handler_a)
    assert "查看完整信息" in client.get(f"/cases/{dispatched_case.pk}/").content.decode()
    assert client.get(f"/cases/{dispatched_case.pk}/identity/").status_code == 200
    assert _views() == [
        (handler_a.pk, str(dispatched_case.pk), {"petitioner": dispatched_case.petitioner_id})
    ]


def test_a_reporters_identity_is_refused_to_unit_staff(
    client_for: Any, handler_a: Any, clerk: Any, make_case: Any, district: dict[str, Any]
) -> None:
    case = make_case(
        case_type="report",
        title="举报社区工作人员违规收费",
        jurisdiction_unit_id=district["community_a1"].pk,
    )
    assert case.confidential
    client = client_for(handler_a)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "身份保密" in page
    assert "张*" not in page
    assert "138****8000" not in page
    assert "查看完整信息" not in page

    response = client.get(f"/cases/{case.pk}/identity/", follow=True)
    assert response.redirect_chain == [(f"/cases/{case.pk}/", 302)]
    assert [str(m) for m in response.context["messages"]] == ["您无权查看该信访人的完整信息"]
    assert "13800138000" not in response.content.decode()
    assert _views() == []

    # The petition office itself may see who reported, and that view is logged.
    office = client_for(clerk).get(f"/cases/{case.pk}/identity/")
    assert office.status_code == 200
    assert "<dd>13800138000</dd>" in office.content.decode()
    assert _views() == [(clerk.pk, str(case.pk), {"petitioner": case.petitioner_id})]


def test_an_anonymous_petition_has_no_identity_to_show(client_for: Any, clerk: Any, make_case: Any) -> None:
    case = make_case(case_type="suggestion", petitioner=None, is_anonymous=True)
    assert "匿名" in client_for(clerk).get(f"/cases/{case.pk}/").content.decode()
    response = client_for(clerk).get(f"/cases/{case.pk}/identity/")
    assert response.status_code == 302
    assert _views() == []
