from django.contrib import admin

from jiefen.intake.models import FieldVisit, ReceptionSession


@admin.register(ReceptionSession)
class ReceptionSessionAdmin(admin.ModelAdmin):
    list_display = ("date", "leader", "place", "topic")
    date_hierarchy = "date"


@admin.register(FieldVisit)
class FieldVisitAdmin(admin.ModelAdmin):
    list_display = ("date", "officer", "place")
    date_hierarchy = "date"
