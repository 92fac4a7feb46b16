"""Putting messages in the outbox and delivering them.

``enqueue`` writes the outbox row in the caller's transaction and, once that commits, hands its id to the
``deliver_outbox`` task (inline in the embedded mode and in tests). ``deliver`` claims the row with a
conditional UPDATE (pending/failed → sending): of two workers given the same row, one gets it and the other
sees 0 rows updated and stops, so a message is sent once. A temporary failure is retried with exponential
backoff and jitter until ``JIEFEN_NOTIFY_MAX_ATTEMPTS``, then the row is dead and shown to staff, who may
retry it. ``deliver_due`` (periodic) picks up rows whose next attempt is due, and rows whose after-commit
task was lost.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone

from jiefen.core import crypto
from jiefen.core.bulk import insert_unless_exists
from jiefen.core.errors import IllegalMove, InvalidInput
from jiefen.notify import transports
from jiefen.notify.models import DELIVERABLE, Message, MessageTemplate, NotifyChannel, Outbox, OutboxStatus

log = logging.getLogger(__name__)

BACKOFF_CAP = timedelta(hours=6)
# A row left "sending" this long was claimed by a worker that died mid-send; it is tried again (at least once
# delivery: the gateway may have got it, which is why every call carries the idempotency key).
STUCK_AFTER = timedelta(minutes=15)


@lru_cache(maxsize=256)
def _compiled(text: str) -> Template:
    return Template(text)


def render(text: str, context: dict[str, Any]) -> str:
    """A template as admins write it (``{{ receipt_number }}``); no HTML escaping, the output is plain text."""
    try:
        return _compiled(text).render(Context(context, autoescape=False)).strip()
    except TemplateSyntaxError as exc:
        raise InvalidInput(f"消息模板有语法错误：{exc}") from exc


_templates_lock = threading.Lock()
_templates: tuple[float, dict[tuple[str, str], MessageTemplate]] | None = None
TEMPLATE_CACHE_SECONDS = 60.0


def template_for(key: str, channel: str) -> MessageTemplate | None:
    """The active template, from a per-process cache of all of them (a minute at most behind an admin's
    edit in another process; ``clear_template_cache`` clears it in this one)."""
    global _templates
    now = time.monotonic()
    with _templates_lock:
        cached = _templates
    if cached is None or now - cached[0] > TEMPLATE_CACHE_SECONDS:
        table = {(t.key, t.channel): t for t in MessageTemplate.objects.filter(is_active=True)}
        cached = (now, table)
        with _templates_lock:
            _templates = cached
    return cached[1].get((key, channel))


def clear_template_cache() -> None:
    global _templates
    with _templates_lock:
        _templates = None


def _hint(channel: str, recipient: str) -> str:
    if channel == NotifyChannel.SMS:
        return crypto.mask_phone(recipient)
    if channel == NotifyChannel.EMAIL and "@" in recipient:
        name, _, domain = recipient.partition("@")
        return f"{name[:1]}***@{domain}"
    return recipient[:200]


def enqueue(
    *,
    channel: str,
    template_key: str,
    context: dict[str, Any],
    recipient: str = "",
    user: Any = None,
    case: Any = None,
    idempotency_key: str,
    payload: dict[str, Any] | None = None,
) -> Outbox | None:
    """Render the template for (``template_key``, ``channel``) and put the message in the outbox, in the
    caller's transaction; delivery starts when that transaction commits.

    ``recipient`` is a phone number (sms), an address (email) or a URL (webhook); an in-app message goes to
    ``user``. The same ``idempotency_key`` enqueued again returns the existing row and sends nothing more.
    Returns None when the template is switched off (admins silence a message that way)."""
    if channel not in NotifyChannel.values:
        raise InvalidInput(f"消息渠道“{channel}”无效")
    if channel == NotifyChannel.INAPP:
        if user is None or not getattr(user, "pk", None):
            raise InvalidInput("站内消息必须指定接收人")
        recipient = str(user.pk)
    elif not recipient:
        raise InvalidInput("没有收件人")
    if not idempotency_key or len(idempotency_key) > 200:
        raise InvalidInput("幂等键不能为空，也不能超过 200 个字符")
    template = template_for(template_key, channel)
    if channel == NotifyChannel.WEBHOOK and template is None:
        subject, body, gateway_template = template_key, "", ""
    elif template is None:
        return None
    else:
        subject, body = render(template.subject, context), render(template.body, context)
        gateway_template = template.gateway_template
    row = Outbox(
        channel=channel,
        recipient_encrypted=crypto.encrypt(recipient),
        recipient_hint=user.username if channel == NotifyChannel.INAPP else _hint(channel, recipient),
        user=user if channel == NotifyChannel.INAPP else None,
        template_key=template_key,
        subject=subject[:200],
        body_encrypted=crypto.encrypt(body),
        payload={"gateway_template": gateway_template, **(payload or {})},
        case=case if getattr(case, "pk", None) else None,
        idempotency_key=idempotency_key,
    )
    # Nothing to hand to a transport (in-app, or the embedded mode's log): done here, in the caller's
    # transaction, without the claim-and-send round trips; the log line is written only if it commits.
    local = channel == NotifyChannel.INAPP or not _TRANSPORTS[NotifyChannel(channel)][0]()
    if local:
        row.status, row.sent_at, row.attempts = OutboxStatus.SENT, timezone.now(), 1
        row.logged_only = channel != NotifyChannel.INAPP
    if not insert_unless_exists(row, unique="idempotency_key"):
        # The key was queued already (a repeat, or one racing in from another transaction that committed).
        return Outbox.objects.get(idempotency_key=idempotency_key)
    if not local:
        _schedule(row.pk)
    elif channel == NotifyChannel.INAPP:
        _post_message(row, body)
    else:
        envelope = _envelope(row, recipient=recipient, body=body)
        transaction.on_commit(lambda: transports.write_log(envelope), robust=True)
    return row


# channel → (is a transport configured?, send through it)
_TRANSPORTS = {
    NotifyChannel.SMS: (transports.sms_configured, transports.send_sms),
    NotifyChannel.EMAIL: (transports.email_configured, transports.send_email),
    NotifyChannel.WEBHOOK: (transports.webhook_configured, transports.send_webhook),
}


def _schedule(outbox_id: int) -> None:
    def start() -> None:
        from jiefen.notify.tasks import deliver_outbox

        deliver_outbox.delay(outbox_id)

    # robust: a broker that is down must not turn a committed change into an error page; deliver_due will
    # find the row.
    transaction.on_commit(start, robust=True)


def backoff(attempts: int, *, base: float | None = None, rng: random.Random | None = None) -> timedelta:
    """Wait before attempt ``attempts + 1``: base · 2^(attempts − 1), capped at 6 hours, with "equal jitter"
    (half fixed, half random) so rows that failed together do not retry together."""
    base_seconds = float(base if base is not None else settings.NOTIFY_BACKOFF_SECONDS)
    delay = min(BACKOFF_CAP.total_seconds(), base_seconds * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay / 2 + (rng or random).uniform(0, delay / 2))


def _envelope(row: Outbox, *, recipient: str | None = None, body: str | None = None) -> transports.Envelope:
    """What a transport gets; ``recipient`` and ``body`` in clear when the caller has them (saves decrypting)."""
    return transports.Envelope(
        id=row.pk,
        channel=row.channel,
        recipient=row.recipient if recipient is None else recipient,
        subject=row.subject,
        body=row.body if body is None else body,
        template_key=row.template_key,
        idempotency_key=row.idempotency_key,
        case_id=row.case_id,
        gateway_template=str(row.payload.get("gateway_template", "")),
        payload=row.payload,
    )


def _post_message(row: Outbox, body: str) -> None:
    """An in-app message is delivered by posting it to the user's inbox (once per outbox row)."""
    Message.objects.get_or_create(
        outbox=row,
        defaults={"user_id": row.user_id, "case_id": row.case_id, "subject": row.subject, "body": body},
    )


def _send(row: Outbox) -> bool:
    """Send one claimed row; True when it went to the outbox log instead of a transport."""
    if row.channel == NotifyChannel.INAPP:
        # Normally posted at enqueue; a row left pending by an older version is finished here.
        _post_message(row, row.body)
        return False
    envelope = _envelope(row)
    configured, sender = _TRANSPORTS[NotifyChannel(row.channel)]
    if not configured():
        transports.write_log(envelope)
        return True
    sender(envelope)
    return False


def deliver(*, outbox_id: int, now: datetime | None = None) -> str:
    """Claim and send one row; the status it ends in, or "skipped" when it was not ours to send (already
    sent, claimed by another worker, or not yet due)."""
    now = now or timezone.now()
    claimed = Outbox.objects.filter(pk=outbox_id, status__in=DELIVERABLE, next_attempt_at__lte=now).update(
        status=OutboxStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now
    )
    if not claimed:
        return "skipped"
    row = Outbox.objects.get(pk=outbox_id)
    try:
        logged = _send(row)
    except Exception as exc:
        permanent = isinstance(exc, transports.DeliveryError) and exc.permanent
        if not isinstance(exc, transports.DeliveryError):
            log.exception("outbox %s: unexpected error", outbox_id)
        error = str(exc)[:2000] or exc.__class__.__name__
        if permanent or row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            return _finish(row, OutboxStatus.DEAD, last_error=error)
        return _finish(
            row, OutboxStatus.FAILED, last_error=error, next_attempt_at=timezone.now() + backoff(row.attempts)
        )
    return _finish(row, OutboxStatus.SENT, sent_at=timezone.now(), logged_only=logged, last_error="")


def _finish(row: Outbox, status: str, **fields: Any) -> str:
    # Only the claimer writes the outcome: the row is still "sending" and claimed at our time.
    Outbox.objects.filter(pk=row.pk, status=OutboxStatus.SENDING, claimed_at=row.claimed_at).update(
        status=status, **fields
    )
    return status


@dataclass
class DueResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    unstuck: int = 0


def deliver_due(*, now: datetime | None = None, limit: int = 500) -> DueResult:
    """Deliver up to ``limit`` rows whose next attempt is due, oldest first. Safe to run in several processes
    at once: each row is claimed before it is sent."""
    now = now or timezone.now()
    result = DueResult()
    result.unstuck = Outbox.objects.filter(
        status=OutboxStatus.SENDING, claimed_at__lt=now - STUCK_AFTER
    ).update(status=OutboxStatus.FAILED, next_attempt_at=now, last_error="发送中断，将重试")
    due = list(
        Outbox.objects.filter(status__in=DELIVERABLE, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        outcome = deliver(outbox_id=pk, now=now)
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def retry(*, outbox: Outbox, actor: Any) -> Outbox:
    """Staff send a failed or dead message again, with a fresh count of attempts."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_office_staff:
        raise IllegalMove("只有信访办工作人员可以重发消息")
    with transaction.atomic():
        updated = Outbox.objects.filter(
            pk=outbox.pk, status__in=[OutboxStatus.DEAD, OutboxStatus.FAILED]
        ).update(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now())
        if not updated:
            raise IllegalMove("这条消息不是失败状态，无需重发")
        log.info("outbox %s: retry requested by %s", outbox.pk, actor)
        _schedule(outbox.pk)
    outbox.refresh_from_db()
    return outbox


def mark_read(*, message: Message, actor: Any) -> Message:
    if message.user_id != actor.pk:
        raise IllegalMove("不能操作别人的消息")
    if message.read_at is None:
        message.read_at = timezone.now()
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=message.read_at)
    return message


def mark_all_read(*, actor: Any) -> int:
    return Message.objects.filter(user=actor, read_at__isnull=True).update(read_at=timezone.now())
