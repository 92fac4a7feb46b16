from celery import shared_task

from jiefen.cases.services import enrichment


@shared_task(name="jiefen.cases.tasks.enrich_pending", ignore_result=True)
def enrich_pending() -> int:
    return enrichment.enrich_pending()
