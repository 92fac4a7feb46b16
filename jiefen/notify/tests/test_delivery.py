"""Delivery through real transports on loopback: an HTTP SMS gateway, an SMTP server and a webhook receiver;
retries with backoff, permanent failures, idempotency and concurrent claims."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from jiefen.core import crypto
from jiefen.notify import transports
from jiefen.notify.models import Outbox, OutboxStatus
from jiefen.notify.services import backoff, deliver, deliver_due, enqueue

PHONE = "13800138000"


@pytest.fixture
def sms_gateway(gateway: Any, settings: Any) -> Any:
    settings.NOTIFY_SMS_URL = f"{gateway.url}/sms/send"
    settings.NOTIFY_SMS_TOKEN = "gateway-token-123"
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_BACKOFF_SECONDS = 10
    return gateway


def queue_sms(capture: Any, key: str = "k1", **context: Any) -> Outbox:
    with capture(execute=True), transaction.atomic():
        row = enqueue(
            channel="sms",
            template_key="case_accepted",
            context={"receipt_number": "SJS-20260304-00001", "office_name": "石景山区信访办公室", **context},
            recipient=PHONE,
            idempotency_key=key,
        )
    assert row is not None
    row.refresh_from_db()
    return row


def test_an_sms_is_posted_to_the_gateway_after_commit(
    db: Any, sms_gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    row = queue_sms(django_capture_on_commit_callbacks)
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 1
    assert row.logged_only is False
    (call,) = sms_gateway.calls
    assert call.path == "/sms/send"
    assert call.headers["Authorization"] == "Bearer gateway-token-123"
    assert call.json["phone"] == PHONE
    assert call.json["request_id"] == "k1"
    assert call.json["content"] == (
        "您的信访事项（编号 SJS-20260304-00001）已受理，我们将在法定期限内办理并书面答复。石景山区信访办公室"
    )
    # Personal data is not stored in the clear.
    assert PHONE not in row.recipient_encrypted
    assert row.recipient_hint == "138****8000"


def test_nothing_is_sent_when_the_transaction_rolls_back(
    db: Any, sms_gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom), transaction.atomic():
        enqueue(channel="sms", template_key="case_accepted", context={}, recipient=PHONE, idempotency_key="x")
        raise Boom
    assert sms_gateway.calls == []
    assert not Outbox.objects.exists()


def test_an_email_reaches_the_smtp_server(
    db: Any, smtp_server: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTIFY_SMTP_HOST, settings.NOTIFY_SMTP_PORT, settings.NOTIFY_SMTP_TLS = (
        smtp_server.host,
        smtp_server.port,
        False,
    )
    settings.NOTIFY_SMTP_FROM = "xinfang@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        row = enqueue(
            channel="email",
            template_key="case_urged",
            context={
                "receipt_number": "SJS-1",
                "title": "楼道堆物",
                "unit": "八角街道",
                "note": "三日内报告",
            },
            recipient="handler@example.org",
            idempotency_key="mail-1",
        )
    assert row is not None
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    ((mail_from, rcpt_tos, message),) = smtp_server.messages
    assert (mail_from, rcpt_tos) == ("xinfang@example.org", ["handler@example.org"])
    assert message["Subject"] == "催办：SJS-1"
    assert message.get_content().strip() == (
        "信访件 SJS-1「楼道堆物」办理进度滞后，请八角街道加快办理并及时报告进展。催办意见：三日内报告"
    )


def test_a_gateway_failing_with_500_is_retried_with_backoff_then_dead_and_shown_to_staff(
    sms_gateway: Any, django_capture_on_commit_callbacks: Any, supervisor: Any
) -> None:
    sms_gateway.status = 500
    started = timezone.now()
    row = queue_sms(django_capture_on_commit_callbacks)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    assert row.last_error.startswith("HTTP 500")
    # First wait: base 10 s with equal jitter, so 5–10 s.
    assert started + timedelta(seconds=5) <= row.next_attempt_at <= timezone.now() + timedelta(seconds=10)
    assert deliver_due(now=row.next_attempt_at - timedelta(seconds=1)).failed == 0  # not yet due
    assert len(sms_gateway.calls) == 1

    second = deliver_due(now=row.next_attempt_at + timedelta(seconds=1))
    assert (second.failed, second.dead) == (1, 0)
    row.refresh_from_db()
    assert row.attempts == 2
    assert timedelta(seconds=9) <= row.next_attempt_at - timezone.now() <= timedelta(seconds=20)  # 10–20 s

    third = deliver_due(now=row.next_attempt_at + timedelta(seconds=1))
    assert third.dead == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, 3)
    assert len(sms_gateway.calls) == 3
    assert deliver_due(now=timezone.now() + timedelta(days=1)).dead == 0  # dead rows are left alone

    client = Client()
    client.force_login(supervisor)
    page = client.get("/notify/outbox/").content.decode()
    assert "138****8000" in page and "case_accepted" in page and "发送失败，已放弃" in page

    sms_gateway.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/notify/outbox/{row.pk}/retry/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
    assert len(sms_gateway.calls) == 4


def test_a_4xx_from_the_gateway_is_a_permanent_failure_at_once(
    db: Any, sms_gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sms_gateway.status = 400
    row = queue_sms(django_capture_on_commit_callbacks)
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, 1)
    assert row.last_error.startswith("HTTP 400")
    assert deliver_due(now=timezone.now() + timedelta(days=1)).sent == 0
    assert len(sms_gateway.calls) == 1


def test_an_unreachable_gateway_is_a_temporary_failure(
    db: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.NOTIFY_SMS_URL = f"http://127.0.0.1:{port}/closed"
    row = queue_sms(django_capture_on_commit_callbacks)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    assert row.last_error.startswith("连接失败")


def test_the_same_key_enqueued_twice_is_sent_once(
    db: Any, sms_gateway: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first = queue_sms(django_capture_on_commit_callbacks, key="case:1:accepted")
    second = queue_sms(django_capture_on_commit_callbacks, key="case:1:accepted")
    assert first.pk == second.pk
    assert Outbox.objects.count() == 1
    assert len(sms_gateway.calls) == 1
    assert deliver(outbox_id=first.pk) == "skipped"  # already sent
    assert len(sms_gateway.calls) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_the_same_row_send_it_once(sms_gateway: Any) -> None:
    sms_gateway.delay = 0.3
    row = Outbox.objects.create(
        channel="sms",
        recipient_encrypted=crypto.encrypt(PHONE),
        template_key="case_accepted",
        body_encrypted=crypto.encrypt("测试"),
        idempotency_key="race-1",
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            barrier.wait()
            outcomes.append(deliver(outbox_id=row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["sent", "skipped"]
    assert len(sms_gateway.calls) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)


def test_a_webhook_is_signed_and_the_signature_verifies(
    db: Any, gateway: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTIFY_WEBHOOK_SECRET = "whsec-0123456789"
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(
            channel="webhook",
            template_key="case_dispatched",
            context={"receipt_number": "SJS-1", "title": "t", "unit": "八角街道"},
            recipient=f"{gateway.url}/hook",
            idempotency_key="hook-1",
            payload={"data": {"event": "dispatched", "case_id": 7}},
        )
    (call,) = gateway.calls
    header = call.headers[transports.SIGNATURE_HEADER]
    assert transports.verify_signature("whsec-0123456789", header, call.body)
    assert not transports.verify_signature("wrong-secret", header, call.body)
    assert not transports.verify_signature("whsec-0123456789", header, call.body.replace(b"7", b"8"))
    timestamp = int(header.split(",")[0][2:])
    assert not transports.verify_signature("whsec-0123456789", header, call.body, now=timestamp + 301)
    assert call.json["event"] == "case_dispatched"
    assert call.json["data"] == {"event": "dispatched", "case_id": 7}


def test_without_transports_messages_go_to_the_outbox_log(
    db: Any, outbox_log: Path, django_capture_on_commit_callbacks: Any
) -> None:
    row = queue_sms(django_capture_on_commit_callbacks, key="embedded-1")
    assert (row.status, row.logged_only) == (OutboxStatus.SENT, True)
    (line,) = outbox_log.read_text(encoding="utf-8").splitlines()
    logged = json.loads(line)
    assert (logged["id"], logged["channel"], logged["recipient"], logged["template"]) == (
        row.pk,
        "sms",
        PHONE,
        "case_accepted",
    )
    assert logged["body"].startswith("您的信访事项（编号 SJS-20260304-00001）已受理")


def test_a_row_left_sending_by_a_dead_worker_is_tried_again(
    db: Any, outbox_log: Path, django_capture_on_commit_callbacks: Any
) -> None:
    row = Outbox.objects.create(
        channel="sms",
        recipient_encrypted=crypto.encrypt(PHONE),
        template_key="case_accepted",
        idempotency_key="stuck-1",
        status=OutboxStatus.SENDING,
        attempts=1,
        claimed_at=timezone.now() - timedelta(minutes=16),
    )
    result = deliver_due()
    assert (result.unstuck, result.sent) == (1, 1)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    import random

    rng = random.Random(1)
    for attempts, low, high in ((1, 15, 30), (2, 30, 60), (3, 60, 120)):
        delay = backoff(attempts, base=30, rng=rng).total_seconds()
        assert low <= delay <= high
    assert backoff(40, base=30, rng=rng) <= timedelta(hours=6)
