"""Taking petitions in: the citizen's submission (once per idempotency key), the desk registration, reception
days, field visits, one-time codes, the receipt notice, and the emergency check every intake runs."""

from __future__ import annotations

import hmac
import io
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from jiefen.cases.actors import Actor
from jiefen.cases.attachments import Upload, add_attachment
from jiefen.cases.intake import Intake, validate_intake
from jiefen.cases.models import Attachment, Case, Channel, Urgency
from jiefen.cases.queries import cases_visible_to
from jiefen.cases.services import Registered, add_note, enrichment, number_ahead, register_case
from jiefen.core import crypto
from jiefen.core.errors import Conflict, InvalidInput, NotAllowed
from jiefen.intake.guard import CODE_PER_IP, CODE_PER_PHONE, check_rate
from jiefen.intake.models import (
    FieldVisit,
    FieldVisitCase,
    IdempotencyKey,
    OneTimeCode,
    ReceptionSession,
    VisitLink,
)
from jiefen.language import emergency
from jiefen.language.text import case_text
from jiefen.org.models import Role, User

log = logging.getLogger("jiefen.intake")

IDEMPOTENCY_TTL = timedelta(hours=24)
CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
DESK_ROLES = (Role.RECEPTION_CLERK, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
VISIT_ROLES = (Role.FIELD_OFFICER, Role.RECEPTION_CLERK, Role.SUPERVISOR, Role.ADMIN)
DESK_CHANNELS = (Channel.WALK_IN, Channel.PHONE, Channel.LETTER, Channel.EMAIL)


# --- emergencies ------------------------------------------------------------------------------------------------


def emergency_enricher(case: Case) -> dict[str, Any]:
    """Intake enricher: a petition that needs 110/119/120 is made critical (特急) with its evidence stored."""
    # (the text the risk flags read: their emergency flag and this notice are one judgement)
    found = emergency.detect(case_text(case.title, case.content))
    if not found:
        return {}
    case.urgency = Urgency.CRITICAL
    return {
        "emergency": {
            "kinds": [e.kind for e in found],
            "numbers": emergency.numbers_for(found),
            "evidence": [e.evidence for e in found],
        }
    }


def emergency_numbers(case: Case) -> list[str]:
    data = (case.enrichment or {}).get("emergency") or {}
    numbers = data.get("numbers") if isinstance(data, dict) else None
    return [str(n) for n in numbers] if isinstance(numbers, list) else []


# --- the citizen's submission -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    case: Case
    query_code: str
    # True when this key had already been used: the same receipt is shown again, nothing new was stored.
    replayed: bool = False


def receipt_for_key(key: str) -> Receipt | None:
    """The receipt a key produced within ``IDEMPOTENCY_TTL``, or None."""
    found = (
        IdempotencyKey.objects.select_related("case")
        .filter(key=key, case__isnull=False, created_at__gte=timezone.now() - IDEMPOTENCY_TTL)
        .first()
    )
    if found is None or found.case is None:
        return None
    return Receipt(case=found.case, query_code=crypto.decrypt(found.query_code_encrypted), replayed=True)


def _check_uploads(uploads: Sequence[Upload]) -> None:
    if len(uploads) > settings.ATTACHMENT_MAX_COUNT:
        raise InvalidInput(f"每件最多上传 {settings.ATTACHMENT_MAX_COUNT} 个文件")


def _store_uploads(case: Case, actor: Actor, uploads: Sequence[Upload], **kwargs: Any) -> list[Attachment]:
    """Add the files; if one is refused, remove the files already written, and re-raise (the caller's
    transaction rolls the rows back)."""
    stored: list[Attachment] = []
    try:
        for upload in uploads:
            stored.append(add_attachment(case=case, actor=actor, upload=upload, **kwargs))
    except Exception:
        for attachment in stored:
            attachment.file.delete(save=False)
        raise
    return stored


def submit_petition(
    *,
    key: str,
    intake: Intake,
    actor: Actor,
    uploads: Sequence[Upload] = (),
    keep_location: bool = False,
    email: str = "",
) -> Receipt:
    """Register a petition from the portal or the API once per idempotency ``key``: a retry with the same key
    returns the first receipt. Bad input (fields or files) is refused with a message and nothing is stored.

    The key row is inserted with the case, in its statement: a retry (even a concurrent one, which blocks
    on the unique index until the first commits) fails that insert, is rolled back whole and is given the
    first receipt. Callers may look the key up first (``receipt_for_key``) to answer a retry before checking
    anything else.
    """
    validate_intake(intake)
    _check_uploads(uploads)

    def key_row(registered: Registered) -> list[IdempotencyKey]:
        return [
            IdempotencyKey(
                key=key, case=registered.case, query_code_encrypted=crypto.encrypt(registered.query_code)
            )
        ]

    # The number before the transaction (number_ahead), unless files come: one refused there would leave a gap.
    number = "" if uploads else number_ahead()
    try:
        # The text is analysed before the transaction opens (``analysed_first``), the rest in it.
        with enrichment.analysed_first([intake]), transaction.atomic():
            # The key is written before the files: a retry fails there and leaves no files behind.
            registered = register_case(
                intake=intake, actor=actor, rows_with_case=key_row, receipt_number=number
            )
            _store_uploads(registered.case, actor, uploads, by_petitioner=True, keep_location=keep_location)
    except IntegrityError:
        existing = receipt_for_key(key)
        if existing is None:
            raise Conflict("该提交正在处理中，请稍后刷新页面查看回执") from None
        return existing
    phone = intake.petitioner.phone if intake.petitioner else ""
    transaction.on_commit(
        lambda: notify_receipt(registered.case, query_code=registered.query_code, phone=phone, email=email)
    )
    return Receipt(case=registered.case, query_code=registered.query_code)


def purge_idempotency_keys(now: Any = None) -> int:
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def notify_receipt(case: Case, *, query_code: str, phone: str = "", email: str = "") -> list[str]:
    """Tell the person their receipt number and query code; the channels used.

    E-mail is sent here. SMS needs the gateway of the notifications module, which will call through this
    function; until it exists no SMS is sent.
    """
    sent: list[str] = []
    if email:
        body = (
            f"您的诉求已登记。\n受理编号：{case.receipt_number}\n查询码：{query_code}\n"
            f"请凭受理编号和查询码在网上信访平台查询办理进度。\n{settings.OFFICE_NAME}"
        )
        try:
            send_mail(f"诉求已登记：{case.receipt_number}", body, None, [email])
            sent.append("email")
        except Exception:  # the case is registered; a mail failure must not turn it into an error
            log.exception("receipt e-mail for %s failed", case.receipt_number)
    return sent


# --- one-time codes ("my cases") ----------------------------------------------------------------------------------


def _default_sms(phone: str, text: str) -> None:
    # No SMS gateway yet (the notifications module will provide one). In the embedded mode the code is logged so
    # a demo can be followed; in production nothing personal is logged.
    if settings.EMBEDDED:
        log.warning("SMS to %s (no gateway configured): %s", crypto.mask_phone(phone), text)
    else:
        log.error("SMS gateway not configured: one-time code to %s not sent", crypto.mask_phone(phone))


send_sms: Callable[[str, str], None] = _default_sms


def _code_hash(phone_hash: str, code: str) -> str:
    return crypto.lookup_hash(f"otp:{phone_hash}:{code.strip()}")


def _phone_of(value: str) -> str:
    phone = crypto.normalise_phone(value)
    if not (len(phone) == 11 and phone.startswith("1")):
        raise InvalidInput("请输入正确的 11 位手机号码")
    return phone


def issue_one_time_code(*, phone: str, ip: str) -> None:
    """Send a six-digit code to ``phone``, limited per phone and per address."""
    phone = _phone_of(phone)
    phone_hash = crypto.lookup_hash(phone)
    check_rate(CODE_PER_PHONE, phone_hash)
    check_rate(CODE_PER_IP, ip)
    code = f"{secrets.randbelow(1_000_000):06d}"
    OneTimeCode.objects.create(
        phone_hash=phone_hash, code_hash=_code_hash(phone_hash, code), expires_at=timezone.now() + CODE_TTL
    )
    send_sms(phone, f"您的查询验证码是 {code}，10 分钟内有效。如非本人操作请忽略。")


def verify_one_time_code(*, phone: str, code: str) -> str:
    """The phone's keyed hash when ``code`` is its latest live code; InvalidInput otherwise. A code is used
    once and allows ``CODE_MAX_ATTEMPTS`` wrong tries."""
    phone_hash = crypto.lookup_hash(_phone_of(phone))
    now = timezone.now()
    with transaction.atomic():
        current = (
            OneTimeCode.objects.select_for_update()
            .filter(phone_hash=phone_hash, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at", "-id")
            .first()
        )
        if current is None or current.attempts >= CODE_MAX_ATTEMPTS:
            raise InvalidInput("验证码已失效，请重新获取")
        if not hmac.compare_digest(current.code_hash, _code_hash(phone_hash, code or "")):
            OneTimeCode.objects.filter(pk=current.pk).update(attempts=current.attempts + 1)
            raise InvalidInput("验证码不正确")
        OneTimeCode.objects.filter(pk=current.pk).update(used_at=now)
    return phone_hash


# --- the desk: walk-in visits, calls and letters ------------------------------------------------------------------


def _desk_user(actor: Actor, roles: Sequence[str], message: str) -> User:
    if not isinstance(actor, User) or not actor.is_active or not actor.has_role(*roles):
        raise NotAllowed(message)
    return actor


def register_at_desk(
    *,
    intake: Intake,
    actor: Actor,
    uploads: Sequence[Upload] = (),
    session: ReceptionSession | None = None,
) -> Registered:
    """A clerk's record of a visit, call or letter (口头如实记录), with scanned material, optionally taken in at a
    leader's reception day. All or nothing."""
    _desk_user(actor, DESK_ROLES, "只有接访人员可以登记来访、来电和来信")
    if intake.channel not in DESK_CHANNELS:
        raise InvalidInput("请选择来访、来电、来信或电子邮件")
    validate_intake(intake)
    _check_uploads(uploads)
    with transaction.atomic():
        registered = register_case(intake=intake, actor=actor)
        _store_uploads(registered.case, actor, uploads)
        if session is not None:
            session.cases.add(registered.case)
    return registered


def create_reception_session(
    *, leader: User, date: date, place: str, topic: str = "", actor: Actor
) -> ReceptionSession:
    user = _desk_user(actor, DESK_ROLES, "只有接访人员可以安排领导接访日")
    place = (place or "").strip()
    if not place:
        raise InvalidInput("请填写接访地点")
    if len(place) > 200 or len(topic or "") > 200:
        raise InvalidInput("接访地点和主题不能超过 200 字")
    return ReceptionSession.objects.create(
        leader=leader, date=date, place=place, topic=(topic or "").strip(), created_by=user
    )


@dataclass
class Problem:
    """A problem found on site, to become a case."""

    title: str
    content: str
    case_type: str = "complaint"


def record_field_visit(
    *,
    actor: Actor,
    date: date,
    place: str,
    findings: str,
    people_met: str = "",
    attach_receipts: Sequence[str] = (),
    problems: Sequence[Problem] = (),
    photos: Sequence[Upload] = (),
    keep_location: bool = True,
) -> tuple[FieldVisit, list[Registered]]:
    """A field visit (实地走访 / 带案下访): noted on the cases it was made for, and each problem found on site
    registered as a case of channel ``field_visit`` (主动发现). Photos go onto every case of the visit; their
    location is kept by default, since where they were taken is the point. All or nothing."""
    officer = _desk_user(actor, VISIT_ROLES, "只有走访人员可以登记实地走访")
    place, findings = (place or "").strip(), (findings or "").strip()
    errors = []
    if not place:
        errors.append("请填写走访地点")
    if not findings:
        errors.append("请填写走访情况")
    if len(place) > 200:
        errors.append("走访地点不能超过 200 字")
    wanted = [r.strip().upper() for r in attach_receipts if r.strip()]
    attached = list(cases_visible_to(officer).filter(receipt_number__in=wanted))
    missing = sorted(set(wanted) - {c.receipt_number for c in attached})
    if missing:
        errors.append("找不到信访件：" + "、".join(missing))
    if photos and not (wanted or problems):
        errors.append("照片须附在信访件上：请关联已有信访件或登记走访发现的问题")
    if errors:
        raise InvalidInput("；".join(errors))
    intakes = [
        Intake(
            channel=Channel.FIELD_VISIT,
            case_type=p.case_type,
            title=p.title,
            content=p.content,
            place_text=place,
        )
        for p in problems
    ]
    for position, intake in enumerate(intakes, start=1):
        try:
            validate_intake(intake)
        except InvalidInput as exc:
            raise InvalidInput(f"问题 {position}：{exc.message}") from None
    _check_uploads(photos)
    data = [u.stream.read() for u in photos]  # read once, stored on each case of the visit
    with transaction.atomic():
        visit = FieldVisit.objects.create(
            officer=officer, date=date, place=place, people_met=(people_met or "").strip(), findings=findings
        )
        raised = [register_case(intake=intake, actor=officer) for intake in intakes]
        links = [FieldVisitCase(visit=visit, case=c, link=VisitLink.ATTACHED) for c in attached]
        links += [FieldVisitCase(visit=visit, case=r.case, link=VisitLink.RAISED) for r in raised]
        FieldVisitCase.objects.bulk_create(links)
        for case in attached:
            add_note(
                case=case,
                actor=officer,
                note=f"带案下访（{date:%Y-%m-%d}，{place}）：{findings}",
                data={"field_visit": visit.pk},
            )
        for case in [*attached, *(r.case for r in raised)]:
            _store_uploads(
                case,
                officer,
                [Upload(u.name, io.BytesIO(d)) for u, d in zip(photos, data, strict=True)],
                keep_location=keep_location,
            )
    return visit, raised
