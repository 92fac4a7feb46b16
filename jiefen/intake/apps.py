from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "jiefen.intake"
    label = "intake"
    verbose_name = _("接访登记")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The emergency check runs for every registered case, whatever the channel (portal, desk, import).
        from jiefen.cases.services import add_enricher, each_case
        from jiefen.intake.services import emergency_enricher

        add_enricher(each_case(emergency_enricher), at_the_door=True)
