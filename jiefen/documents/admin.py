from django.contrib import admin

from jiefen.documents.models import DocumentTemplate, IssuedDocument


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "letterhead")


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "case", "issued_at")
    search_fields = ("number", "case__receipt_number")
    raw_id_fields = ("case",)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # What a person received is never rewritten.
        return False
