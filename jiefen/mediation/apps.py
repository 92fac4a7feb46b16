from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "jiefen.mediation"
    label = "mediation"
    verbose_name = _("矛盾纠纷调解")
    default_auto_field = "django.db.models.BigAutoField"
