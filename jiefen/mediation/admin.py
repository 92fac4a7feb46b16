"""Admins keep the mediator directory and edit the document templates; disputes change only through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from jiefen.mediation.documents import unknown_fields
from jiefen.mediation.models import DisputeKind, DocumentTemplate, MediatorProfile


class TemplateForm(forms.ModelForm):
    class Meta:
        model = DocumentTemplate
        fields = ["title", "body"]

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        unknown = unknown_fields(body)
        if unknown:
            raise forms.ValidationError(_("模板中有未知字段：%(names)s") % {"names": "、".join(unknown)})
        return body


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    form = TemplateForm
    list_display = ("title", "kind", "updated_at")

    def has_add_permission(self, request: Any) -> bool:
        # One template per kind, created by the data migration.
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ProfileForm(forms.ModelForm):
    specialities = forms.MultipleChoiceField(
        label=_("擅长领域"), choices=DisputeKind.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = MediatorProfile
        fields = ["user", "kind", "specialities", "capacity", "is_active", "note"]

    def clean_user(self) -> Any:
        user = self.cleaned_data["user"]
        if not user.has_role("mediator"):
            raise forms.ValidationError(_("该用户没有调解员角色"))
        return user


@admin.register(MediatorProfile)
class MediatorProfileAdmin(admin.ModelAdmin):
    form = ProfileForm
    list_display = ("user", "kind", "capacity", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("user__username", "user__full_name")
    raw_id_fields = ("user",)
