"""Facts about petitions: who brought them, what they are about, who must solve them, and what happened."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiefen.cases.workflow import (
    ASSIGNMENT_OPEN,
    OPEN_STATES,
    AssignmentStatus,
    CaseStatus,
    Move,
    moves_from,
)
from jiefen.core import crypto


class Channel(models.TextChoices):
    WEB = "web", _("网上信访")
    MOBILE = "mobile", _("掌上信访")
    WALK_IN = "walk_in", _("来访")
    PHONE = "phone", _("来电")
    LETTER = "letter", _("来信")
    EMAIL = "email", _("电子邮件")
    FIELD_VISIT = "field_visit", _("实地走访")
    HOTLINE_12345 = "hotline_12345", _("12345热线")
    IMPORT = "import", _("导入")
    API = "api", _("接口")


class CaseType(models.TextChoices):
    CONSULT = "consult", _("咨询")
    HELP = "help", _("求助")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报/检举")
    SUGGESTION = "suggestion", _("建议")
    APPEAL = "appeal", _("申诉求决")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


class ClockColour(models.TextChoices):
    NONE = "none", _("无时限")
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("预警")
    RED = "red", _("超期")


class Category(models.Model):
    """A node of the office's own taxonomy (物业管理 › 停车管理 › 无序停车)."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    full_name = models.CharField(max_length=255, editable=False, default="")
    synonyms = models.TextField(_("同义词/关键词"), blank=True, help_text=_("以逗号或换行分隔"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("分类")
        verbose_name_plural = _("分类")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.full_name or self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        path = f"{self.parent.path if self.parent else '/'}{self.pk}/"
        full_name = f"{self.parent.full_name} › {self.name}" if self.parent else self.name
        if (self.path, self.full_name) != (path, full_name):
            self.path, self.full_name = path, full_name
            super().save(update_fields=["path", "full_name"])

    @property
    def synonym_list(self) -> list[str]:
        return [
            s.strip() for s in self.synonyms.replace("，", ",").replace("\n", ",").split(",") if s.strip()
        ]


class Petitioner(models.Model):
    """A person who brings a petition. Phone and ID number are encrypted; they are found by keyed hash."""

    name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone_encrypted = models.TextField(blank=True, default="")
    phone_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    id_number_encrypted = models.TextField(blank=True, default="")
    id_number_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("信访人")
        verbose_name_plural = _("信访人")

    def __str__(self) -> str:
        return crypto.mask_name(self.name) or str(_("匿名"))

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_encrypted)

    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_encrypted)

    @property
    def masked_phone(self) -> str:
        return crypto.mask_phone(self.phone)

    @property
    def masked_id_number(self) -> str:
        return crypto.mask_id_number(self.id_number)

    def set_phone(self, value: str) -> None:
        normal = crypto.normalise_phone(value)
        self.phone_encrypted = crypto.encrypt(normal)
        self.phone_hash = crypto.lookup_hash(normal)

    def set_id_number(self, value: str) -> None:
        normal = crypto.normalise_id_number(value)
        self.id_number_encrypted = crypto.encrypt(normal)
        self.id_number_hash = crypto.lookup_hash(normal)


class MatterStatus(models.TextChoices):
    OPEN = "open", _("处理中")
    SETTLED = "settled", _("案结事了")
    FINAL = "final", _("已终结")


class Matter(models.Model):
    """The underlying problem; repeat and joint petitions about it share one Matter."""

    title = models.CharField(_("事项"), max_length=200)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    place_text = models.CharField(_("地点"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=MatterStatus.choices, default=MatterStatus.OPEN
    )
    final_at = models.DateTimeField(_("终结时间"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("事项")
        verbose_name_plural = _("事项")

    def __str__(self) -> str:
        return self.title


class Case(models.Model):
    """One petition as received through one channel."""

    receipt_number = models.CharField(_("受理编号"), max_length=32, unique=True)
    query_code_hash = models.CharField(max_length=64, editable=False)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    case_type = models.CharField(_("诉求类型"), max_length=16, choices=CaseType.choices)
    title = models.CharField(_("标题"), max_length=200)
    content = models.TextField(_("内容"))
    place_text = models.CharField(_("地点"), max_length=200, blank=True)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    # (No single-column indexes on these two: Meta's (column, -created_at) indexes serve their look-ups, and
    # every index is one more write per imported case.)
    jurisdiction_unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("属地单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    people_count = models.PositiveIntegerField(_("人数"), default=1)
    is_group = models.BooleanField(_("集体访"), default=False)
    confidential = models.BooleanField(_("检举人身份保密"), default=False)
    is_anonymous = models.BooleanField(_("匿名"), default=False)
    petitioner = models.ForeignKey(
        Petitioner,
        verbose_name=_("信访人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    representatives = models.ManyToManyField(Petitioner, blank=True, related_name="represented_cases")
    matter = models.ForeignKey(Matter, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(_("外部编号"), max_length=64, blank=True, default="")
    external_source = models.CharField(_("来源系统"), max_length=32, blank=True, default="")
    support_count = models.PositiveIntegerField(default=0)
    oppose_count = models.PositiveIntegerField(default=0)

    status = models.CharField(
        _("状态"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.REGISTERED
    )
    # Bumped by every move; a move made against a stale version is refused (optimistic concurrency).
    version = models.PositiveIntegerField(default=1)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    # Denormalised from the case's running clock by the deadline engine, for the list filters.
    due_at = models.DateTimeField(_("办理时限"), null=True, blank=True)
    clock_colour = models.CharField(max_length=8, choices=ClockColour.choices, default=ClockColour.NONE)
    enrichment = models.JSONField(default=dict, blank=True)
    # Set when the language analysis runs in the background (``INTAKE_ENRICHMENT = "background"``) and is not
    # done yet (``cases.services.enrichment.enrich_pending``).
    enrichment_pending = models.BooleanField(default=False)

    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    received_at = models.DateTimeField(_("来信来访时间"), default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("信访件")
        verbose_name_plural = _("信访件")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="case_status_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="case_channel_valid"),
            models.CheckConstraint(condition=Q(case_type__in=CaseType.values), name="case_type_valid"),
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=~Q(external_id=""),
                name="case_external_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["jurisdiction_unit", "-created_at"]),
            models.Index(fields=["category", "-created_at"]),
            models.Index(fields=["clock_colour", "due_at"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["id"], condition=Q(enrichment_pending=True), name="case_enrichment_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def is_overdue(self) -> bool:
        return self.clock_colour == ClockColour.RED

    def allowed_moves(self) -> list[Move]:
        return moves_from(self.status)

    def can(self, move: Move) -> bool:
        return move in self.allowed_moves()

    @property
    def lead_assignment(self) -> Assignment | None:
        return (
            self.assignments.filter(
                role=AssignmentRole.LEAD, status__in=ASSIGNMENT_OPEN | {AssignmentStatus.REPLIED}
            )
            .order_by("-assigned_at")
            .first()
        )


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("主办")
    ASSIST = "assist", _("协办")


class ReturnDecision(models.TextChoices):
    NONE = "", _("未审核")
    UPHELD = "upheld", _("同意退单")
    OVERRULED = "overruled", _("驳回退单")


class Assignment(models.Model):
    """A task for one unit on one case (交办). A unit may pass its task down (``parent``) and stays
    responsible for it (首接负责)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("承办单位"), on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("角色"), max_length=8, choices=AssignmentRole.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    instructions = models.TextField(_("交办意见"), blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(_("退单理由"), blank=True)
    return_decision = models.CharField(max_length=12, choices=ReturnDecision.choices, blank=True, default="")
    return_due_at = models.DateTimeField(_("退单时限"), null=True, blank=True)

    class Meta:
        verbose_name = _("交办")
        verbose_name_plural = _("交办")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AssignmentStatus.values), name="assignment_status_valid"
            ),
            models.CheckConstraint(condition=Q(role__in=AssignmentRole.values), name="assignment_role_valid"),
        ]
        indexes = [models.Index(fields=["unit", "status"])]

    def __str__(self) -> str:
        return f"{self.case.receipt_number} → {self.unit} ({self.get_role_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in ASSIGNMENT_OPEN


class Attachment(models.Model):
    """A file brought with a case, stored outside the database; its type was checked by content."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/", max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by_petitioner = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.original_name


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("登记")
    MOVE = "move", _("状态变更")
    ASSIGNED = "assigned", _("交办")
    ASSIGNMENT_SIGNED = "assignment_signed", _("签收")
    ASSIGNMENT_RETURNED = "assignment_returned", _("退单")
    RETURN_REVIEWED = "return_reviewed", _("退单审核")
    ASSIGNMENT_REPLIED = "assignment_replied", _("承办单位回复")
    ASSIGNMENT_PASSED_DOWN = "assignment_passed_down", _("转派")
    NOTE = "note", _("办理记录")
    ATTACHMENT_ADDED = "attachment_added", _("添加材料")
    CLOCK_STARTED = "clock_started", _("计时开始")
    CLOCK_PAUSED = "clock_paused", _("计时暂停")
    CLOCK_RESUMED = "clock_resumed", _("计时恢复")
    CLOCK_EXTENDED = "clock_extended", _("延期")
    CLOCK_STOPPED = "clock_stopped", _("计时结束")
    CLOCK_WARNING = "clock_warning", _("时限预警")
    CLOCK_BREACHED = "clock_breached", _("超期")
    EXTENSION_REQUESTED = "extension_requested", _("申请延期")
    EXTENSION_DECIDED = "extension_decided", _("延期审批")
    FEEDBACK = "feedback", _("评价")
    PERSONAL_DATA_VIEWED = "personal_data_viewed", _("查看个人信息")
    ENRICHED = "enriched", _("智能分析")
    FIELD_CHANGED = "field_changed", _("信息修改")
    URGED = "urged", _("催办")
    SUPERVISION_ORDERED = "supervision_ordered", _("督办")
    SUPERVISION_ANSWERED = "supervision_answered", _("督办反馈")
    ESCALATED = "escalated", _("提交领导")
    NOTICE_ISSUED = "notice_issued", _("出具告知书")


class ActionKind(models.TextChoices):
    NOTE = "note", _("办理记录")
    CALL = "call", _("电话联系")
    VISIT = "visit", _("上门走访")
    MEETING = "meeting", _("约谈协调")
    ASSISTANCE = "assistance", _("帮扶救助")
    COUNSELLING = "counselling", _("思想疏导")
    MEDIATION_REFERRAL = "mediation_referral", _("转调解")


class CaseEvent(models.Model):
    """Append-only history of a case; every state change writes one in the same transaction."""

    # (Meta's (case, created_at) index serves look-ups by case.)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    move = models.CharField(max_length=24, choices=Move.choices, blank=True, default="")
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=60, blank=True, default="")
    note = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    # Shown on the citizen's public timeline.
    is_public = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"]), models.Index(fields=["kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("case events are append-only and cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("case events are append-only and cannot be deleted")


class Reply(models.Model):
    """The written answer (答复意见). Facts, basis, conclusion and the review-rights notice are all required
    before it can be sent (信访工作条例 Art. 32, 35)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="replies")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    facts = models.TextField(_("事实"))
    basis = models.TextField(_("依据"))
    conclusion = models.TextField(_("结论"))
    review_rights = models.TextField(_("复查权利告知"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("答复意见")
        verbose_name_plural = _("答复意见")

    def __str__(self) -> str:
        return f"{self.case.receipt_number} {self.created_at:%Y-%m-%d}"


class Resolved(models.TextChoices):
    RESOLVED = "resolved", _("已解决")
    PARTLY = "partly", _("部分解决")
    NOT_RESOLVED = "not_resolved", _("未解决")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    NOT_SATISFIED = "not_satisfied", _("不满意")


class Feedback(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="feedback")
    resolved = models.CharField(_("是否解决"), max_length=16, choices=Resolved.choices)
    satisfaction = models.CharField(_("是否满意"), max_length=16, choices=Satisfaction.choices)
    comment = models.TextField(_("意见"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")

    def __str__(self) -> str:
        return f"{self.case.receipt_number} {self.satisfaction}"


class Review(models.Model):
    """复查 (level 1) or 复核 (level 2)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reviews")
    level = models.PositiveSmallIntegerField(choices=[(1, _("复查")), (2, _("复核"))])
    reason = models.TextField(_("理由"))
    requested_at = models.DateTimeField(default=timezone.now)
    decision = models.TextField(_("决定"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("复查复核")
        verbose_name_plural = _("复查复核")
        constraints = [models.UniqueConstraint(fields=["case", "level"], name="one_review_per_level")]

    def __str__(self) -> str:
        return f"{self.case.receipt_number} L{self.level}"


class ReceiptCounter(models.Model):
    """Per-day sequence behind receipt numbers; incremented with a single conditional UPDATE."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day} {self.last}"


class ExtensionStatus(models.TextChoices):
    REQUESTED = "requested", _("待单位负责人审批")
    UNIT_APPROVED = "unit_approved", _("待信访办审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


class ExtensionRequest(models.Model):
    """A unit's request for more time to handle a case: approved by its leader, then by the petition office
    (信访工作条例 Art. 34: at most 30 more days, once)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="extension_requests")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    days = models.PositiveSmallIntegerField(_("延期天数"))
    reason = models.TextField(_("理由"))
    status = models.CharField(
        max_length=16, choices=ExtensionStatus.choices, default=ExtensionStatus.REQUESTED
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    unit_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    office_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExtensionStatus.values), name="extension_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case.receipt_number} +{self.days}"
