"""The embedded beat runs every scheduled job inline at its own interval, and survives a failing job."""

from __future__ import annotations

from typing import Any

import pytest

from jiefen.core import scheduler

calls: list[str] = []


def good() -> None:
    calls.append("good")


def bad() -> None:
    calls.append("bad")
    raise RuntimeError("boom")


def test_jobs_run_at_their_own_intervals_and_a_failure_does_not_stop_the_others() -> None:
    calls.clear()
    here = __name__
    jobs = scheduler.jobs_from(
        {"a": {"task": f"{here}.good", "schedule": 10.0}, "b": {"task": f"{here}.bad", "schedule": 30.0}},
        now=0,
    )
    assert scheduler.run_due(jobs, now=5) == []
    assert scheduler.run_due(jobs, now=10) == ["a"]
    assert scheduler.run_due(jobs, now=30) == ["a"]  # b failed: logged, not counted, tried again later
    assert calls == ["good", "good", "bad"]
    assert [job.next_run for job in jobs] == [40, 60]


def test_every_job_in_the_real_schedule_resolves_to_a_task(settings: Any) -> None:
    jobs = scheduler.jobs_from(settings.CELERY_BEAT_SCHEDULE, now=0)
    assert {job.name for job in jobs} >= {
        "sweep-clocks",
        "deliver-notifications",
        "remind-court-confirmation",
    }
    assert all(callable(job.task) for job in jobs)


def test_a_schedule_that_is_not_seconds_is_refused() -> None:
    with pytest.raises(ValueError, match="seconds"):
        scheduler.jobs_from({"x": {"task": f"{__name__}.good", "schedule": "daily"}}, now=0)
