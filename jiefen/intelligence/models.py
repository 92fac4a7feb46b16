"""Trained model files and staff corrections of suggested categories."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiefen.cases.models import Case, Category


class ModelKind(models.TextChoices):
    CLASSIFIER = "classifier", _("分类模型")
    VECTORIZER = "vectorizer", _("相似度向量模型")


class ModelVersion(models.Model):
    """One model file under ``DATA_DIR/models``. The active version of each kind is what intake uses; every
    web process notices a newer active version and loads it (see ``engine``)."""

    kind = models.CharField(_("类型"), max_length=16, choices=ModelKind.choices)
    version = models.PositiveIntegerField(_("版本"))
    path = models.CharField(_("文件"), max_length=500)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    metrics = models.JSONField(_("评估指标"), default=dict, blank=True)
    training_size = models.PositiveIntegerField(_("训练样本数"), default=0)
    source = models.CharField(_("训练数据"), max_length=200, blank=True, default="")
    active = models.BooleanField(_("启用"), default=False)

    class Meta:
        verbose_name = _("模型版本")
        verbose_name_plural = _("模型版本")
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="intelligence_model_kind_version"),
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(active=True), name="intelligence_one_active_model"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version}"


class Correction(models.Model):
    """A staff member's choice of category for a case, with what the model had suggested: training data."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="category_corrections")
    previous = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    suggested = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("分类更正")
        verbose_name_plural = _("分类更正")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.category_id}"

    @property
    def overrides_suggestion(self) -> bool:
        return self.suggested_id is not None and self.suggested_id != self.category_id
