"""Routing rules: an ordered table, edited by admins, that suggests who should handle a case."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiefen.cases.models import CaseType, Category, Channel


class Target(models.TextChoices):
    UNIT = "unit", _("指定单位")
    JURISDICTION_STREET = "jurisdiction_street", _("属地街道")
    JURISDICTION_COMMUNITY = "jurisdiction_community", _("属地社区")


class KeywordMode(models.TextChoices):
    ANY = "any", _("任一关键词")
    ALL = "all", _("全部关键词")


WEEKDAY_NAMES = ("一", "二", "三", "四", "五", "六", "日")


def split_words(text: str) -> list[str]:
    """Keywords as an admin types them: separated by commas (half or full width), 、, spaces or new lines."""
    for sep in ("，", "、", "\n", " ", "\u3000"):
        text = text.replace(sep, ",")
    return [word.strip() for word in text.split(",") if word.strip()]


class RoutingRule(models.Model):
    """One row of the routing table. Rules are tried in ``order``; the first whose every filled-in condition
    holds decides the suggestion. An empty condition matches everything."""

    name = models.CharField(_("名称"), max_length=100)
    order = models.PositiveIntegerField(_("顺序"), default=100, help_text=_("数字小的先匹配"))
    is_active = models.BooleanField(_("启用"), default=True)

    category = models.ForeignKey(
        Category,
        verbose_name=_("分类（含下级）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    case_type = models.CharField(_("诉求类型"), max_length=16, choices=CaseType.choices, blank=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices, blank=True)
    keywords = models.TextField(_("关键词"), blank=True, help_text=_("以逗号、顿号或换行分隔"))
    keyword_mode = models.CharField(
        _("关键词匹配"), max_length=3, choices=KeywordMode.choices, default=KeywordMode.ANY
    )
    place_unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("属地范围（含下级）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    weekdays = models.CharField(
        _("星期"), max_length=20, blank=True, help_text=_("1–7 表示周一到周日，以逗号分隔；留空表示每天")
    )
    time_from = models.TimeField(_("开始时间"), null=True, blank=True)
    time_to = models.TimeField(
        _("结束时间"), null=True, blank=True, help_text=_("早于开始时间表示跨越午夜，如 18:00–08:00")
    )

    target = models.CharField(
        _("主办"), max_length=24, choices=Target.choices, default=Target.JURISDICTION_STREET
    )
    lead_unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("主办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("主办为“指定单位”时必填"),
    )
    assist_units = models.ManyToManyField(
        "org.Unit", verbose_name=_("协办单位"), blank=True, related_name="+"
    )
    assist_jurisdiction = models.BooleanField(_("属地街道协办"), default=False)
    assist_property_company = models.BooleanField(_("小区物业公司协办"), default=False)
    note = models.TextField(_("说明"), blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单规则")
        ordering = ["order", "pk"]
        indexes = [models.Index(fields=["is_active", "order"])]

    def __str__(self) -> str:
        return f"#{self.order} {self.name}"

    @property
    def keyword_list(self) -> list[str]:
        return split_words(self.keywords)

    @property
    def weekday_set(self) -> frozenset[int]:
        return frozenset(int(day) for day in split_words(self.weekdays) if day.isdigit())

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.target == Target.UNIT and self.lead_unit_id is None:
            errors["lead_unit"] = str(_("主办为“指定单位”时必须选择主办单位"))
        if (self.time_from is None) != (self.time_to is None):
            errors["time_to"] = str(_("开始时间和结束时间必须同时填写"))
        days = split_words(self.weekdays)
        if any(not day.isdigit() or not 1 <= int(day) <= 7 for day in days):
            errors["weekdays"] = str(_("星期只能填 1 到 7 的数字"))
        if errors:
            raise ValidationError(errors)
