"""Transports: how one message leaves the system. Plain functions over an ``Envelope``; no database.

Each raises ``PermanentFailure`` when sending again cannot help (an HTTP 4xx, a refused address) and
``TemporaryFailure`` when it may (HTTP 5xx, a timeout, a refused connection). A channel whose transport is
not configured writes the message to the outbox log instead (the embedded mode) and reports it as logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

SIGNATURE_HEADER = "X-Jiefen-Signature"


class DeliveryError(Exception):
    permanent = False


class PermanentFailure(DeliveryError):
    permanent = True


class TemporaryFailure(DeliveryError):
    permanent = False


@dataclass(frozen=True)
class Envelope:
    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    template_key: str
    idempotency_key: str
    case_id: int | None = None
    gateway_template: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


# --- the outbox log (embedded mode) -------------------------------------------------------------------------

_log_lock = threading.Lock()


def write_log(envelope: Envelope, path: Path | None = None) -> None:
    """One JSON line per message in ``JIEFEN_DATA_DIR/outbox.log``, so a trial office sees what would have
    been sent."""
    target = Path(path or settings.NOTIFY_LOG_FILE)
    line = json.dumps(
        {
            "id": envelope.id,
            "at": timezone.now().isoformat(),
            "channel": envelope.channel,
            "recipient": envelope.recipient,
            "template": envelope.template_key,
            "subject": envelope.subject,
            "body": envelope.body,
            "case": envelope.case_id,
            "key": envelope.idempotency_key,
        },
        ensure_ascii=False,
    )
    with _log_lock, target.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


# --- HTTP -----------------------------------------------------------------------------------------------------


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body``; the status on 2xx, else the failure it means (4xx permanent, the rest temporary)."""
    if not url.startswith(("http://", "https://")):
        raise PermanentFailure(f"地址不是 http(s)：{url[:80]}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace") if exc.fp else ""
        message = f"HTTP {exc.code} {detail}".strip()
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise PermanentFailure(message) from exc
        raise TemporaryFailure(message) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TemporaryFailure(f"连接失败：{getattr(exc, 'reason', exc)}") from exc


# --- SMS --------------------------------------------------------------------------------------------------------


def sms_configured() -> bool:
    return bool(settings.NOTIFY_SMS_URL)


def send_sms(envelope: Envelope) -> None:
    """POST to the SMS gateway: the phone, the gateway's template code with its parameters (gateways in China
    send only pre-registered templates) and the rendered text, with a bearer token."""
    body = json.dumps(
        {
            "phone": envelope.recipient,
            "template": envelope.gateway_template,
            "params": envelope.payload.get("params", {}),
            "content": envelope.body,
            "sign": settings.NOTIFY_SMS_SIGN,
            "request_id": envelope.idempotency_key,
        },
        ensure_ascii=False,
    ).encode("utf-8")
    headers = {"Authorization": f"Bearer {settings.NOTIFY_SMS_TOKEN}"} if settings.NOTIFY_SMS_TOKEN else {}
    post_json(settings.NOTIFY_SMS_URL, body, headers, settings.NOTIFY_TIMEOUT_SECONDS)


# --- e-mail ---------------------------------------------------------------------------------------------------


def email_configured() -> bool:
    return bool(settings.NOTIFY_SMTP_HOST)


def send_email(envelope: Envelope) -> None:
    """Through Django's SMTP backend with the notification server (``JIEFEN_SMTP_*``), whatever the
    project-wide ``EMAIL_BACKEND``. A 5xx reply is permanent, a 4xx or a broken connection temporary
    (RFC 5321 §4.2.1)."""
    try:
        connection = get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            fail_silently=False,
            host=settings.NOTIFY_SMTP_HOST,
            port=settings.NOTIFY_SMTP_PORT,
            username=settings.NOTIFY_SMTP_USER or None,
            password=settings.NOTIFY_SMTP_PASSWORD or None,
            use_tls=settings.NOTIFY_SMTP_TLS,
            timeout=settings.NOTIFY_TIMEOUT_SECONDS,
        )
        EmailMessage(
            subject=envelope.subject or envelope.template_key,
            body=envelope.body,
            from_email=settings.NOTIFY_SMTP_FROM,
            to=[envelope.recipient],
            connection=connection,
            headers={"X-Jiefen-Message": envelope.idempotency_key[:150]},
        ).send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentFailure(f"收件人被拒绝：{exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        message = f"SMTP {exc.smtp_code} {exc.smtp_error!r}"
        if exc.smtp_code >= 500:
            raise PermanentFailure(message) from exc
        raise TemporaryFailure(message) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(f"SMTP：{exc}") from exc


# --- webhooks -------------------------------------------------------------------------------------------------


def webhook_configured() -> bool:
    return bool(settings.NOTIFY_WEBHOOK_SECRET)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """For receivers: whether ``header`` (``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``) signs
    ``body`` with ``secret`` and is no older than ``tolerance`` seconds (so a captured call cannot be replayed
    later)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


def send_webhook(envelope: Envelope) -> None:
    body = json.dumps(
        {
            "id": envelope.id,
            "event": envelope.template_key,
            "case_id": envelope.case_id,
            "subject": envelope.subject,
            "text": envelope.body,
            "data": envelope.payload.get("data", {}),
            "idempotency_key": envelope.idempotency_key,
        },
        ensure_ascii=False,
        sort_keys=True,
    ).encode("utf-8")
    headers = {SIGNATURE_HEADER: sign(settings.NOTIFY_WEBHOOK_SECRET, int(time.time()), body)}
    post_json(envelope.recipient, body, headers, settings.NOTIFY_TIMEOUT_SECONDS)
