"""Clocks: the policy table that says how long each step may take, the working-day calendar, and the stored,
indexed clock rows the sweep watches."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeUnit(models.TextChoices):
    HOURS = "hours", _("小时")
    DAYS = "days", _("日")
    WORKDAYS = "workdays", _("工作日")


class ClockKind(models.TextChoices):
    ACCEPTANCE = "acceptance", _("受理告知")
    SIGN = "sign", _("签收")
    HANDLING = "handling", _("办理答复")
    FOLLOW_UP_WINDOW = "follow_up_window", _("回访评价期")
    REVIEW_REQUEST_WINDOW = "review_request_window", _("复查申请期")
    REVIEW_DECISION = "review_decision", _("复查决定")
    REEXAM_REQUEST_WINDOW = "reexam_request_window", _("复核申请期")
    REEXAM_DECISION = "reexam_decision", _("复核决定")
    RETURN_WINDOW = "return_window", _("退单期")
    SUPERVISION = "supervision", _("督办")


# Windows belong to the petitioner or a unit ("you may object until …"); passing one is not a breach by the
# office, so they never turn yellow or red, they simply expire.
WINDOW_KINDS = frozenset(
    {
        ClockKind.FOLLOW_UP_WINDOW,
        ClockKind.REVIEW_REQUEST_WINDOW,
        ClockKind.REEXAM_REQUEST_WINDOW,
        ClockKind.RETURN_WINDOW,
    }
)


class ClockPolicy(models.Model):
    """One row of the policy table. The most specific active row that matches a case wins: each of case type,
    channel, urgency and category that is set must match, and a deeper category beats a shallower one."""

    kind = models.CharField(_("时限"), max_length=24, choices=ClockKind.choices)
    case_type = models.CharField(_("诉求类型"), max_length=16, blank=True, default="")
    channel = models.CharField(_("渠道"), max_length=16, blank=True, default="")
    urgency = models.CharField(_("紧急程度"), max_length=16, blank=True, default="")
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    amount = models.PositiveIntegerField(_("时长"))
    unit = models.CharField(_("单位"), max_length=8, choices=TimeUnit.choices)
    warn_ratio = models.FloatField(
        _("预警比例"), default=0.8, help_text=_("用去多少比例的时间后黄色预警 (0–1)")
    )
    max_extension = models.PositiveIntegerField(_("最长延期"), default=0)
    legal_basis = models.CharField(_("依据"), max_length=200, blank=True)
    is_sample = models.BooleanField(_("样例值"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(warn_ratio__gt=0) & Q(warn_ratio__lte=1), name="policy_warn_ratio_range"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="policy_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.get_unit_display()}"


class CalendarDay(models.Model):
    """An admin's entry for one day: a public holiday, or a make-up working day (调休) on a weekend. It
    overrides the built-in calendar, so a new year's State Council notice can be loaded in the app."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("上班"), default=False)
    name = models.CharField(_("名称"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("节假日调休")
        verbose_name_plural = _("节假日调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class CalendarYear(models.Model):
    """Marks a year whose holidays an admin has entered in full, so it is no longer flagged as missing."""

    year = models.PositiveIntegerField(_("年份"), unique=True)
    is_complete = models.BooleanField(_("已完整录入"), default=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("日历年份")
        verbose_name_plural = _("日历年份")

    def __str__(self) -> str:
        return str(self.year)


class ClockState(models.TextChoices):
    RUNNING = "running", _("计时中")
    PAUSED = "paused", _("暂停")
    STOPPED = "stopped", _("已结束")
    EXPIRED = "expired", _("已届满")


class Colour(models.TextChoices):
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("预警")
    RED = "red", _("超期")


class Clock(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="clocks")
    assignment = models.ForeignKey(
        "cases.Assignment", null=True, blank=True, on_delete=models.CASCADE, related_name="clocks"
    )
    kind = models.CharField(max_length=24, choices=ClockKind.choices)
    policy = models.ForeignKey(
        ClockPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.PositiveIntegerField()
    unit = models.CharField(max_length=8, choices=TimeUnit.choices)
    warn_ratio = models.FloatField(default=0.8)
    started_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    warn_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=ClockState.choices, default=ClockState.RUNNING)
    colour = models.CharField(max_length=8, choices=Colour.choices, default=Colour.GREEN)
    paused_at = models.DateTimeField(null=True, blank=True)
    # While paused: what was left, in the clock's own unit.
    remaining = models.FloatField(null=True, blank=True)
    paused_seconds = models.FloatField(default=0)
    extended_by = models.PositiveIntegerField(default=0)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        constraints = [
            models.CheckConstraint(condition=Q(state__in=ClockState.values), name="clock_state_valid"),
            models.CheckConstraint(condition=Q(colour__in=Colour.values), name="clock_colour_valid"),
        ]
        indexes = [
            # The sweep's two questions, asked only of running clocks.
            models.Index(
                fields=["warn_at"], name="clock_warn_due", condition=Q(state="running", colour="green")
            ),
            models.Index(
                fields=["due_at"], name="clock_breach_due", condition=Q(state="running") & ~Q(colour="red")
            ),
            models.Index(fields=["case", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_window(self) -> bool:
        return self.kind in WINDOW_KINDS

    @property
    def can_extend(self) -> bool:
        return self.extended_by == 0 and self.state in (ClockState.RUNNING, ClockState.PAUSED)
