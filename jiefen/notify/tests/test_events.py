"""Case events → messages: who is told, through which channel, with which text; the inbox and its count."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from jiefen.notify.events import EVENT_ROUTES, notify_case_event
from jiefen.notify.models import Message, MessageTemplate, Outbox, OutboxStatus
from jiefen.notify.services import clear_template_cache


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_routed_template_is_shipped(db: Any) -> None:
    shipped = set(MessageTemplate.objects.values_list("key", "channel"))
    wanted = {
        (route.template_key, channel)
        for routes in EVENT_ROUTES.values()
        for route in routes
        for channel in route.channels
    }
    assert wanted <= shipped


def test_registration_texts_the_receipt_number_and_query_code_to_the_petitioner(
    make_case: Callable[..., Any], outbox_log: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # Registration queues the SMS itself; the query code is the one the petitioner was given.
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case()
    row = Outbox.objects.get(case=case, template_key="case_registered")
    assert (row.channel, row.status, row.recipient, row.case_id) == (
        "sms",
        OutboxStatus.SENT,
        "13800138000",
        case.pk,
    )
    logged = json.loads(outbox_log.read_text(encoding="utf-8").splitlines()[0])
    assert logged["body"].startswith(f"您的信访事项已登记，受理编号 {case.receipt_number}，查询码 ")
    code = logged["body"].split("查询码 ")[1][:8]
    from jiefen.cases.intake import query_code_matches

    assert query_code_matches(case, code)
    assert logged["body"].endswith("。请妥善保管查询码，凭编号和查询码可查询办理进展。石景山区信访办公室")


def test_an_anonymous_petitioner_is_not_texted(make_case: Callable[..., Any], outbox_log: Path) -> None:
    case = make_case(case_type="report", is_anonymous=True)
    assert notify_case_event(case=case, kind="accepted") == []


def test_a_dispatch_tells_the_unit_s_people_in_app_and_by_email_and_its_contact_phone(
    dispatched_case: Any,
    district: dict[str, Any],
    handler_a: Any,
    leader_a: Any,
    outsider_b: Any,
    outbox_log: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handler_a.email = "handler_a@example.org"
    handler_a.save(update_fields=["email"])
    street = district["street_a"]
    street.contact_phone = "01088886666"
    street.save(update_fields=["contact_phone"])
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify_case_event(case=dispatched_case, kind="dispatched")
    assert sorted((row.channel, row.recipient_hint) for row in rows) == [
        ("email", "h***@example.org"),
        ("inapp", "handler_a"),
        ("inapp", "leader_a"),
        ("sms", "010****6666"),
    ]
    message = Message.objects.get(user=handler_a)
    assert message.subject == f"新交办：{dispatched_case.receipt_number}「{dispatched_case.title}」"
    assert message.body.startswith(
        f"石景山区信访办公室将信访件 {dispatched_case.receipt_number}「{dispatched_case.title}」交八角街道办理"
    )
    assert not Message.objects.filter(user=outsider_b).exists()
    # The same event again (same case version) queues nothing more.
    assert {row.pk for row in notify_case_event(case=dispatched_case, kind="dispatched")} == {
        row.pk for row in rows
    }
    assert Outbox.objects.filter(template_key="case_dispatched").count() == 4


def test_a_breach_tells_the_lead_unit_and_the_supervisors(
    dispatched_case: Any,
    handler_a: Any,
    supervisor: Any,
    outbox_log: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notify_case_event(case=dispatched_case, kind="clock_breached", ref="clock-9", clock="签收时限")
    assert sorted(Message.objects.values_list("user__username", flat=True)) == ["handler_a", "supervisor"]
    body = Message.objects.get(user=handler_a).body
    assert body.startswith(
        f"信访件 {dispatched_case.receipt_number}「{dispatched_case.title}」签收时限已超期"
    )


def test_an_unknown_event_is_a_programming_error(make_case: Callable[..., Any]) -> None:
    with pytest.raises(ValueError):
        notify_case_event(case=make_case(), kind="no-such-event")


def test_a_switched_off_template_silences_its_message(
    make_case: Callable[..., Any], outbox_log: Path
) -> None:
    MessageTemplate.objects.filter(key="case_accepted").update(is_active=False)
    clear_template_cache()
    assert notify_case_event(case=make_case(), kind="accepted") == []


def test_webhooks_get_every_event(
    make_case: Callable[..., Any], gateway: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTIFY_WEBHOOK_URLS = [f"{gateway.url}/jiefen"]
    settings.NOTIFY_WEBHOOK_SECRET = "whsec-abcdefgh"
    settings.NOTIFY_SMS_URL = ""
    settings.NOTIFY_LOG_FILE = settings.DATA_DIR / "test-outbox.log"
    case = make_case()
    with django_capture_on_commit_callbacks(execute=True):
        notify_case_event(case=case, kind="accepted")
    (call,) = gateway.calls
    assert call.json["data"] == {
        "event": "accepted",
        "case_id": case.pk,
        "receipt_number": case.receipt_number,
        "status": case.status,
    }


def test_the_inbox_shows_messages_and_the_nav_counts_the_unread(
    dispatched_case: Any, handler_a: Any, outbox_log: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notify_case_event(case=dispatched_case, kind="dispatched")
        notify_case_event(case=dispatched_case, kind="urged", ref="urge-1", note="请三日内报告")
    client = logged_in(handler_a)
    page = client.get("/notify/inbox/").content.decode()
    assert "消息（2）" in page
    assert "催办意见：请三日内报告" in page
    first = Message.objects.filter(user=handler_a).order_by("pk").first()
    assert first is not None
    response = client.post(f"/notify/inbox/{first.pk}/open/")
    assert response.status_code == 302 and response["Location"] == f"/cases/{dispatched_case.pk}/"
    assert "消息（1）" in client.get("/notify/inbox/").content.decode()
    client.post("/notify/inbox/read-all/")
    page = client.get("/notify/inbox/").content.decode()
    assert "消息（" not in page


def test_no_one_opens_another_user_s_message_or_the_outbox_without_a_staff_role(
    dispatched_case: Any,
    handler_a: Any,
    outsider_b: Any,
    outbox_log: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notify_case_event(case=dispatched_case, kind="dispatched")
    message = Message.objects.get(user=handler_a)
    client = logged_in(outsider_b)
    assert client.post(f"/notify/inbox/{message.pk}/open/").status_code == 404
    message.refresh_from_db()
    assert message.read_at is None
    assert client.get("/notify/outbox/").status_code == 403
    row = Outbox.objects.first()
    assert row is not None
    assert client.post(f"/notify/outbox/{row.pk}/retry/").status_code == 404


def test_the_admin_refuses_a_template_with_broken_syntax(admin_user: Any) -> None:
    template = MessageTemplate.objects.get(key="case_accepted", channel="sms")
    response = logged_in(admin_user).post(
        f"/admin/notify/messagetemplate/{template.pk}/change/",
        {"key": "case_accepted", "channel": "sms", "subject": "", "body": "编号 {% if %}", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "模板语法错误" in response.content.decode()
    template.refresh_from_db()
    assert "{% if %}" not in template.body
