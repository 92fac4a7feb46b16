"""The SQLite backend, with writers queued by the operating system instead of by SQLite's busy handler.

Write transactions begin IMMEDIATE (settings), so a writer that finds another one writing waits in SQLite's
busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 … ms between tries: once several processes write (web
workers, a background worker), a waiter sleeps on well after the lock is free, and the database stands idle
between transactions.

Here each transaction first takes an exclusive ``flock`` on a file beside the database (``<name>-writers``),
tried again after steps of 50 µs to 1 ms, and gives it back at commit or rollback, so the next writer starts
about a millisecond after the one before ends (0.6–1.5 ms measured as in ``core/tests/test_sqlite_writers``,
against 89–92 ms with SQLite's handler alone). SQLite's own lock still guards the data; this only orders the
writers that wait for it. A writer that has not had its turn within the connection's ``timeout`` goes on to
SQLite's handler, which then raises "database is locked" as before. Statements outside a transaction
(autocommit) wait in SQLite's handler, as before. In-memory databases have no file and no queue.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from typing import Any

from django.db.backends.sqlite3 import base, creation

_STEPS = (0.00005, 0.0001, 0.0002, 0.0005, 0.001)


def queue_path(name: str) -> str:
    return f"{name}-writers"


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        super()._destroy_test_db(test_database_name, verbosity)  # type: ignore[misc]  # (not in the stubs)
        if test_database_name and not self.is_in_memory_db(test_database_name):
            with contextlib.suppress(FileNotFoundError):
                os.remove(queue_path(test_database_name))


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
    _queue: int | None = None  # the open queue file of this connection
    _has_turn = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            self._queue = os.open(
                queue_path(self.settings_dict["NAME"]), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        self._take_turn()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._end_turn()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._end_turn()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._end_turn()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._end_turn()
            if self._queue is not None:
                os.close(self._queue)
                self._queue = None

    def _take_turn(self) -> None:
        if self._queue is None or self._has_turn:
            return
        deadline = time.monotonic() + float(self.settings_dict["OPTIONS"].get("timeout", 5))
        step = 0
        while True:
            try:
                fcntl.flock(self._queue, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(_STEPS[min(step, len(_STEPS) - 1)])
                step += 1
            else:
                self._has_turn = True
                return

    def _end_turn(self) -> None:
        if self._has_turn and self._queue is not None:
            fcntl.flock(self._queue, fcntl.LOCK_UN)
        self._has_turn = False
