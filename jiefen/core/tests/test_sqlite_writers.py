"""SQLite's writers queue at the operating system (``jiefen.core.sqlite``): the next writer starts as soon as
the one before commits or rolls back, not when SQLite's busy handler next wakes it (its sleeps grow to 25,
50, 100 ms)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from jiefen.cases.models import Petitioner

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the queue is SQLite's"),
]

HOLD = 0.24  # SQLite's handler, waiting since then, next tries at 0.328 s: 88 ms late
LATE = 0.04


def _wait_behind_a_writer(in_thread: Any, *, fail: bool) -> float:
    """Seconds from the first writer's last step (its commit, or its rollback, follows) to the second writer's
    start."""
    inside, ended = threading.Event(), [0.0]

    def first() -> None:
        try:
            with transaction.atomic():
                Petitioner.objects.create(name="甲")
                inside.set()
                time.sleep(HOLD)
                ended[0] = time.monotonic()
                if fail:
                    raise RuntimeError("rolled back")
        except RuntimeError:
            ended[0] = time.monotonic()  # (after the rollback)

    thread = in_thread(first)
    assert inside.wait(timeout=10)
    with transaction.atomic():
        started = time.monotonic()
        Petitioner.objects.create(name="乙")
    thread.join(timeout=10)
    return started - ended[0]


def test_the_next_writer_starts_as_soon_as_the_one_before_commits(in_thread: Any) -> None:
    assert _wait_behind_a_writer(in_thread, fail=False) < LATE
    assert sorted(Petitioner.objects.values_list("name", flat=True)) == ["乙", "甲"]


def test_a_rollback_gives_the_turn_on_too(in_thread: Any) -> None:
    assert _wait_behind_a_writer(in_thread, fail=True) < LATE
    assert list(Petitioner.objects.values_list("name", flat=True)) == ["乙"]
