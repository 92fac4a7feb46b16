from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "jiefen.documents"
    label = "documents"
    verbose_name = _("文书")
    default_auto_field = "django.db.models.BigAutoField"
