"""Facts about how petitions come in: reception days, field visits, and the guards at the citizen's door."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReceptionSession(models.Model):
    """A leader's reception day (领导接访日): who received people, when, where, and the cases taken in."""

    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接访领导"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("接访日期"))
    place = models.CharField(_("接访地点"), max_length=200)
    topic = models.CharField(_("主题"), max_length=200, blank=True)
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="reception_sessions")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("领导接访日")
        verbose_name_plural = _("领导接访日")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.leader} {self.place}"


class FieldVisit(models.Model):
    """A visit on site (实地走访 / 带案下访). Problems found there become cases of channel ``field_visit``,
    counted as found proactively (主动发现)."""

    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("走访人员"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("走访日期"))
    place = models.CharField(_("走访地点"), max_length=200)
    people_met = models.TextField(_("走访对象"), blank=True)
    findings = models.TextField(_("走访情况"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("实地走访")
        verbose_name_plural = _("实地走访")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.place}"


class VisitLink(models.TextChoices):
    ATTACHED = "attached", _("带案下访")
    RAISED = "raised", _("走访发现")


class FieldVisitCase(models.Model):
    visit = models.ForeignKey(FieldVisit, on_delete=models.CASCADE, related_name="links")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="field_visit_links")
    link = models.CharField(max_length=12, choices=VisitLink.choices)

    class Meta:
        verbose_name = _("走访关联信访件")
        verbose_name_plural = _("走访关联信访件")
        constraints = [
            models.UniqueConstraint(fields=["visit", "case"], name="field_visit_case_unique"),
            models.CheckConstraint(
                condition=models.Q(link__in=VisitLink.values), name="field_visit_link_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.case_id} {self.link}"


class IdempotencyKey(models.Model):
    """A submission key generated with the form (or sent as ``Idempotency-Key``): a retried submission finds
    its key and gets the same receipt instead of a second case. The query code is kept encrypted so a retry
    can show it again; keys are purged after ``IDEMPOTENCY_TTL``."""

    key = models.CharField(max_length=64, unique=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    query_code_encrypted = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("提交幂等键")
        verbose_name_plural = _("提交幂等键")

    def __str__(self) -> str:
        return self.key


class OneTimeCode(models.Model):
    """A code sent to a phone to prove the person holds it ("my cases"). Only keyed hashes are stored."""

    phone_hash = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")

    def __str__(self) -> str:
        return f"{self.phone_hash[:8]} {self.created_at:%Y-%m-%d %H:%M}"
