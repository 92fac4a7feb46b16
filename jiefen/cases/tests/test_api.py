"""The HTTP API: scoped reads, actions through the same table as the web, clear errors, nothing changed on a
refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from jiefen.cases.models import Case, CaseEvent
from jiefen.cases.workflow import CaseStatus


def api_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_the_api_needs_a_login(make_case: Any) -> None:
    case = make_case()
    response = Client().get(f"/api/cases/{case.pk}")
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": "login required"}


def test_a_clerk_registers_a_case_and_gets_the_receipt(clerk: Any) -> None:
    response = post(
        api_client(clerk),
        "/api/cases",
        {
            "channel": "phone",
            "case_type": "help",
            "title": "独居老人家中停水",
            "content": "老人家中停水两天",
            "petitioner": {"name": "钱七", "phone": "13911112222"},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert body["receipt_number"] == case.receipt_number
    assert len(body["query_code"]) == 8
    assert case.channel == "phone"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"channel": "phone", "case_type": "help"}, 422),
        ({"channel": "phone", "case_type": "help", "content": "x" * 20001}, 422),
        ({"channel": "carrier-pigeon", "case_type": "help", "content": "内容"}, 400),
        ({"channel": "phone", "case_type": "help", "content": "内容", "people_count": "many"}, 422),
        ("not json at all", 400),
    ],
)
def test_bad_registrations_are_refused_and_nothing_is_stored(clerk: Any, body: Any, status: int) -> None:
    client = api_client(clerk)
    if isinstance(body, str):
        response = client.post("/api/cases", data=body, content_type="application/json")
    else:
        response = post(client, "/api/cases", body)
    assert response.status_code == status
    assert Case.objects.count() == 0


def test_unit_staff_cannot_register(handler_a: Any) -> None:
    response = post(
        api_client(handler_a), "/api/cases", {"channel": "phone", "case_type": "help", "content": "内容"}
    )
    assert response.status_code == 403
    assert Case.objects.count() == 0


def test_actions_move_the_case_and_a_stale_version_is_a_conflict(make_case: Any, dispatcher: Any) -> None:
    case = make_case()
    client = api_client(dispatcher)
    response = post(client, f"/api/cases/{case.pk}/accept", {"version": case.version, "note": "受理"})
    assert response.status_code == 200
    assert response.json()["status"] == CaseStatus.ACCEPTED
    stale = post(
        client,
        f"/api/cases/{case.pk}/decline",
        {"version": case.version, "reason": "r", "proper_channel": "p"},
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_an_illegal_move_is_409_with_the_reason(
    make_case: Any, dispatcher: Any, district: dict[str, Any]
) -> None:
    case = make_case()
    response = post(api_client(dispatcher), f"/api/cases/{case.pk}/send-reply", {})
    assert response.status_code == 409
    assert response.json() == {"code": "illegal_move", "message": "没有待发送的答复意见，请先起草"}


def test_another_streets_handler_is_denied_and_nothing_changes(dispatched_case: Any, outsider_b: Any) -> None:
    client = api_client(outsider_b)
    before = (
        Case.objects.get(pk=dispatched_case.pk).version,
        CaseEvent.objects.filter(case=dispatched_case).count(),
    )
    assert client.get(f"/api/cases/{dispatched_case.pk}").status_code == 404
    assert client.get(f"/api/cases/{dispatched_case.pk}/events").status_code == 404
    lead = dispatched_case.assignments.get(role="lead")
    assert post(client, f"/api/cases/{dispatched_case.pk}/sign", {"assignment": lead.pk}).status_code == 404
    assert client.get("/api/cases").json()["count"] == 0
    after = (
        Case.objects.get(pk=dispatched_case.pk).version,
        CaseEvent.objects.filter(case=dispatched_case).count(),
    )
    assert before == after


def test_the_list_is_scoped_and_filtered(make_case: Any, dispatcher: Any) -> None:
    make_case(title="甲")
    make_case(title="乙", channel="letter")
    client = api_client(dispatcher)
    assert client.get("/api/cases").json()["count"] == 2
    body = client.get("/api/cases?channel=letter").json()
    assert [item["title"] for item in body["items"]] == ["乙"]
    assert client.get("/api/cases?limit=100000").status_code == 422


def test_the_openapi_schema_lists_every_action(admin_user: Any) -> None:
    from jiefen.cases.actions import ACTIONS

    schema = api_client(admin_user).get("/api/openapi.json").json()
    paths = set(schema["paths"])
    for name in ACTIONS:
        assert f"/api/cases/{{case_id}}/{name.replace('_', '-')}" in paths
