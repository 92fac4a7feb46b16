"""Intake enrichment: the analysers every new case passes through, inline or in the background.

Enrichers (classification, extraction, related cases, risk, routing, the emergency check) are registered by
their apps. Each gets a batch of cases — unsaved ones at registration (one for a single registration,
hundreds for an import), saved ones in the background — and returns, for each, a dict merged into its
``Case.enrichment``; it may set the category or raise the urgency.

With ``INTAKE_ENRICHMENT = "background"`` a single registration runs only the enrichers marked
``at_the_door`` (the emergency check, whose 110/119/120 notice the citizen must see at once) and stores the
case with ``enrichment_pending``; on commit it schedules ``enrich_pending``, which takes the waiting cases in
batches, runs the other enrichers once per batch and stores their findings, a batch per transaction (rows
locked with ``SKIP LOCKED`` on PostgreSQL, so workers share the queue). On SQLite, where a transaction holds
the database's one write lock from its BEGIN, a batch is analysed outside any transaction and only its
findings are written in one, so registrations go on meanwhile. A worker that dies leaves its batch waiting
for the next run. A category or urgency that staff set before the batch was stored is kept. Imports always
enrich inline, in their own batches, inside a ``bulk_session``: enrichers may keep what they looked up about
earlier cases (details that do not change while an import runs) from one batch to the next, instead of
asking the database again for every batch.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet

from jiefen.cases.intake import Intake
from jiefen.cases.models import Case
from jiefen.language.reading import BATCH_GC_THRESHOLD

log = logging.getLogger(__name__)
R = TypeVar("R")

Enricher = Callable[[Sequence[Case]], list[dict[str, Any]]]
intake_enrichers: list[Enricher] = []
_at_the_door: set[str] = set()

ALL, AT_THE_DOOR, LATER = "all", "at_the_door", "later"
BATCH = 200
# Registrations within this many seconds share one scheduled run.
DEBOUNCE_SECONDS = 1.0
_SCHEDULED_KEY = "jiefen:enrichment-scheduled"
# A bulk session's memo is emptied when it holds this many entries (bounded memory on very large imports).
MEMO_LIMIT = 300_000
_session: ContextVar[_Session | None] = ContextVar("enrichment_session", default=None)
_look_ahead: dict[str, Callable[[Sequence[Intake]], None]] = {}
# Set while ``enrich_pending`` analyses a batch outside a transaction: the enrichers' ``after_commit`` steps.
_deferred_steps: ContextVar[list[Callable[[], None]] | None] = ContextVar("enrichment_steps", default=None)


def _name(enricher: Enricher) -> str:
    return getattr(enricher, "__qualname__", repr(enricher))


def each_case(enrich: Callable[[Case], dict[str, Any]]) -> Enricher:
    """An enricher that calls ``enrich`` for each case of the batch."""

    def batch(cases: Sequence[Case]) -> list[dict[str, Any]]:
        return [enrich(case) for case in cases]

    batch.__name__ = batch.__qualname__ = getattr(enrich, "__name__", "enricher")
    return batch


def add_enricher(
    enricher: Enricher,
    *,
    first: bool = False,
    at_the_door: bool = False,
    look_ahead: Callable[[Sequence[Intake]], None] | None = None,
) -> None:
    """Add ``enricher`` once (apps call this from ``ready``), at the end or first. ``at_the_door``: it runs
    at registration even when the rest of the analysis runs in the background. ``look_ahead``: called in a
    bulk session with the next batch's intakes, before the current batch is registered."""
    if look_ahead is not None:
        _look_ahead[_name(enricher)] = look_ahead
    if at_the_door:
        _at_the_door.add(_name(enricher))
    if any(_name(e) == _name(enricher) for e in intake_enrichers):
        return
    intake_enrichers.insert(0 if first else len(intake_enrichers), enricher)


def _runs(enricher: Enricher, part: str) -> bool:
    return part == ALL or (_name(enricher) in _at_the_door) == (part == AT_THE_DOOR)


def has_later_enrichers() -> bool:
    return any(_runs(e, LATER) for e in intake_enrichers)


def in_background() -> bool:
    return settings.INTAKE_ENRICHMENT == "background"


def enrich(cases: Sequence[Case], *, part: str = ALL) -> list[dict[str, Any]]:
    """Run the enrichers of ``part`` over ``cases``, merging their findings into ``Case.enrichment``; the
    findings of this run, per case."""
    found: list[dict[str, Any]] = [{} for _ in cases]
    for enricher in intake_enrichers:
        if not _runs(enricher, part):
            continue
        for case, new, parts in zip(cases, enricher(cases), found, strict=True):
            case.enrichment.update(new)
            parts.update(new)
    return found


@dataclass
class _Session:
    # A bulk import's, or one registration's (``analysed_first``): its look-ahead reads in this process.
    bulk: bool = True
    memos: dict[str, dict[Any, Any]] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)


@contextmanager
def bulk_session() -> Iterator[None]:
    """Around a bulk import: ``session_memo`` keeps its entries from one batch to the next, and the
    ``session_resource``s opened meanwhile (a second process, say) are closed when it ends. The garbage
    collector runs less often meanwhile (``language.reading.BATCH_GC_THRESHOLD``)."""
    outermost = _session.get() is None
    thresholds = gc.get_threshold()
    if outermost:
        gc.set_threshold(BATCH_GC_THRESHOLD, *thresholds[1:])
    session = _Session()
    token = _session.set(session)
    try:
        yield
    finally:
        _session.reset(token)
        if outermost:
            gc.set_threshold(*thresholds)
        _close(session)


def _close(session: _Session) -> None:
    for close in reversed(session.closers):
        try:
            close()
        except Exception:
            log.exception("closing a session's resource failed")


@contextmanager
def analysed_first(intakes: Sequence[Intake]) -> Iterator[None]:
    """Around one registration's transaction, outside it: the enrichers that will run at registration and
    can look ahead (``add_enricher(look_ahead=…)``) read ``intakes`` here, in this process, and take what
    they found inside the transaction. On SQLite a transaction holds the database's one write lock from its
    BEGIN: the classifier, the extraction and the index search then run before it, and two web workers'
    analyses overlap instead of queueing behind each other's writes. Inside a transaction already, or in a
    session, it does nothing."""
    if _session.get() is not None or connection.in_atomic_block:
        yield
        return
    session = _Session(bulk=False)
    token = _session.set(session)
    try:
        _look_ahead_now(intakes, AT_THE_DOOR if in_background() else ALL)
        yield
    finally:
        _session.reset(token)
        _close(session)


def in_bulk_session() -> bool:
    session = _session.get()
    return session is not None and session.bulk


def reads_ahead_here() -> bool:
    """Whether the session's look-ahead should read in this process (one registration's, ``analysed_first``),
    rather than beside the import in a second one."""
    session = _session.get()
    return session is not None and not session.bulk


def session_memo(name: str) -> dict[Any, Any]:
    """The memo ``name`` of the current bulk session; outside one, a new empty dict each call (nothing is
    kept). Only for facts that do not change while an import runs."""
    session = _session.get()
    if session is None:
        return {}
    memo = session.memos.setdefault(name, {})
    if len(memo) > MEMO_LIMIT:
        memo.clear()
    return memo


def session_resource(name: str, open_: Callable[[], R], close: Callable[[R], None]) -> R | None:
    """The resource ``name`` of the current bulk session, opened on first use and closed with the session;
    None outside a session."""
    session = _session.get()
    if session is None:
        return None
    if name not in session.resources:
        resource = open_()
        session.resources[name] = resource
        session.closers.append(functools.partial(close, resource))
    return session.resources[name]  # type: ignore[no-any-return]


def look_ahead(intakes: Sequence[Intake]) -> None:
    """In a bulk session: tell the enrichers the next batch to come (``intakes``, not yet registered), so
    those that can start on it beside the current batch's writing do (``add_enricher(look_ahead=…)``)."""
    if _session.get() is None:
        return
    _look_ahead_now(intakes, ALL)


def _look_ahead_now(intakes: Sequence[Intake], part: str) -> None:
    for enricher in intake_enrichers:
        hook = _look_ahead.get(_name(enricher))
        if hook is None or not _runs(enricher, part):
            continue
        try:
            hook(intakes)
        except Exception:
            log.exception("looking ahead failed (%s)", _name(enricher))


# --- in the background -------------------------------------------------------------------------------------------


def schedule() -> None:
    """Once the registration has committed, have ``enrich_pending`` run soon (one run per second at most:
    the cases registered meanwhile are committed before it starts, so it finds them)."""

    def start() -> None:
        from jiefen.cases.tasks import enrich_pending

        if settings.CELERY_TASK_ALWAYS_EAGER:
            enrich_pending.delay()
        elif cache.add(_SCHEDULED_KEY, 1, timeout=DEBOUNCE_SECONDS):
            enrich_pending.apply_async(countdown=DEBOUNCE_SECONDS + 0.5)

    # robust: a broker that is down must not turn a stored petition into an error page; the periodic run
    # finds the case.
    transaction.on_commit(start, robust=True)


def after_commit(step: Callable[[], None]) -> None:
    """For enrichers: run ``step`` once the findings of this analysis are committed (adding to an index,
    merging a double submission). That is when the current transaction commits, or, for a batch that
    ``enrich_pending`` analyses outside a transaction, when the one storing its findings does."""
    steps = _deferred_steps.get()
    if steps is None:
        transaction.on_commit(step)
    else:
        steps.append(step)


def enrich_pending(*, batch: int = BATCH, limit: int | None = None) -> int:
    """Analyse the cases waiting for enrichment, a batch at a time, until none is left (or ``limit``
    cases are done); the number analysed."""
    done = 0
    analyse = _locked_batch if connection.features.has_select_for_update_skip_locked else _unlocked_batch
    while limit is None or done < limit:
        stored = analyse(min(batch, limit - done) if limit is not None else batch)
        if stored is None:
            break
        done += stored
    return done


def _waiting() -> QuerySet[Case]:
    return Case.objects.filter(enrichment_pending=True).order_by("pk")


def _locked_batch(size: int) -> int | None:
    """Take, analyse and store a batch in one transaction, its rows locked (others' locked rows are
    skipped); the number stored, None when no case waits."""
    with transaction.atomic():  # the enrichers' on-commit steps (index, merges) follow the stored results
        cases = list(_waiting().select_for_update(skip_locked=True)[:size])
        if not cases:
            return None
        before = [(case.category_id, case.urgency) for case in cases]
        _store(cases, before, enrich(cases, part=LATER))
    return len(cases)


def _unlocked_batch(size: int) -> int | None:
    """Analyse a batch outside any transaction, then store its findings and start its enrichers' on-commit
    steps in a short one; the number stored, None when no case waits. If another worker stored any of these
    cases meanwhile, nothing of this batch is stored (its steps would repeat that worker's): the cases still
    waiting are taken again."""
    cases = list(_waiting()[:size])
    if not cases:
        return None
    before = [(case.category_id, case.urgency) for case in cases]
    steps: list[Callable[[], None]] = []
    token = _deferred_steps.set(steps)
    try:
        found = enrich(cases, part=LATER)
    finally:
        _deferred_steps.reset(token)
    with transaction.atomic():
        if _waiting().filter(pk__in=[case.pk for case in cases]).count() < len(cases):
            return 0
        _store(cases, before, found)
        for step in steps:
            transaction.on_commit(step)
    return len(cases)


def _store(
    cases: Sequence[Case], before: Sequence[tuple[int | None, str]], found: Sequence[dict[str, Any]]
) -> None:
    """Merge the findings into each case's stored enrichment; set the suggested category only where the
    case still has none, and the raised urgency only where nobody changed it meanwhile."""
    table = Case._meta.db_table
    merge = "enrichment || %s::jsonb" if connection.vendor == "postgresql" else "json_patch(enrichment, %s)"
    rows = []
    for case, (category_id, urgency), parts in zip(cases, before, found, strict=True):
        rows.append(
            (
                json.dumps(parts, ensure_ascii=False, default=str),
                case.category_id if category_id is None else None,
                urgency,
                case.urgency,
                case.pk,
            )
        )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET enrichment = {merge}, "  # noqa: S608 - fixed names
            "category_id = COALESCE(category_id, %s), "
            "urgency = CASE WHEN urgency = %s THEN %s ELSE urgency END, "
            "enrichment_pending = %s WHERE id = %s",
            [(*row[:4], False, row[4]) for row in rows],
        )
