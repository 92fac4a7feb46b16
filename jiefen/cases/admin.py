from django.contrib import admin

from jiefen.cases.models import Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("full_name", "code", "is_active")
    search_fields = ("name", "code", "synonyms")
    list_filter = ("is_active",)
