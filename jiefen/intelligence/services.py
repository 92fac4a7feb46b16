"""Every change the language engine makes: category corrections, merges of double submissions, training and
activating models, building the similar-case index, confirming a proposed link to a matter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Max, Q, Sum
from django.utils import timezone

from jiefen.cases.actors import Actor
from jiefen.cases.events import new_event
from jiefen.cases.models import Case, Category, EventKind, Matter
from jiefen.cases.services import link_to_matter, merge_case
from jiefen.cases.services._core import _finish, _staff
from jiefen.cases.workflow import OPEN_STATES, CaseStatus
from jiefen.core.errors import Conflict, InvalidInput, NotAllowed
from jiefen.intelligence import engine
from jiefen.intelligence.models import Correction, ModelKind, ModelVersion
from jiefen.language import classify as clf
from jiefen.language.io import cell_text, read_labelled, read_table
from jiefen.language.similar import CaseVectorizer, IVFIndex
from jiefen.language.text import case_text
from jiefen.org.models import Role, User

# Who may set a case's category: the office staff who register and dispatch.
CATEGORY_EDITORS = (Role.RECEPTION_CLERK, Role.DISPATCHER, Role.ADMIN)
# Cases whose category is settled enough to learn from (besides any case a staff member corrected).
SETTLED_STATES = (CaseStatus.CLOSED, CaseStatus.FINAL, CaseStatus.REVIEWED, CaseStatus.REPLIED)
# The catch-up leaves cases registered this recently to their own registration's append.
CATCH_UP_SETTLE = dt.timedelta(minutes=10)
CATCH_UP_BLOCK = 65_536  # case ids per block whose tallies the catch-up compares (``_unindexed``)


# --- corrections ------------------------------------------------------------------------------------------------


def may_set_category(actor: Actor) -> bool:
    """Whether ``actor`` may set a case's category: the rule ``set_category`` enforces and the case page asks."""
    return (
        isinstance(actor, User)
        and actor.is_authenticated
        and actor.is_active
        and actor.has_role(*CATEGORY_EDITORS)
    )


def set_category(*, case: Case, category: Category, actor: Actor) -> Case:
    """A staff member sets the case's category. The change is a ``field_changed`` event with the previous and
    the suggested category, and a ``Correction`` row that the next training learns from."""
    user = _staff(actor, "只有工作人员可以修改分类")
    if not may_set_category(user):
        raise NotAllowed("只有接访员、交办员和管理员可以修改分类")
    if not category.is_active:
        raise InvalidInput(f"分类“{category.full_name}”已停用")
    if case.category_id == category.pk:
        raise InvalidInput("该信访件已是这一分类")
    suggested_id = ((case.enrichment or {}).get("classification") or {}).get("category_id")
    suggested = Category.objects.filter(pk=suggested_id).first() if suggested_id else None
    with transaction.atomic():
        previous = case.category
        changed = Case.objects.filter(pk=case.pk, version=case.version).update(
            category=category, version=F("version") + 1, updated_at=timezone.now()
        )
        if not changed:
            raise Conflict("该信访件刚刚已被其他人处理，请刷新页面查看最新情况后再操作")
        case.category, case.version = category, case.version + 1
        Correction.objects.create(
            case=case, previous=previous, suggested=suggested, category=category, actor=user
        )
        event = new_event(
            case=case,
            kind=EventKind.FIELD_CHANGED,
            actor=user,
            note=f"分类改为“{category.full_name}”",
            data={
                "category": category.code,
                "previous": previous.code if previous else None,
                "suggested": suggested.code if suggested else None,
            },
        )
        _finish(case, [event])
    return case


# --- related cases ----------------------------------------------------------------------------------------------


def confirm_related(*, case: Case, other: Case, actor: Actor) -> Case:
    """A clerk confirms a proposed related case: ``case`` joins ``other``'s matter (with its evidence)."""
    proposed = {f.get("case_id") for f in ((case.enrichment or {}).get("similar") or {}).get("cases", [])}
    if other.pk not in proposed:
        raise InvalidInput(f"{other.receipt_number} 不在本件的相似信访件建议中")
    if other.matter_id is None:
        raise InvalidInput(f"{other.receipt_number} 没有事项")
    return link_to_matter(case=case, matter=Matter.objects.get(pk=other.matter_id), actor=actor)


def merge_double_submission(*, case_id: int, into_id: int) -> Case | None:
    """Merge a double submission (same petitioner, near-identical text within minutes) into the earlier case,
    as the staff member who registered it. A case registered by no staff member (web, phone app) keeps the
    suggestion on its page for a clerk, since the system actor may not merge."""
    case = Case.objects.select_related("registered_by").get(pk=case_id)
    into = Case.objects.get(pk=into_id)
    actor = case.registered_by
    if not isinstance(actor, User) or case.status not in OPEN_STATES or into.status not in OPEN_STATES:
        return None
    if not actor.has_role(Role.RECEPTION_CLERK, Role.DISPATCHER, Role.ADMIN):
        return None
    return merge_case(case=case, into=into, actor=actor)


# --- models ------------------------------------------------------------------------------------------------------


def _next_version(kind: str) -> int:
    return (ModelVersion.objects.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0) + 1


def register_model(
    *, kind: str, path: Path, metrics: dict[str, Any], training_size: int, source: str, activate: bool = True
) -> ModelVersion:
    with transaction.atomic():
        version = ModelVersion.objects.create(
            kind=kind,
            version=_next_version(kind),
            path=str(path),
            metrics=metrics,
            training_size=training_size,
            source=source[:200],
        )
        if activate:
            activate_model(model=version)
    return version


def activate_model(*, model: ModelVersion) -> ModelVersion:
    """Make ``model`` the active one of its kind; every process picks it up within seconds."""
    with transaction.atomic():
        ModelVersion.objects.filter(kind=model.kind, active=True).exclude(pk=model.pk).update(active=False)
        ModelVersion.objects.filter(pk=model.pk).update(active=True)
        model.active = True
    engine.reset()
    return model


@dataclass
class Trained:
    model: clf.Model
    version: ModelVersion | None
    path: Path


def _holdout_metrics(texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Metrics on a held-out fifth, split by text group (repeats never straddle the split)."""
    if len(texts) < 50 or len(set(labels)) < 2:
        return {"n": len(texts), "note": "too few examples for a held-out evaluation"}
    groups = clf.text_groups(texts)
    test = [g % 5 == 0 for g in groups]
    train_x = [t for t, h in zip(texts, test, strict=True) if not h]
    train_y = [y for y, h in zip(labels, test, strict=True) if not h]
    if len(set(train_y)) < 2:
        return {"n": len(texts)}
    model = clf.train(train_x, train_y, calibrate_folds=0)
    held_x = [t for t, h in zip(texts, test, strict=True) if h]
    held_y = [y for y, h in zip(labels, test, strict=True) if h]
    metrics = clf.evaluate(model, held_x, held_y)
    metrics["split"] = "text groups, 1/5 held out"
    return metrics


def train_classifier(
    *,
    texts: Sequence[str],
    labels: Sequence[str],
    source: str,
    output: Path | None = None,
    evaluate: bool = True,
) -> Trained:
    """Train on ``texts``/``labels``, write the versioned model file with its metrics, record the version in
    the model table and activate it (unless ``output`` names a file outside the office's model directory)."""
    if len(texts) < 2:
        raise InvalidInput("训练数据太少")
    metrics = _holdout_metrics(texts, labels) if evaluate else {}
    model = clf.train(list(texts), list(labels))
    metrics["labels"] = len(model.labels)
    model.metrics = metrics
    register = output is None
    version_number = _next_version(ModelKind.CLASSIFIER) if register else None
    path = output or engine.models_dir() / f"classifier-v{version_number}.joblib"
    model.save(path)
    version = None
    if register:
        version = register_model(
            kind=ModelKind.CLASSIFIER, path=path, metrics=metrics, training_size=len(texts), source=source
        )
    return Trained(model, version, path)


def training_data_from_db() -> tuple[list[str], list[str]]:
    """The office's own history: settled cases with a category, and every case a staff member categorised."""
    corrected = Correction.objects.values("case_id")
    cases = (
        Case.objects.filter(category__isnull=False)
        .filter(Q(status__in=SETTLED_STATES) | Q(pk__in=corrected))
        .select_related("category")
        .only("title", "content", "category__name", "category__full_name")
    )
    texts, labels = [], []
    for case in cases.iterator(chunk_size=2000):
        text = case_text(case.title, case.content)
        if text:
            texts.append(text)
            labels.append(engine.label_of(case.category))  # type: ignore[arg-type]
    return texts, labels


def read_training_file(path: str | Path, text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    columns = [c.strip() for c in text_column.split(",") if c.strip()]
    pairs = read_labelled(path, text_column=columns, label_column=label_column)
    return [t for t, _ in pairs], [y for _, y in pairs]


def classify_rows(
    *,
    rows: Iterable[dict[str, Any]],
    text_column: str,
    model: clf.Model | clf.KeywordModel,
    batch: int = 2000,
) -> Iterable[dict[str, Any]]:
    """The rows with ``predicted`` and ``score`` (and ``explanation``) added, in batches."""
    columns = [c.strip() for c in text_column.split(",") if c.strip()]
    pending: list[dict[str, Any]] = []

    def flush() -> Iterable[dict[str, Any]]:
        texts = [" ".join(t for t in (cell_text(r.get(c)) for c in columns) if t) for r in pending]
        for row, top in zip(pending, model.predict_top(texts, 1), strict=True):
            best = top[0] if top else None
            row["predicted"] = best.label if best else ""
            row["score"] = f"{best.score:.4f}" if best else ""
            row["explanation"] = "、".join(best.words) if best else ""
            yield row

    for row in rows:
        missing = [c for c in columns if c not in row]
        if missing:
            raise InvalidInput(f"没有列“{missing[0]}”；现有列：{', '.join(map(str, row))}")
        pending.append(row)
        if len(pending) >= batch:
            yield from flush()
            pending = []
    if pending:
        yield from flush()


# --- the similar-case index -----------------------------------------------------------------------------------


@dataclass
class Reindexed:
    vectorizer: ModelVersion
    cases: int
    directory: Path


def reindex(*, fit_texts: Sequence[str] | None = None, refit: bool = True, chunk: int = 20_000) -> Reindexed:
    """Rebuild the similar-case index from the database: fit a new vectoriser (on ``fit_texts``, or on the
    cases themselves), vectorise every case in chunks, write the index under ``DATA_DIR/similar/v<version>``
    and activate the vectoriser. Cases registered while this runs are added by the next catch-up
    (``catch_up_index``); run it when the office is quiet (a nightly job), or after a large import."""
    rows = Case.objects.order_by("pk").values_list("pk", "title", "content")
    total = rows.count()
    if total < 3:
        raise InvalidInput("信访件太少，无法建立相似检索索引（至少需要3件）")
    active = ModelVersion.objects.filter(kind=ModelKind.VECTORIZER, active=True).first()
    if refit or active is None:
        corpus = (
            list(fit_texts) if fit_texts else [case_text(t, c) for _, t, c in rows.iterator(chunk_size=chunk)]
        )
        try:
            vectorizer = CaseVectorizer().fit(corpus)
        except ValueError as exc:
            raise InvalidInput("信访件的文字太少，无法建立相似检索索引") from exc
        number = _next_version(ModelKind.VECTORIZER)
        path = engine.models_dir() / f"vectorizer-v{number}.npz"
        vectorizer.save(path)
    else:
        vectorizer = CaseVectorizer.load(active.path)
        number, path = active.version, Path(active.path)
    vectors = np.zeros((total, vectorizer.dim), dtype=np.float32)
    ids = np.zeros(total, dtype=np.int64)
    start = 0
    for pks, chunk_vectors in _vectorised(rows.iterator(chunk_size=chunk), vectorizer, chunk):
        vectors[start : start + len(pks)] = chunk_vectors
        ids[start : start + len(pks)] = pks
        start += len(pks)
    directory = engine.index_dir(number)
    if directory.exists():
        import shutil

        shutil.rmtree(directory)
    IVFIndex.create(directory, vectors[:start], ids[:start])
    if active is not None and active.version == number:
        model = active
    else:
        model = register_model(
            kind=ModelKind.VECTORIZER,
            path=path,
            metrics={"dim": vectorizer.dim, "indexed": start, "at": dt.datetime.now(dt.UTC).isoformat()},
            training_size=len(fit_texts) if fit_texts else start,
            source="cases",
        )
    engine.reset()
    return Reindexed(model, start, directory)


def catch_up_index(*, settle: dt.timedelta = CATCH_UP_SETTLE, chunk: int = 2_000) -> int:
    """Add to the index the cases it lacks, registered more than ``settle`` ago: those registered while a
    rebuild ran, and those whose append a crash of the machine lost (appends are not flushed to disk one by
    one). A periodic job, before the compaction; the number of cases added. Only the blocks of ids whose
    tallies differ between the database and the index are read id by id (``_unindexed``)."""
    index, loaded = engine.index(), engine.vectorizer()
    if index is None or loaded is None:
        return 0
    vectorizer: CaseVectorizer = loaded.obj
    missing = _unindexed(np.unique(index.ids()), before=timezone.now() - settle)

    def rows() -> Iterator[tuple[int, str, str]]:
        for start in range(0, len(missing), chunk):
            part = Case.objects.filter(pk__in=missing[start : start + chunk]).order_by("pk")
            yield from part.values_list("pk", "title", "content")

    added = 0
    for ids, vectors in _vectorised(rows(), vectorizer, chunk):
        index.add(vectors, ids)
        added += len(ids)
    return added


def _unindexed(indexed: np.ndarray, *, before: dt.datetime, block: int = CATCH_UP_BLOCK) -> list[int]:
    """The ids of the cases registered before ``before`` that are not among ``indexed`` (sorted, unique).

    The database tallies its case ids by block of ``block`` consecutive ids (how many, and their sum: one
    aggregate over the primary key), and so does the index; only the blocks whose tallies differ are read
    id by id, by their range of the primary key alone, and then only the ids the index lacks are looked up
    for their registration time. An index that lacks nothing is checked without moving the database's ids
    to this process. A block where the index holds a case the database no longer has is read too, so that a
    case lacking beside it is not hidden by it."""
    number = ExpressionWrapper(F("pk") / block, output_field=BigIntegerField())
    tallies = Case.objects.order_by().annotate(block=number).values("block")
    in_database = {
        row["block"]: (row["n"], row["total"]) for row in tallies.annotate(n=Count("pk"), total=Sum("pk"))
    }
    blocks, starts, counts = np.unique(indexed // block, return_index=True, return_counts=True)
    sums = np.add.reduceat(indexed, starts) if len(indexed) else np.zeros(0, dtype=np.int64)
    in_index = {int(b): (int(n), int(t)) for b, n, t in zip(blocks, counts, sums, strict=True)}
    lacking: list[int] = []
    for part, tally in sorted(in_database.items()):
        if in_index.get(part) != tally:
            # (in the key's order, not the cases' default order by registration time)
            ids = (
                Case.objects.order_by("pk")
                .filter(pk__gte=part * block, pk__lt=(part + 1) * block)
                .values_list("pk", flat=True)
            )
            in_block = indexed[slice(*np.searchsorted(indexed, [part * block, (part + 1) * block]))]
            read = np.fromiter(ids.iterator(chunk_size=20_000), dtype=np.int64)
            lacking += np.setdiff1d(read, in_block, assume_unique=True).tolist()
    settled: list[int] = []
    for start in range(0, len(lacking), 2_000):
        registered = Case.objects.order_by().filter(
            pk__in=lacking[start : start + 2_000], created_at__lt=before
        )
        settled += sorted(registered.values_list("pk", flat=True))
    return settled


def _vectorised(
    rows: Iterable[tuple[int, str, str]], vectorizer: CaseVectorizer, chunk: int
) -> Iterator[tuple[list[int], np.ndarray]]:
    """The ids and vectors of (id, title, content) rows of cases, ``chunk`` rows at a time."""
    iterator = iter(rows)
    while part := list(islice(iterator, chunk)):
        yield [pk for pk, _, _ in part], vectorizer.transform([case_text(t, c) for _, t, c in part])


def compact_index() -> int:
    """Merge the index's append log into its cells (a periodic job; an index that has outgrown its cells is
    partitioned anew); the number of cases indexed."""
    index = engine.index()
    if index is None:
        return 0
    index.compact()
    index.cleanup()
    return len(index)


def read_rows(path: str | Path) -> Iterable[dict[str, Any]]:
    return read_table(path)
