"""Facts about imports: saved column mappings and the record of each run."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportMapping(models.Model):
    """A saved mapping from our keys (title, text, time …) to the column names of another platform's export."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    columns = models.JSONField(
        _("字段对应"), default=dict, help_text=_('例如 {"id": "工单编号", "text": "诉求内容"}')
    )
    source = models.CharField(
        _("来源系统"), max_length=32, blank=True, help_text=_("外部编号所属的系统，如 12345")
    )
    channel = models.CharField(_("默认渠道"), max_length=16, blank=True, default="")
    case_type = models.CharField(_("默认诉求类型"), max_length=16, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("导入字段对应")
        verbose_name_plural = _("导入字段对应")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ImportRun(models.Model):
    """One run of an import. Rows are committed batch by batch: an interrupted run keeps what it wrote, and
    running the same file again skips the rows already there (same source and external id)."""

    file_name = models.CharField(_("文件"), max_length=255)
    path = models.CharField(max_length=500, blank=True, default="")
    source = models.CharField(_("来源系统"), max_length=32)
    columns = models.JSONField(default=dict)
    channel = models.CharField(max_length=16, default="import")
    case_type = models.CharField(max_length=16, default="complaint")
    status = models.CharField(_("状态"), max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING)
    rows_read = models.PositiveIntegerField(_("读取行数"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    skipped = models.PositiveIntegerField(_("已存在跳过"), default=0)
    rejected = models.PositiveIntegerField(_("拒绝"), default=0)
    notes = models.JSONField(default=dict, blank=True)
    rejects_file = models.CharField(max_length=500, blank=True, default="")
    error = models.TextField(blank=True, default="")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RunStatus.values), name="import_run_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} {self.started_at:%Y-%m-%d %H:%M}"
