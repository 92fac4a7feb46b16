from django.contrib import admin

from jiefen.analytics.models import BacklogCase, Campaign, GovernanceTask, Hotspot, ScoreSettings


@admin.register(ScoreSettings)
class ScoreSettingsAdmin(admin.ModelAdmin):
    """The weights of the overall score and the ranking threshold (one row)."""

    list_display = [
        "response_weight",
        "resolution_weight",
        "satisfaction_weight",
        "on_time_weight",
        "min_cases_for_ranking",
        "updated_at",
    ]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return not ScoreSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Hotspot)
class HotspotAdmin(admin.ModelAdmin):
    list_display = ["title", "place", "case_count", "people_count", "heat", "trend", "warning", "ended_at"]
    list_filter = ["warning", "trend"]
    readonly_fields = ["members"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "category", "starts_on", "ends_on"]


@admin.register(BacklogCase)
class BacklogCaseAdmin(admin.ModelAdmin):
    list_display = ["matter", "leader", "status", "detected_at"]
    list_filter = ["status"]
    raw_id_fields = ["matter", "case"]


@admin.register(GovernanceTask)
class GovernanceTaskAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "deadline", "status"]
