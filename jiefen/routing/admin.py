from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from jiefen.routing.models import RoutingRule
from jiefen.routing.services import clear_routing_cache


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = (
        "order",
        "name",
        "category",
        "case_type",
        "channel",
        "place_unit",
        "target",
        "lead_unit",
        "is_active",
    )
    list_display_links = ("name",)
    list_editable = ("order", "is_active")
    list_filter = ("is_active", "target", "case_type", "channel")
    search_fields = ("name", "keywords", "note")
    filter_horizontal = ("assist_units",)
    fieldsets = (
        (None, {"fields": ("name", "order", "is_active", "note")}),
        (
            _("条件"),
            {
                "fields": (
                    "category",
                    "case_type",
                    "channel",
                    ("keywords", "keyword_mode"),
                    "place_unit",
                    "weekdays",
                    ("time_from", "time_to"),
                )
            },
        ),
        (
            _("结果"),
            {
                "fields": (
                    "target",
                    "lead_unit",
                    "assist_units",
                    "assist_jurisdiction",
                    "assist_property_company",
                )
            },
        ),
    )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from django.utils import timezone

        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
        clear_routing_cache()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        clear_routing_cache()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        clear_routing_cache()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        clear_routing_cache()
