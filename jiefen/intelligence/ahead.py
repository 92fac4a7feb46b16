"""Reading a bulk import's next batch in a second process while the current batch is written; reading one
registration's text before its transaction.

In a bulk session (``cases.services.enrichment.bulk_session``) the import hands each batch's intakes to
``look_ahead`` before it registers the batch before it; a ``language.reading.Reader`` (one process, started on
first use with the models active then, closed with the session) classifies, extracts, vectorises and searches
them meanwhile. When the batch is registered, the enricher ``take``s the reading instead of doing the work
itself. The reader's search ran before the batch in between was indexed; the reader compared the two
batches' texts, and the enricher adds that batch's cases (``enrich._recent_mates``). A reading made with
models that are no longer active, or that failed, is not used: the enricher reads inline, as outside a
session.

A single registration (``cases.services.enrichment.analysed_first``) is read the same way, but in its own
process and before its transaction opens, so the analysis does not hold the database's write lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future
from typing import NamedTuple

from django.utils import timezone

from jiefen.cases.intake import Intake
from jiefen.cases.services.enrichment import reads_ahead_here, session_memo, session_resource
from jiefen.intelligence import engine
from jiefen.language.reading import Reader, Reading, read
from jiefen.language.text import case_text

log = logging.getLogger(__name__)

# Waiting longer than this for the second process means something is wrong with it: read inline instead.
WAIT_SECONDS = 300.0

Key = tuple[str, dt.date | None]


class Waiting(NamedTuple):
    """A text handed to the reader: its batch's reading, its place in that batch, the models' versions."""

    future: Future[Reading]
    position: int
    versions: tuple[int | None, int | None]


def days_of(moments: Sequence[dt.datetime | None]) -> list[dt.date | None]:
    """The local day of each moment (None stays None): ``timezone.localdate``, with the current time zone
    looked up once (each look-up reads a context-local, ten times the cost of the conversion)."""
    tz = timezone.get_current_timezone()
    return [timezone.localtime(moment, tz).date() if moment else None for moment in moments]


def _start() -> tuple[Reader, tuple[int | None, int | None]]:
    return Reader(engine.model_files()), engine.versions()


def _stop(started: tuple[Reader, tuple[int | None, int | None]]) -> None:
    started[0].close()


def look_ahead(intakes: Sequence[Intake], *, k: int, min_score: float | None = None) -> None:
    """Start reading ``intakes`` (the next batch) in the session's second process, or read them now in a
    single registration's session (``read``'s ``k`` and ``min_score``)."""
    now = timezone.now()
    texts = [case_text(intake.title, intake.content) for intake in intakes]
    days = days_of([intake.received_at or now for intake in intakes])
    keys: list[Key] = [(text, day) for text, day in zip(texts, days, strict=True) if text]
    if not keys:
        return
    read_texts, read_days = [text for text, _ in keys], [day for _, day in keys]
    if reads_ahead_here():
        future, versions = _read_here(read_texts, read_days, k=k, min_score=min_score)
    else:
        if multiprocessing.current_process().daemon:
            return  # (a Celery prefork worker's processes are daemons, which may not start processes)
        started = session_resource("language.reader", _start, _stop)
        if started is None:
            return
        reader, versions = started
        future = reader.submit(read_texts, read_days, k=k, min_score=min_score)
    waiting = session_memo("language.ahead")  # key → its readings ahead, oldest first
    first = {key: position for position, key in reversed(list(enumerate(keys)))}
    for key, position in first.items():
        waiting.setdefault(key, []).append(Waiting(future, position, versions))


def _read_here(
    texts: list[str], days: list[dt.date | None], *, k: int, min_score: float | None
) -> tuple[Future[Reading], tuple[int | None, int | None]]:
    """The reading of ``texts`` made now, in this process (one registration, before its transaction)."""
    future: Future[Reading] = Future()
    versions = engine.versions()
    try:
        future.set_result(read(texts, days, engine.models(), k=k, min_score=min_score))
    except Exception as error:  # (``take`` logs it and the enricher reads inline)
        future.set_exception(error)
    return future, versions


def take(keys: Sequence[Key]) -> Reading | None:
    """The reading of these texts made ahead, in their order, if one reading holds them all and was made
    with the models active now; else None. (A text may be in two readings waiting, when the same text came
    on the same day in the next batch too: the oldest reading that holds all of ``keys`` is used.)"""
    waiting: dict[Key, list[Waiting]] = session_memo("language.ahead")
    if not keys or any(key not in waiting for key in keys):
        return None
    for candidate in waiting[keys[0]]:
        entries = [_entry_of(waiting[key], candidate.future) for key in keys]
        if all(entries):
            break
    else:
        return None
    for key in dict.fromkeys(keys):  # (a text twice in the batch is one entry)
        mine = [entry for entry in waiting[key] if entry.future is not candidate.future]
        if mine:
            waiting[key] = mine
        else:
            del waiting[key]
    if candidate.versions != engine.versions():
        return None
    try:
        reading = candidate.future.result(timeout=WAIT_SECONDS)
    except Exception:
        log.exception("the reading made ahead failed; reading inline")
        return None
    return reading.pick([entry.position for entry in entries if entry is not None])


def _entry_of(entries: list[Waiting], future: Future[Reading]) -> Waiting | None:
    return next((entry for entry in entries if entry.future is future), None)
