"""Facts about disputes (矛盾纠纷): who is in them, who mediates, what was said and agreed, and where they went."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiefen.core import crypto
from jiefen.mediation.workflow import OPEN_STATES, DisputeMove, DisputeStatus, moves_from


class DisputeKind(models.TextChoices):
    NEIGHBOURS = "neighbours", _("邻里纠纷")
    PROPERTY = "property", _("物业纠纷")
    LABOUR = "labour", _("劳动与欠薪纠纷")
    FAMILY = "family", _("婚姻家庭纠纷")
    LAND = "land", _("土地征收与拆迁纠纷")
    CONSUMER = "consumer", _("消费纠纷")
    OTHER = "other", _("其他纠纷")


class RiskLevel(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")


class MediatorKind(models.TextChoices):
    COMMITTEE = "committee", _("人民调解委员会")
    INDUSTRY = "industry", _("行业性专业调解")
    LAWYER = "lawyer", _("值班律师")
    COURT = "court", _("法院诉前调解")


class MediatorProfile(models.Model):
    """A mediator in the directory: a user with the mediator role, what they are good at, and how much they
    can carry. Their committee or organisation is their ``User.unit``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mediator_profile",
        verbose_name=_("用户"),
    )
    kind = models.CharField(_("调解类型"), max_length=16, choices=MediatorKind.choices)
    # DisputeKind values.
    specialities = models.JSONField(_("擅长领域"), default=list, blank=True)
    capacity = models.PositiveSmallIntegerField(_("同时在办上限"), default=10)
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("调解员")
        verbose_name_plural = _("调解员")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MediatorKind.values), name="mediator_kind_valid"),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def speciality_labels(self) -> list[str]:
        return [str(DisputeKind(k).label) for k in self.specialities if k in DisputeKind.values]


class Dispute(models.Model):
    """One dispute between people or organisations, taken in once, from a case or on its own."""

    number = models.CharField(_("纠纷编号"), max_length=32, unique=True)
    title = models.CharField(_("纠纷名称"), max_length=200)
    description = models.TextField(_("纠纷情况"))
    kind = models.CharField(_("纠纷类型"), max_length=16, choices=DisputeKind.choices)
    amount = models.DecimalField(_("争议金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    place_text = models.CharField(_("发生地点"), max_length=200, blank=True)
    place_unit = models.ForeignKey(
        "org.Unit", verbose_name=_("属地"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    risk_level = models.CharField(
        _("风险等级"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("来源信访件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disputes",
    )
    matter = models.ForeignKey(
        "cases.Matter",
        verbose_name=_("事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.REGISTERED
    )
    # Bumped by every move; a move made against a stale version is refused (optimistic concurrency).
    version = models.PositiveIntegerField(default=1)
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调解员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mediated_disputes",
    )
    # The mediator's committee or organisation when assigned (or the registering mediator's): its people see it.
    committee = models.ForeignKey(
        "org.Unit",
        verbose_name=_("调解组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="committee_disputes",
    )
    # The suggestion shown when the mediator was assigned, and whether it was followed (training data).
    assignment_reason = models.JSONField(default=dict, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    assigned_at = models.DateTimeField(null=True, blank=True)
    mediation_started_at = models.DateTimeField(null=True, blank=True)
    # When mediation ended: agreement signed, referred on, or withdrawn.
    concluded_at = models.DateTimeField(_("调解结束时间"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("矛盾纠纷")
        verbose_name_plural = _("矛盾纠纷")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DisputeStatus.values), name="dispute_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=DisputeKind.values), name="dispute_kind_valid"),
            models.CheckConstraint(condition=Q(risk_level__in=RiskLevel.values), name="dispute_risk_valid"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="dispute_amount_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["mediator", "status"]),
            models.Index(fields=["committee", "status"]),
            models.Index(fields=["kind", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def allowed_moves(self) -> list[DisputeMove]:
        return moves_from(self.status)

    def can(self, move: DisputeMove) -> bool:
        return move in self.allowed_moves()

    @property
    def days_taken(self) -> int | None:
        """Days from registration to the end of mediation, or None while it goes on."""
        if self.concluded_at is None:
            return None
        return (self.concluded_at - self.created_at).days


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    RESPONDENT = "respondent", _("被申请人")
    THIRD_PARTY = "third_party", _("第三人")


class PartyType(models.TextChoices):
    PERSON = "person", _("自然人")
    ORGANISATION = "organisation", _("单位")


class Consent(models.TextChoices):
    PENDING = "pending", _("未表态")
    GIVEN = "given", _("同意调解")
    REFUSED = "refused", _("拒绝调解")


class Party(models.Model):
    """A person or organisation in a dispute. Phone numbers are encrypted like petitioners'."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("当事人地位"), max_length=16, choices=PartyRole.choices)
    party_type = models.CharField(_("当事人类型"), max_length=16, choices=PartyType.choices)
    name = models.CharField(_("姓名或名称"), max_length=100)
    # For an organisation: its legal representative or the person it sends.
    representative = models.CharField(_("代表人"), max_length=50, blank=True)
    phone_encrypted = models.TextField(blank=True, default="")
    address = models.CharField(_("住所"), max_length=200, blank=True)
    consent = models.CharField(
        _("是否同意调解"), max_length=8, choices=Consent.choices, default=Consent.PENDING
    )
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["dispute", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=PartyRole.values), name="party_role_valid"),
            models.CheckConstraint(condition=Q(party_type__in=PartyType.values), name="party_type_valid"),
            models.CheckConstraint(condition=Q(consent__in=Consent.values), name="party_consent_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_encrypted)

    @property
    def masked_phone(self) -> str:
        return crypto.mask_phone(self.phone)

    def set_phone(self, value: str) -> None:
        normal = crypto.normalise_phone(value)
        self.phone_encrypted = crypto.encrypt(normal) if normal else ""


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    HELD = "held", _("已调解")
    CANCELLED = "cancelled", _("已取消")


class SessionOutcome(models.TextChoices):
    NONE = "", _("—")
    CONTINUE = "continue", _("继续调解")
    AGREED = "agreed", _("达成一致")
    FAILED = "failed", _("调解不成")


class Session(models.Model):
    """One mediation meeting (调解会)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="sessions")
    sequence = models.PositiveSmallIntegerField(_("次序"))
    scheduled_at = models.DateTimeField(_("调解时间"))
    place = models.CharField(_("调解地点"), max_length=200)
    participants = models.TextField(_("参加人员"))
    status = models.CharField(
        _("状态"), max_length=12, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    minutes = models.TextField(_("调解笔录"), blank=True)
    outcome = models.CharField(
        _("调解结果"), max_length=12, choices=SessionOutcome.choices, blank=True, default=""
    )
    held_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("调解会")
        verbose_name_plural = _("调解会")
        ordering = ["dispute", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["dispute", "sequence"], name="session_sequence_unique"),
            models.CheckConstraint(condition=Q(status__in=SessionStatus.values), name="session_status_valid"),
            models.CheckConstraint(
                condition=Q(outcome__in=SessionOutcome.values), name="session_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dispute.number} #{self.sequence}"


class TemplateKind(models.TextChoices):
    RECORD = "record", _("调解笔录")
    AGREEMENT = "agreement", _("人民调解协议书")


class DocumentTemplate(models.Model):
    """The text of a document with ``{{ placeholder }}`` fields, edited by admins; loaded by a data migration."""

    kind = models.CharField(_("文书类型"), max_length=16, choices=TemplateKind.choices, unique=True)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(
        _("正文"),
        help_text=_(
            "可用字段：{{ number }} 编号、{{ title }} 纠纷名称、{{ parties }} 当事人、{{ facts }} 纠纷情况、"
            "{{ mediator }} 调解员、{{ committee }} 调解组织、{{ session_time }} 调解时间、{{ session_place }} "
            "调解地点、{{ participants }} 参加人员、{{ minutes }} 笔录内容、{{ terms }} 协议内容、"
            "{{ performance_due }} 履行期限、{{ confirmation_notice }} 司法确认告知、{{ date }} 日期"
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("文书模板")
        verbose_name_plural = _("文书模板")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=TemplateKind.values), name="template_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.title


class MediationDocument(models.Model):
    """A document as generated: the template filled in at that moment. DOCX and PDF are drawn from ``body``,
    so what is downloaded later is what was generated, even after the template changes."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("文书类型"), max_length=16, choices=TemplateKind.choices)
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("正文"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("调解文书")
        verbose_name_plural = _("调解文书")
        ordering = ["dispute", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.dispute.number} {self.title}"


class ConfirmationStatus(models.TextChoices):
    NOT_APPLIED = "not_applied", _("未申请")
    APPLIED = "applied", _("已申请")
    CONFIRMED = "confirmed", _("法院裁定确认有效")
    REJECTED = "rejected", _("法院裁定驳回")


class Agreement(models.Model):
    """The mediation agreement (人民调解协议书), its signatures, and its court confirmation (司法确认).

    The parties may jointly apply to a court to confirm it within 30 days from when it takes effect (人民调解法
    Art. 33); ``confirmation_due_at`` is that window's end, computed by the deadline engine and stored."""

    dispute = models.OneToOneField(Dispute, on_delete=models.CASCADE, related_name="agreement")
    terms = models.TextField(_("协议内容"))
    performance_due = models.DateField(_("履行期限"), null=True, blank=True)
    document = models.ForeignKey(
        MediationDocument, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(default=timezone.now)
    # Set when the last party signs: the agreement takes effect.
    effective_at = models.DateTimeField(_("生效时间"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("履行完毕时间"), null=True, blank=True)
    confirmation_due_at = models.DateTimeField(_("申请司法确认截止"), null=True, blank=True)
    confirmation_status = models.CharField(
        _("司法确认"),
        max_length=16,
        choices=ConfirmationStatus.choices,
        default=ConfirmationStatus.NOT_APPLIED,
    )
    court = models.CharField(_("受理法院"), max_length=100, blank=True)
    applied_at = models.DateTimeField(_("申请时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("裁定时间"), null=True, blank=True)
    decision_number = models.CharField(_("裁定书文号"), max_length=64, blank=True)
    decision_note = models.TextField(_("裁定说明"), blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("调解协议")
        verbose_name_plural = _("调解协议")
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmation_status__in=ConfirmationStatus.values),
                name="agreement_confirmation_valid",
            ),
        ]
        indexes = [
            # The reminder job looks only at agreements still waiting for an application.
            models.Index(
                fields=["confirmation_due_at"],
                condition=Q(confirmation_status="not_applied", effective_at__isnull=False),
                name="agreement_confirm_due_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.dispute.number} 调解协议"

    @property
    def is_effective(self) -> bool:
        return self.effective_at is not None


class Signature(models.Model):
    """A party's signature on the agreement, as recorded by the mediator."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("签字")
        verbose_name_plural = _("签字")
        constraints = [models.UniqueConstraint(fields=["agreement", "party"], name="one_signature_per_party")]

    def __str__(self) -> str:
        return f"{self.party} {self.signed_at:%Y-%m-%d}"


class Performance(models.Model):
    """A follow-up of how the agreement is being carried out (履行回访)."""

    class Status(models.TextChoices):
        ONGOING = "ongoing", _("正在履行")
        FULFILLED = "fulfilled", _("履行完毕")
        BREACHED = "breached", _("未按约履行")

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="performance")
    status = models.CharField(_("履行情况"), max_length=12, choices=Status.choices)
    note = models.TextField(_("回访记录"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("履行回访")
        verbose_name_plural = _("履行回访")
        ordering = ["agreement", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["ongoing", "fulfilled", "breached"]), name="performance_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} {self.status}"


class ReferralChannel(models.TextChoices):
    ARBITRATION = "arbitration", _("仲裁")
    LITIGATION = "litigation", _("诉讼")
    ADMINISTRATIVE = "administrative", _("行政处理")


class Referral(models.Model):
    """Where a dispute went when mediation did not settle it, with the manifest of everything sent along."""

    dispute = models.OneToOneField(Dispute, on_delete=models.PROTECT, related_name="referral")
    channel = models.CharField(_("移交途径"), max_length=16, choices=ReferralChannel.choices)
    receiver = models.CharField(_("接收机构"), max_length=100)
    reason = models.TextField(_("调解不成的原因"))
    # Parties, sessions, documents, agreement: what the receiving body gets, as it was at referral.
    material = models.JSONField(default=dict)
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("移交")
        verbose_name_plural = _("移交")
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=ReferralChannel.values), name="referral_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dispute.number} → {self.receiver}"


class DisputeEventKind(models.TextChoices):
    REGISTERED = "registered", _("登记")
    MOVE = "move", _("状态变更")
    SUGGESTED = "suggested", _("推荐调解员")
    CONSENT = "consent", _("当事人表态")
    SESSION_SCHEDULED = "session_scheduled", _("安排调解")
    SESSION_HELD = "session_held", _("调解记录")
    DOCUMENT = "document", _("生成文书")
    AGREEMENT_DRAFTED = "agreement_drafted", _("起草调解协议")
    SIGNED = "signed", _("当事人签字")
    PERFORMANCE = "performance", _("履行回访")
    CONFIRMATION_REMINDER = "confirmation_reminder", _("司法确认提醒")
    CONFIRMATION_APPLIED = "confirmation_applied", _("申请司法确认")
    CONFIRMATION_DECIDED = "confirmation_decided", _("司法确认裁定")
    REFERRED = "referred", _("移交")


class DisputeEvent(models.Model):
    """Append-only history of a dispute; every change writes one in the same transaction."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=32, choices=DisputeEventKind.choices)
    move = models.CharField(max_length=16, choices=DisputeMove.choices, blank=True, default="")
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=60, blank=True, default="")
    note = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("调解记录")
        verbose_name_plural = _("调解记录")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["dispute", "created_at"])]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("dispute events are append-only and cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("dispute events are append-only and cannot be deleted")
