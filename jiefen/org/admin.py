from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from jiefen.org.models import JurisdictionAlias, Unit, User


class AliasInline(admin.TabularInline):
    model = JurisdictionAlias
    extra = 1


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "parent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code", "aliases__alias")
    inlines = [AliasInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "unit", "is_active")
    list_filter = ("groups", "is_active", "unit__kind")
    search_fields = ("username", "full_name")
    fieldsets = (*BaseUserAdmin.fieldsets, ("Jiefen", {"fields": ("unit", "full_name", "phone")}))  # type: ignore[misc]
