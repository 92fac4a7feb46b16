"""Formal supervision orders (督办) to a unit, with their own clock and answer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    OPEN = "open", _("督办中")
    ANSWERED = "answered", _("已反馈")
    CLOSED = "closed", _("已办结")


class SupervisionOrder(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="supervision_orders")
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("被督办单位"), on_delete=models.PROTECT, related_name="+"
    )
    instructions = models.TextField(_("督办要求"))
    status = models.CharField(max_length=12, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(_("反馈时限"))
    answer = models.TextField(_("反馈"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("督办单")
        verbose_name_plural = _("督办单")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="supervision_status_valid"
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.case.receipt_number} → {self.unit}"
