from celery import shared_task

from jiefen.intake import services


@shared_task(name="jiefen.intake.tasks.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys() -> int:
    return services.purge_idempotency_keys()
