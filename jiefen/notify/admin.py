from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import Template, TemplateSyntaxError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiefen.core.errors import DomainError
from jiefen.notify.models import Message, MessageTemplate, Outbox
from jiefen.notify.services import clear_template_cache, retry


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ("key", "channel", "subject", "body", "gateway_template", "is_active")

    def _checked(self, name: str) -> str:
        value: str = self.cleaned_data.get(name, "")
        try:
            Template(value)
        except TemplateSyntaxError as exc:
            raise forms.ValidationError(_("模板语法错误：%(error)s"), params={"error": exc}) from exc
        return value

    def clean_subject(self) -> str:
        return self._checked("subject")

    def clean_body(self) -> str:
        return self._checked("body")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ("key", "channel", "subject", "gateway_template", "is_active", "updated_at")
    list_filter = ("channel", "is_active")
    search_fields = ("key", "subject", "body")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
        clear_template_cache()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        clear_template_cache()


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "template_key",
        "channel",
        "recipient_hint",
        "status",
        "attempts",
        "last_error",
    )
    list_filter = ("status", "channel", "template_key")
    search_fields = ("template_key", "recipient_hint", "case__receipt_number")
    readonly_fields = [
        f.name for f in Outbox._meta.fields if f.name not in ("recipient_encrypted", "body_encrypted")
    ]
    exclude = ("recipient_encrypted", "body_encrypted")
    actions = ["retry_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("重发选中的失败消息"))
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Outbox]) -> None:
        done = 0
        for row in queryset:
            try:
                retry(outbox=row, actor=request.user)
                done += 1
            except DomainError:
                continue
        self.message_user(request, _("已重发 %(count)d 条消息") % {"count": done}, messages.SUCCESS)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "subject", "read_at")
    list_filter = ("read_at",)
    search_fields = ("subject", "user__username")
    readonly_fields = ("user", "outbox", "case", "subject", "body", "created_at", "read_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
