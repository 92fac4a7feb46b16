from django.contrib import admin

from jiefen.intelligence.models import Correction, ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("kind", "version", "active", "training_size", "source", "created_at")
    list_filter = ("kind", "active")
    readonly_fields = (
        "kind",
        "version",
        "path",
        "created_at",
        "metrics",
        "training_size",
        "source",
        "active",
    )


@admin.register(Correction)
class CorrectionAdmin(admin.ModelAdmin):
    list_display = ("case", "previous", "suggested", "category", "actor", "created_at")
    readonly_fields = ("case", "previous", "suggested", "category", "actor", "created_at")

    def has_add_permission(self, request: object) -> bool:
        return False
