from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jiefen.clocks.calendar import clear_cache
from jiefen.clocks.models import CalendarDay, CalendarYear, ClockPolicy
from jiefen.clocks.services import clear_policy_cache


class _ClearsPolicyCache(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        clear_policy_cache()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        clear_policy_cache()


@admin.register(ClockPolicy)
class ClockPolicyAdmin(_ClearsPolicyCache):
    list_display = (
        "kind",
        "amount",
        "unit",
        "case_type",
        "channel",
        "urgency",
        "category",
        "warn_ratio",
        "is_sample",
        "is_active",
    )
    list_filter = ("kind", "unit", "is_sample", "is_active")


class _ClearsCalendarCache(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        clear_cache()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        clear_cache()


@admin.register(CalendarDay)
class CalendarDayAdmin(_ClearsCalendarCache):
    list_display = ("date", "name", "is_workday")
    list_filter = ("is_workday",)
    date_hierarchy = "date"


@admin.register(CalendarYear)
class CalendarYearAdmin(_ClearsCalendarCache):
    list_display = ("year", "is_complete", "note")
