from django.contrib import admin

from jiefen.transfer.models import ImportMapping, ImportRun


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "channel", "case_type")


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = (
        "file_name",
        "source",
        "status",
        "rows_read",
        "created",
        "skipped",
        "rejected",
        "started_at",
    )
    readonly_fields = [f.name for f in ImportRun._meta.fields]
