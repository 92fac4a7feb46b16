from django.contrib import admin

from jiefen.supervision.models import SupervisionOrder


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(admin.ModelAdmin):
    list_display = ("case", "unit", "status", "issued_at", "due_at", "answered_at")
    list_filter = ("status",)
    raw_id_fields = ("case",)
