from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "jiefen.portal"
    label = "portal"
    verbose_name = _("网上信访")
    default_auto_field = "django.db.models.BigAutoField"
