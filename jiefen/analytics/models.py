"""Analytics: rollup tables filled from the case events, the weights of the overall score, hotspots, backlog
cases (积案) with their leaders (包案领导), campaigns (专项治理) and governance tasks (源头治理)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The counters of a rollup row, in the order the rollup job writes them. Each is a plain sum, so rows of any
# set of days, units, categories, channels and types add up to the figure for that set.
COUNTERS: tuple[str, ...] = (
    "received",  # cases received (by the day they were received)
    "accepted",
    "dispatched",  # lead assignments made (by the unit they went to)
    "replied",
    "closed",
    "handling_seconds",  # sum over replies of (reply − acceptance), seconds
    "response_due",  # sign clocks (签收时限) that came due: stopped on time, breached, or stopped late
    "response_met",
    "handling_due",  # handling clocks (办理答复时限) that came due, likewise
    "handling_met",
    "rated",  # ratings recorded (回访评价)
    "resolved",
    "partly",
    "satisfied",
    "basically",
    "unsatisfied",
    "unrated_closed",  # closed because the rating window passed without a rating
)


class DailyRollup(models.Model):
    """One day's counters for one combination of place (属地), handling unit (主办), category, channel and case
    type. Unit and category ids are plain integers (0 = none) so the key is a plain unique index that both
    databases can upsert on; the ids always name rows of ``org.Unit`` / ``cases.Category``."""

    day = models.DateField()
    place_unit = models.IntegerField(default=0)
    handling_unit = models.IntegerField(default=0)
    category = models.IntegerField(default=0)
    channel = models.CharField(max_length=16, default="")
    case_type = models.CharField(max_length=16, default="")
    received = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    replied = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)
    response_due = models.IntegerField(default=0)
    response_met = models.IntegerField(default=0)
    handling_due = models.IntegerField(default=0)
    handling_met = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    partly = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basically = models.IntegerField(default=0)
    unsatisfied = models.IntegerField(default=0)
    unrated_closed = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("日汇总")
        verbose_name_plural = _("日汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "place_unit", "handling_unit", "category", "channel", "case_type"],
                name="rollup_key_unique",
            )
        ]
        indexes = [models.Index(fields=["day"], name="rollup_day")]

    def __str__(self) -> str:
        return f"{self.day} u{self.place_unit}/{self.handling_unit} c{self.category}"


class DimensionRollup(models.Model):
    """The same counters summed over every other key, one dimension at a time: ``dim`` is "all", "channel",
    "case_type", "category", "place_unit" or "handling_unit" and ``key`` its value ("" for "all"). The
    unfiltered district dashboard reads these few hundred rows a day instead of the full cross-tabulation."""

    day = models.DateField()
    dim = models.CharField(max_length=16)
    key = models.CharField(max_length=32, default="")
    received = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    replied = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)
    response_due = models.IntegerField(default=0)
    response_met = models.IntegerField(default=0)
    handling_due = models.IntegerField(default=0)
    handling_met = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    partly = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basically = models.IntegerField(default=0)
    unsatisfied = models.IntegerField(default=0)
    unrated_closed = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("分维度日汇总")
        verbose_name_plural = _("分维度日汇总")
        constraints = [models.UniqueConstraint(fields=["dim", "day", "key"], name="dim_rollup_key_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.dim}={self.key}"


class RollupMark(models.Model):
    """The high-water mark of the rollup job: every case event with an id up to ``last_event_id`` is counted."""

    name = models.CharField(max_length=32, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} ≤ {self.last_event_id}"


class ScoreSettings(models.Model):
    """The weights of the overall score and the ranking threshold, edited by admins (one row)."""

    response_weight = models.FloatField(_("响应率权重"), default=0.2)
    resolution_weight = models.FloatField(_("解决率权重"), default=0.4)
    satisfaction_weight = models.FloatField(_("满意率权重"), default=0.4)
    on_time_weight = models.FloatField(_("按时办结率权重"), default=0.0)
    min_cases_for_ranking = models.PositiveIntegerField(
        _("参与排名的最少件数"), default=10, help_text=_("评价件数或到期件数少于此数的单位不参与排名")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("综合评分设置")
        verbose_name_plural = _("综合评分设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(response_weight__gte=0)
                & Q(resolution_weight__gte=0)
                & Q(satisfaction_weight__gte=0)
                & Q(on_time_weight__gte=0),
                name="score_weights_non_negative",
            )
        ]

    def __str__(self) -> str:
        return str(_("综合评分设置"))


class Trend(models.TextChoices):
    NEW = "new", _("新出现")
    RISING = "rising", _("上升")
    STEADY = "steady", _("平稳")
    FALLING = "falling", _("下降")


class Hotspot(models.Model):
    """Many cases about one problem at one place in one stretch of time, found by a hotspot run. A later run
    that finds the same group (same fingerprint) updates this row rather than adding another."""

    fingerprint = models.CharField(max_length=64, db_index=True)
    title = models.CharField(_("热点"), max_length=200)
    key_phrases = models.JSONField(default=list, blank=True)
    place = models.CharField(_("地点"), max_length=100, blank=True)
    place_unit = models.ForeignKey(
        "org.Unit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("属地")
    )
    started_at = models.DateTimeField(_("开始"))
    ended_at = models.DateTimeField(_("结束"))
    case_count = models.PositiveIntegerField(_("件数"), default=0)
    people_count = models.PositiveIntegerField(_("人数"), default=0)
    support_total = models.PositiveIntegerField(_("点赞数"), default=0)
    heat = models.FloatField(_("热度"), default=0)
    trend = models.CharField(_("趋势"), max_length=8, choices=Trend.choices, default=Trend.NEW)
    growth = models.FloatField(default=0)
    warning = models.BooleanField(_("预警"), default=False)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(default=timezone.now)
    members = models.ManyToManyField("cases.Case", related_name="hotspots", blank=True)

    class Meta:
        verbose_name = _("热点")
        verbose_name_plural = _("热点")
        ordering = ["-heat"]
        indexes = [models.Index(fields=["-heat"], name="hotspot_heat"), models.Index(fields=["ended_at"])]

    def __str__(self) -> str:
        return self.title


class HotspotRun(models.Model):
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    since = models.DateTimeField()
    until = models.DateTimeField()
    cases_scanned = models.PositiveIntegerField(default=0)
    hotspots_found = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.since:%Y-%m-%d}–{self.until:%Y-%m-%d}: {self.hotspots_found}"


class TaskStatus(models.TextChoices):
    OPEN = "open", _("治理中")
    DONE = "done", _("已完成")


class GovernanceTask(models.Model):
    """A hotspot turned into a governance task (源头治理) with an owner and a deadline; whether complaints then
    fall is measured against ``baseline_per_30d``."""

    hotspot = models.ForeignKey(
        Hotspot, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    title = models.CharField(_("治理任务"), max_length=200)
    key_phrases = models.JSONField(default=list, blank=True)
    place = models.CharField(_("地点"), max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("责任人")
    )
    unit = models.ForeignKey(
        "org.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("责任单位"),
    )
    deadline = models.DateField(_("期限"))
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    baseline_per_30d = models.FloatField(default=0)
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("治理任务")
        verbose_name_plural = _("治理任务")
        ordering = ["deadline"]

    def __str__(self) -> str:
        return self.title


class BacklogStatus(models.TextChoices):
    OPEN = "open", _("化解中")
    SETTLED = "settled", _("案结事了")
    CLOSED = "closed", _("已销号")


class BacklogCase(models.Model):
    """A backlog case (积案): a Matter found by the rules, owned by a named leader (包案领导) with a plan, a
    timeline and an outcome."""

    matter = models.OneToOneField("cases.Matter", on_delete=models.PROTECT, related_name="backlog")
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("信访件")
    )
    reasons = models.JSONField(default=list)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("包案领导"),
    )
    plan = models.TextField(_("化解方案"), blank=True)
    status = models.CharField(max_length=8, choices=BacklogStatus.choices, default=BacklogStatus.OPEN)
    outcome = models.TextField(_("化解结果"), blank=True)
    detected_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("积案")
        verbose_name_plural = _("积案")
        ordering = ["detected_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=BacklogStatus.values), name="backlog_status_valid")
        ]

    def __str__(self) -> str:
        return str(self.matter)


class BacklogStep(models.Model):
    """One entry of a backlog case's timeline (append-only)."""

    backlog = models.ForeignKey(BacklogCase, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=16)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.backlog_id} {self.kind}"


class Campaign(models.Model):
    """A focused drive (专项治理) on one kind of problem: the cases of a category subtree and/or matching key
    words, received within its dates."""

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("问题类型"), max_length=50, help_text=_("如 征地拆迁、物业管理、农民工讨薪"))
    category = models.ForeignKey(
        "cases.Category",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("分类"),
    )
    keywords = models.CharField(_("关键词"), max_length=200, blank=True, help_text=_("以逗号分隔"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    lead_unit = models.ForeignKey(
        "org.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("牵头单位"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("专项治理")
        verbose_name_plural = _("专项治理")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_dates_order"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.replace("，", ",").split(",") if k.strip()]
