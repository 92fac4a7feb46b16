"""The language work on a batch of texts that needs nothing but the models: the classifier's top 3, the
entities, the risk flags the text raises, the case vectors and the nearest indexed cases.

Intake's enricher calls ``read`` in its own process for a registration. A bulk import has a ``Reader`` run it
in a second process for the next batch while the current batch is written, so the two cores share an
import's work. Every part is guarded on its own: a part that fails is logged and left ``None``, and the
other parts still count.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from jiefen.language import extract as ex
from jiefen.language import risk as risk_mod
from jiefen.language.classify import KeywordModel, Model, Suggestion
from jiefen.language.similar import CaseVectorizer, IVFIndex

log = logging.getLogger(__name__)


@dataclass
class Models:
    """What ``read`` works with; any of them may be missing (a fresh office has no vectoriser or index)."""

    classifier: Model | KeywordModel | None = None
    vectorizer: CaseVectorizer | None = None
    index: IVFIndex | None = None


@dataclass
class Reading:
    """``read``'s findings, one entry per text (``None`` where a part failed or had no model)."""

    suggestions: list[list[Suggestion]] | None
    entities: list[list[ex.Entity]] | None
    extractions: list[dict[str, Any]] | None  # ``extract.summary`` of each text's entities
    risks: list[risk_mod.RiskReport] | None
    vectors: np.ndarray | None
    hits: list[list[tuple[int, float]]] | None  # (case id, score) pairs: ``similar.Hit``s where read
    # A ``Reader``'s: the number of its submission this reading is of, and, where it had read one before,
    # that one's number and each text's nearest texts in it ((position, score) pairs, like ``hits``).
    number: int | None = None
    recent_of: int | None = None
    recent: list[list[tuple[int, float]]] | None = None
    # Set by ``pick``: the position in the submission of each text picked.
    positions: list[int] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # What crosses to the import's process is what it uses, in the forms that unpickle fastest (its share
        # of the import's time): the entities' summaries, not the entities; the hits as plain pairs.
        state = dict(self.__dict__)
        state["entities"] = None
        if self.hits is not None:
            state["hits"] = [[(case_id, score) for case_id, score in row] for row in self.hits]
        return state

    def pick(self, rows: Sequence[int]) -> Reading:
        """The findings of the texts at ``rows``, in that order."""
        rows = list(rows)

        def each(found: list[Any] | None) -> list[Any] | None:
            return None if found is None else [found[i] for i in rows]

        return Reading(
            each(self.suggestions),
            each(self.entities),
            each(self.extractions),
            each(self.risks),
            None if self.vectors is None else self.vectors[rows],
            each(self.hits),
            self.number,
            self.recent_of,
            each(self.recent),
            rows,
        )


def read(
    texts: Sequence[str],
    dates: Sequence[dt.date | None],
    models: Models,
    *,
    k: int,
    min_score: float | None = None,
) -> Reading:
    """Classify, extract, assess (with no earlier petitions counted: the caller knows those), vectorise and
    search the ``k`` nearest indexed cases (scoring at least ``min_score``), for each of ``texts`` received
    on ``dates``."""
    texts = list(texts)
    suggestions = entities = extractions = risks = vectors = hits = None
    if models.classifier is not None:
        suggestions = _guarded("classification", lambda: models.classifier.predict_top(texts, 3))  # type: ignore[union-attr]
    entities = _guarded(
        "extraction", lambda: [ex.extract(text, today=day) for text, day in zip(texts, dates, strict=True)]
    )
    if entities is not None:
        found = entities
        extractions = _guarded("extraction", lambda: [ex.summary(these) for these in found])
        risks = _guarded(
            "risk assessment",
            lambda: [
                risk_mod.assess(text, case_date=day, entities=these)
                for text, day, these in zip(texts, dates, found, strict=True)
            ],
        )
    if models.vectorizer is not None:
        vectors = _guarded("vectorising", lambda: models.vectorizer.transform(texts))  # type: ignore[union-attr]
    if vectors is not None and models.index is not None and len(texts):
        queries, index = vectors, models.index
        hits = _guarded("similar-case search", lambda: index.search_many(queries, k, min_score=min_score))
    return Reading(suggestions, entities, extractions, risks, vectors, hits)


def _guarded(part: str, work: Any, *args: Any) -> Any:
    try:
        return work(*args)
    except Exception:
        log.exception("%s failed", part)
        return None


# --- in a second process ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFiles:
    """Where a second process finds the models: a trained classifier's file or the keyword rules' taxonomy
    entries, the vectoriser's file and the index directory (each optional)."""

    classifier: str | None = None
    taxonomy: tuple[dict[str, Any], ...] = ()
    vectorizer: str | None = None
    index: str | None = None

    def load(self) -> Models:
        classifier: Model | KeywordModel | None = None
        if self.classifier:
            classifier = Model.load(self.classifier)
        elif self.taxonomy:
            classifier = KeywordModel.from_taxonomy(list(self.taxonomy))
        vectorizer = CaseVectorizer.load(self.vectorizer) if self.vectorizer else None
        index = IVFIndex(self.index) if self.index and (Path(self.index) / "CURRENT").exists() else None
        return Models(classifier, vectorizer, index)


_worker_models: Models | None = None
# The reader process's last submission with vectors: its number and vectors.
_previous: tuple[int, np.ndarray] | None = None


# The garbage collector's first threshold while a bulk import runs, in its own process and in the reader
# (Python's is 700 allocations): each batch makes hundreds of thousands of short-lived objects, and at 700
# collections kept walking the import's memos and the loaded models (a fifth of the import's time).
BATCH_GC_THRESHOLD = 50_000


def _open(files: ModelFiles) -> None:
    global _worker_models
    _worker_models = files.load()
    gc.freeze()  # (the models stay for the process's life: no collection need look at them)
    gc.set_threshold(BATCH_GC_THRESHOLD, *gc.get_threshold()[1:])


# The reader compacts the similar-case index before a batch once its append log holds this many rows, and as
# many as its cells (``IVFIndex.tail_outweighs``).
COMPACT_TAIL_ROWS = 10_000


def _compact_and_clean(index: IVFIndex) -> None:
    index.compact()
    index.cleanup()


def _read_in_worker(
    texts: list[str], dates: list[dt.date | None], k: int, min_score: float | None = None, number: int = 0
) -> Reading:
    if _worker_models is None:
        raise RuntimeError("the reader process has no models")
    index = _worker_models.index
    if index is not None and _guarded("index compaction", index.tail_outweighs, COMPACT_TAIL_ROWS):
        # A bulk load's cases go to the index's append log, which every search scans in the cells it probes:
        # at five times the cells' size, the searches took three times as long. Merged (and partitioned anew
        # once the index has outgrown its cells), they take about as long as at the start.
        _guarded("index compaction", _compact_and_clean, index)
    global _previous
    reading = read(texts, dates, _worker_models, k=k, min_score=min_score)
    if reading.vectors is not None:
        reading.number = number
        if _previous is not None:
            reading.recent_of = _previous[0]
            reading.recent = _guarded(
                "comparison with the batch before", nearest, reading.vectors, _previous[1], k, min_score
            )
        _previous = (number, reading.vectors)
    return reading


def nearest(
    vectors: np.ndarray, others: np.ndarray, k: int, min_score: float | None = None
) -> list[list[tuple[int, float]]]:
    """For each of ``vectors``, the positions in ``others`` of its ``k`` nearest (scoring at least
    ``min_score``) with their scores, as a search of an index holding them would find them (exactly: these
    are few). A bulk import's reading compares each batch with the batch before, which its search may have
    run too early to find in the index."""
    scores = vectors @ others.T
    if scores.shape[1] > k:  # (only the best k can be among the best k overall)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        top = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    top_scores = np.round(np.take_along_axis(scores, top, axis=1).astype(np.float64), 4).tolist()
    floor = -np.inf if min_score is None else min_score
    return [
        [(p, score) for p, score in zip(positions, row, strict=True) if score >= floor]
        for positions, row in zip(top.tolist(), top_scores, strict=True)
    ]


class Reader:
    """One second process that runs ``read`` over batches handed to it, with the models of ``files``
    (loaded once, when it starts). Started fresh (``spawn``), so it inherits no open connections or locks.
    The submissions are numbered; each reading also holds its texts' nearest in the submission before
    (``Reading.recent``)."""

    def __init__(self, files: ModelFiles):
        self.files = files
        self._submitted = 0
        self._pool = ProcessPoolExecutor(
            1, mp_context=get_context("spawn"), initializer=_open, initargs=(files,)
        )

    def submit(
        self,
        texts: Sequence[str],
        dates: Sequence[dt.date | None],
        *,
        k: int,
        min_score: float | None = None,
    ) -> Future[Reading]:
        self._submitted += 1
        return self._pool.submit(_read_in_worker, list(texts), list(dates), k, min_score, self._submitted)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
