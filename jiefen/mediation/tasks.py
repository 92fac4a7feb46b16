from celery import shared_task

from jiefen.mediation import services


@shared_task(name="jiefen.mediation.tasks.remind_confirmation_windows", ignore_result=True)
def remind_confirmation_windows() -> int:
    return services.remind_confirmation_windows()
