"""Notifications: message templates, the one outbox every message passes through, and in-app messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiefen.core import crypto


class NotifyChannel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")
    WEBHOOK = "webhook", _("Webhook")
    INAPP = "inapp", _("站内消息")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败，等待重试")
    DEAD = "dead", _("发送失败，已放弃")


# Rows a delivery may claim: new ones and those waiting for their next attempt.
DELIVERABLE = (OutboxStatus.PENDING, OutboxStatus.FAILED)


class MessageTemplate(models.Model):
    """The text of one event's message on one channel, in Django template syntax (``{{ receipt_number }}``).
    Admins edit them; a data migration ships the defaults."""

    key = models.CharField(_("事件"), max_length=40)
    channel = models.CharField(_("渠道"), max_length=8, choices=NotifyChannel.choices)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("正文"))
    gateway_template = models.CharField(
        _("短信平台模板编号"), max_length=64, blank=True, help_text=_("短信网关要求报备模板时填写")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        ordering = ["key", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["key", "channel"], name="one_template_per_event_channel")
        ]

    def __str__(self) -> str:
        return f"{self.key} · {self.get_channel_display()}"


class Outbox(models.Model):
    """One message to one recipient. Written in the transaction of the change it reports; delivered after
    commit by claiming the row (pending/failed → sending) with a conditional UPDATE, so it is sent once.

    The recipient (a phone number or e-mail address) and the body (which may carry a query code) are personal
    data and stored encrypted; ``recipient_hint`` is the masked form shown to staff."""

    channel = models.CharField(_("渠道"), max_length=8, choices=NotifyChannel.choices)
    recipient_encrypted = models.TextField(default="")
    recipient_hint = models.CharField(_("收件人"), max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    template_key = models.CharField(_("事件"), max_length=40)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body_encrypted = models.TextField(default="")
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("信访件"),
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    # True when the message went to the outbox log instead of a real transport (embedded mode).
    logged_only = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("发件箱")
        verbose_name_plural = _("发件箱")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"),
            models.CheckConstraint(
                condition=Q(channel__in=NotifyChannel.values), name="outbox_channel_valid"
            ),
        ]
        indexes = [
            # The due sweep: deliverable rows by next attempt, and only those.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="outbox_due_idx",
            ),
            models.Index(fields=["status", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.template_key} → {self.recipient_hint}"

    @property
    def recipient(self) -> str:
        return crypto.decrypt(self.recipient_encrypted)

    @property
    def body(self) -> str:
        return crypto.decrypt(self.body_encrypted)

    @property
    def can_retry(self) -> bool:
        return self.status in (OutboxStatus.DEAD, OutboxStatus.FAILED)


class Message(models.Model):
    """An in-app message to a staff user, shown in their inbox."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages")
    outbox = models.OneToOneField(Outbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="message_unread_idx"),
        ]

    def __str__(self) -> str:
        return self.subject
