"""The embedded mode's stand-in for Celery beat: one daemon thread runs every entry of
``settings.CELERY_BEAT_SCHEDULE`` inline, each at its own interval, so a one-process install does the same
periodic work (clock sweep, notification delivery, rollups, hotspots …) as a production beat + workers."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("jiefen.scheduler")


@dataclass
class Job:
    name: str
    task: Callable[[], Any]
    every: float
    next_run: float


def resolve(dotted: str) -> Callable[[], Any]:
    """``"jiefen.clocks.tasks.sweep_clocks"`` → the task object (calling it runs it in this process)."""
    module_name, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]


def jobs_from(schedule: Mapping[str, Mapping[str, Any]], now: float) -> list[Job]:
    jobs = []
    for name, entry in schedule.items():
        every = entry["schedule"]
        if not isinstance(every, int | float) or every <= 0:
            raise ValueError(f"beat entry {name!r}: the embedded scheduler needs a schedule in seconds")
        jobs.append(Job(name, resolve(entry["task"]), float(every), now + float(every)))
    return jobs


def run_due(jobs: list[Job], now: float, after_each: Callable[[], None] = lambda: None) -> list[str]:
    """Run the jobs whose time has come; a failing job is logged and tried again at its next turn."""
    ran = []
    for job in jobs:
        if job.next_run > now:
            continue
        try:
            job.task()
            ran.append(job.name)
        except Exception:
            log.exception("periodic job %s failed", job.name)
        finally:
            job.next_run = now + job.every
            after_each()
    return ran


def start(schedule: Mapping[str, Mapping[str, Any]], tick: float = 5.0) -> threading.Thread:
    from django.db import close_old_connections

    jobs = jobs_from(schedule, time.monotonic())
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(tick):
            run_due(jobs, time.monotonic(), after_each=close_old_connections)

    thread = threading.Thread(target=loop, name="jiefen-beat", daemon=True)
    thread.start()
    return thread
