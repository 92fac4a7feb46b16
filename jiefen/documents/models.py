"""Written documents: the templates admins edit, and each document issued, kept as the text it was issued
with (so a later template change never rewrites what a person received)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    ACCEPTANCE_NOTICE = "acceptance_notice", _("受理告知书")
    DECLINE_NOTICE = "decline_notice", _("不予受理告知书")
    TRANSFER_NOTICE = "transfer_notice", _("转送告知书")
    REPLY = "reply", _("答复意见书")


class DocumentTemplate(models.Model):
    """Django template text; each paragraph a line. Variables: see ``documents.services.context_for``."""

    kind = models.CharField(_("文书"), max_length=32, choices=DocumentKind.choices, unique=True)
    title = models.CharField(_("标题"), max_length=100)
    letterhead = models.CharField(_("文头"), max_length=100, blank=True)
    body = models.TextField(_("正文模板"))

    class Meta:
        verbose_name = _("文书模板")
        verbose_name_plural = _("文书模板")

    def __str__(self) -> str:
        return self.title


class IssuedDocument(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    number = models.CharField(_("文号"), max_length=40)
    title = models.CharField(max_length=100)
    letterhead = models.CharField(max_length=100, blank=True)
    text = models.TextField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("已出具文书")
        verbose_name_plural = _("已出具文书")
        ordering = ["issued_at", "id"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def paragraphs(self) -> list[str]:
        return [line.strip() for line in self.text.splitlines() if line.strip()]
