from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "jiefen.routing"
    label = "routing"
    verbose_name = _("派单规则")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from jiefen.cases.models import Category
        from jiefen.cases.services import add_enricher, each_case
        from jiefen.org.models import JurisdictionAlias, Unit
        from jiefen.routing.models import RoutingRule
        from jiefen.routing.services import clear_routing_cache, routing_enrichment

        # The compiled table holds rules, units, aliases and categories: a change to any of them in this
        # process (admin, services, data loads) drops it. Bulk writes send no signals; their callers clear it.
        for model in (RoutingRule, Unit, JurisdictionAlias, Category):
            post_save.connect(
                clear_routing_cache, sender=model, dispatch_uid=f"routing-cache-{model.__name__}"
            )
            post_delete.connect(
                clear_routing_cache, sender=model, dispatch_uid=f"routing-cache-d-{model.__name__}"
            )
        m2m_changed.connect(
            clear_routing_cache, sender=RoutingRule.assist_units.through, dispatch_uid="routing-cache-m2m"
        )
        add_enricher(each_case(routing_enrichment))
