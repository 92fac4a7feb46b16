from celery import shared_task

from jiefen.cases.actors import SYSTEM
from jiefen.transfer.models import ImportRun
from jiefen.transfer.services import execute_run


@shared_task(name="jiefen.transfer.tasks.run_import", ignore_result=True)
def run_import(run_id: int) -> dict[str, int]:
    """Thin and re-runnable: a run started again skips the rows it already committed."""
    run = ImportRun.objects.select_related("started_by").get(pk=run_id)
    run = execute_run(run, actor=run.started_by or SYSTEM)
    return {"created": run.created, "skipped": run.skipped, "rejected": run.rejected}
