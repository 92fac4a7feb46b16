from celery import shared_task

from jiefen.clocks.services import sweep


@shared_task(name="jiefen.clocks.tasks.sweep_clocks", ignore_result=True)
def sweep_clocks() -> dict[str, int]:
    result = sweep()
    return {"warned": result.warned, "breached": result.breached, "expired": result.expired}
