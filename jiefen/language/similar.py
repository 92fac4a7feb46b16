"""Related-case search: a stable vectoriser, an on-disk IVF index shared by every process, explanations and
repeat detection.

Design
======
Vectors.  ``CaseVectorizer`` maps a text to a 128-dim float32 unit vector: char 1–3-gram TF-IDF
(``features.HashedNgramTfidf``) projected by a truncated SVD (scikit-learn ``TruncatedSVD``), then L2-normalised,
so cosine similarity is a dot product. It is fitted once on a corpus (the office's history, or any public
petition text) and saved; after that it never changes, so vectors stored years apart stay comparable.
Refitting means re-vectorising and rebuilding the index (a background job).

Index.  ``IVFIndex`` is an inverted-file index (coarse k-means quantiser with ``nlist`` cells, search visits
the ``nprobe`` nearest cells) whose data live in plain files that every web process memory-maps; the OS page
cache holds one copy for all processes. A directory holds:

    CURRENT                  the live generation number (replaced atomically with os.replace)
    gen-000001/centroids.npy (nlist, dim) float32
    gen-000001/vectors.npy   (n, dim) float32, rows sorted by cell        \\ sealed part: written once,
    gen-000001/ids.npy       (n,) int64 case ids in the same order          | never modified, mapped
    gen-000001/offsets.npy   (nlist + 1,) int64 row range of each cell    /  read-only by readers
    gen-000001/tail.f32      appended vectors (dim float32 each)          \\ incremental part: append-only
    gen-000001/tail.ids      appended ids (int64 each)                      | log; searched in the probed
    gen-000001/tail.cells    each appended row's nearest cell (int64)       | cells only, like the rest
    gen-000001/tail.count    number of complete tail rows (int64)         /
    lock                     fcntl lock taken by writers (append; compact at its start and end)
    compact.lock             fcntl lock that keeps compactions one at a time

``add`` (new cases, at intake) appends to the tail under the lock: data first, then the count, so a reader
never sees a row whose bytes are incomplete. Appends are not flushed to disk one by one (three ``fsync``s
under the lock made every registration of every process wait for the disk in turn): the index is derived
from the database, so after a crash of the machine a reader counts only the rows whose bytes reached the
disk, and the periodic catch-up (``intelligence.services.catch_up_index``) adds the cases the index lacks.

``search_many`` answers a batch of queries (imports, the background enrichment) with one matrix product per
probed cell instead of a loop per query. ``compact`` (a periodic job, e.g. when the tail passes 50,000 rows,
and a bulk import's reader when the tail outweighs the cells) writes a new generation with the tail merged
into the cells, partitioned anew once the index has outgrown them, and switches ``CURRENT``; readers notice
the new number on their next search and re-map, while searches in flight finish on the old files (deleted by
``cleanup`` later, once no reader can still use them).

The storage is pluggable at this seam: ``VectorStore`` is the small interface the index needs
(``centroids``, per-cell rows, tail rows), so the Django side could keep vectors in the database (e.g.
PostgreSQL with pgvector) and reuse the same search and explanation code.

Targets (see bench/similar.py): 1,000,000 cases, top-10 p95 ≤ 20 ms, recall@10 ≥ 0.95 against exact
brute-force cosine over the same vectors.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import json
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from jiefen.language.extract import PLACE_TYPES, extract
from jiefen.language.features import HashedNgramTfidf
from jiefen.language.text import model_text

DIM = 128


# ---------------------------------------------------------------------------------------------- vectors


class CaseVectorizer:
    """Text → unit float32 vector (TF-IDF char n-grams → truncated SVD). Fit once, then stable."""

    def __init__(self, dim: int = DIM, max_features: int = 200_000):
        self.dim = dim
        self.tfidf = HashedNgramTfidf(n_max=3, min_df=2, max_features=max_features)
        self.components = np.zeros((0, 0), dtype=np.float32)  # (dim, n_features)

    def fit(self, texts: Sequence[str], seed: int = 0) -> CaseVectorizer:
        from sklearn.decomposition import TruncatedSVD

        matrix = self.tfidf.fit_transform(texts)
        svd = TruncatedSVD(n_components=min(self.dim, matrix.shape[1] - 1, len(texts) - 1), random_state=seed)
        svd.fit(matrix)
        self.components = svd.components_.astype(np.float32)
        self.dim = self.components.shape[0]
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self.tfidf.transform(texts) @ self.components.T, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1
        return vectors / norms

    def save(self, path: str | Path) -> None:
        np.savez(
            Path(path),
            dim=self.dim,
            keys=self.tfidf.keys_,
            idf=self.tfidf.idf_,
            components=self.components,
            max_features=self.tfidf.max_features or 0,
        )

    @classmethod
    def load(cls, path: str | Path) -> CaseVectorizer:
        with np.load(Path(path)) as data:
            vec = cls(int(data["dim"]), int(data["max_features"]) or 200_000)
            vec.tfidf = HashedNgramTfidf.from_state(
                {
                    "n_max": 3,
                    "min_df": 2,
                    "max_features": int(data["max_features"]) or None,
                    "keys": data["keys"],
                    "idf": data["idf"],
                }
            )
            vec.components = data["components"].astype(np.float32)
        return vec


# ---------------------------------------------------------------------------------------------- storage


class VectorStore(Protocol):
    """What ``IVFIndex`` reads. The file implementation is ``_Generation``; a database one can replace it."""

    centroids: np.ndarray

    def cell(self, i: int) -> tuple[np.ndarray, np.ndarray]: ...  # (vectors, ids) of cell i

    def tail(self) -> tuple[np.ndarray, np.ndarray]: ...  # (vectors, ids) appended since the last compaction


class _Generation:
    def __init__(self, directory: Path, dim: int):
        self.directory = directory
        self.centroids = np.load(directory / "centroids.npy", mmap_mode="r")
        self.vectors = np.load(directory / "vectors.npy", mmap_mode="r")
        self.ids = np.load(directory / "ids.npy", mmap_mode="r")
        self.offsets = np.load(directory / "offsets.npy")
        self.dim = dim

    def cell(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.vectors[start:end], self.ids[start:end]

    def tail_count(self) -> int:
        """The complete rows of the tail: its count, or fewer where the files hold fewer (after a crash of
        the machine, the count may have reached the disk before the rows it counts, or not at all; a count
        read while it is rewritten may be torn)."""
        count_file = self.directory / "tail.count"
        if not count_file.exists():
            return 0
        written = np.fromfile(count_file, dtype=np.int64)  # (empty where its 8 bytes never reached the disk)
        count = max(0, int(written[0])) if len(written) else 0
        for name, width in (("tail.f32", self.dim * 4), ("tail.ids", 8), ("tail.cells", 8)):
            path = self.directory / name
            if path.exists():
                count = min(count, path.stat().st_size // width)
            elif name != "tail.cells":  # (a tail appended by an older version has no cells)
                return 0
        return count

    def tail(self) -> tuple[np.ndarray, np.ndarray]:
        count = self.tail_count()
        if count == 0:
            return np.zeros((0, self.dim), dtype=np.float32), np.zeros(0, dtype=np.int64)
        vectors = np.memmap(self.directory / "tail.f32", dtype=np.float32, mode="r", shape=(count, self.dim))
        ids = np.memmap(self.directory / "tail.ids", dtype=np.int64, mode="r", shape=(count,))
        return vectors, ids

    def tail_cells(self, vectors: np.ndarray) -> np.ndarray:
        """The nearest cell of each tail row: stored by ``add``; rows appended by an older version are
        assigned here."""
        count = len(vectors)
        if count == 0:  # (no file before the first append)
            return np.zeros(0, dtype=np.int64)
        path = self.directory / "tail.cells"
        stored = path.stat().st_size // 8 if path.exists() else 0
        if stored >= count:
            return np.memmap(path, dtype=np.int64, mode="r", shape=(count,))
        cells = np.empty(count, dtype=np.int64)
        if stored:
            cells[:stored] = np.memmap(path, dtype=np.int64, mode="r", shape=(stored,))
        cells[stored:] = _assign(np.asarray(vectors[stored:]), np.asarray(self.centroids))
        return cells


class Hit(NamedTuple):
    """One search result (a tuple: batch searches make hundreds of thousands)."""

    case_id: int
    score: float


class IVFIndex:
    """Inverted-file cosine index in a directory of memory-mapped files (see the module docstring)."""

    def __init__(self, directory: str | Path, nprobe: int = 32):
        self.directory = Path(directory)
        self.nprobe = nprobe
        meta = json.loads((self.directory / "meta.json").read_text())
        self.dim = int(meta["dim"])
        self._generation_number = -1
        self._store: _Generation | None = None

    # -- building ------------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        directory: str | Path,
        vectors: np.ndarray,
        ids: np.ndarray,
        *,
        nlist: int | None = None,
        seed: int = 0,
    ) -> IVFIndex:
        """Build a new index from unit vectors; ``nlist`` defaults to about 2·√n cells."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        nlist = nlist or cells_for(n)
        centroids = _train_centroids(vectors, nlist, seed)
        (directory / "meta.json").write_text(json.dumps({"dim": dim, "nlist": nlist, "created": _now()}))
        _write_generation(directory, 1, centroids, vectors, np.asarray(ids, dtype=np.int64))
        _switch(directory, 1)
        return cls(directory)

    @contextmanager
    def _locked(self, name: str = "lock") -> Iterator[None]:
        with open(self.directory / name, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def add(self, vectors: np.ndarray, ids: Sequence[int] | np.ndarray) -> None:
        """Append cases (any process; writers serialise on the lock). Visible to the next search."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        id_array = np.asarray(ids, dtype=np.int64)
        with self._locked():
            store = self._current_store()
            cells = _assign(vectors, np.asarray(store.centroids))
            _append(store.directory, store.tail_count(), self.dim, vectors, id_array, cells)

    def compact(self) -> None:
        """Merge the tail into the cells as a new generation and switch to it (a background job). An index
        that has outgrown its cells (``cells_for`` its size is ``REPARTITION_GROWTH`` times as many) is
        partitioned anew, its cells trained on a sample of all its vectors: a search's probes then scan about
        as many vectors each as when the index was built, where they scanned ever more.

        Compactions run one at a time; appends go on meanwhile (the writers' lock is held only to take the
        tail and, at the end, to carry the rows appended since over to the new generation and switch)."""
        with self._locked("compact.lock"):
            with self._locked():
                number = _current(self.directory)
                old = _Generation(self.directory / _gen_name(number), self.dim)
                taken = old.tail_count()
            tail_vectors, tail_ids = (part[:taken] for part in old.tail())
            vectors = np.concatenate([np.asarray(old.vectors), np.asarray(tail_vectors)])
            ids = np.concatenate([np.asarray(old.ids), np.asarray(tail_ids)])
            nlist = len(old.offsets) - 1
            centroids: np.ndarray = np.asarray(old.centroids)
            cells: np.ndarray | None = None
            suited = cells_for(len(ids))
            if suited >= REPARTITION_GROWTH * nlist:
                centroids = _train_centroids(vectors, suited, seed=number)
            else:
                sealed_cells = np.repeat(np.arange(nlist), np.diff(old.offsets))
                cells = np.concatenate([sealed_cells, np.asarray(old.tail_cells(tail_vectors))])
            _write_generation(self.directory, number + 1, centroids, vectors, ids, cells)
            with self._locked():
                late_vectors, late_ids = (np.asarray(part[taken:]) for part in old.tail())
                if len(late_ids):
                    late_cells = _assign(late_vectors, centroids)
                    _append(
                        self.directory / _gen_name(number + 1),
                        0,
                        self.dim,
                        late_vectors,
                        late_ids,
                        late_cells,
                    )
                _switch(self.directory, number + 1)

    def tail_outweighs(self, minimum: int = 10_000) -> bool:
        """Whether the append log holds at least ``minimum`` rows and as many as the cells: searches then spend
        most of their time on it, and a bulk load compacts the index (``compact``)."""
        store = self._current_store()
        tail = store.tail_count()
        return tail >= minimum and tail >= len(store.ids)

    def cleanup(self, keep: int = 2) -> None:
        """Delete all but the newest ``keep`` generations (run well after a compaction)."""
        number = _current(self.directory)
        for path in self.directory.glob("gen-*"):
            if int(path.name[4:]) <= number - keep:
                shutil.rmtree(path, ignore_errors=True)

    # -- searching -----------------------------------------------------------------------------------
    def _current_store(self) -> _Generation:
        number = _current(self.directory)
        if self._store is None or number != self._generation_number:
            self._store = _Generation(self.directory / _gen_name(number), self.dim)
            self._generation_number = number
        return self._store

    def __len__(self) -> int:
        store = self._current_store()
        return len(store.ids) + len(store.tail()[1])

    def ids(self) -> np.ndarray:
        """Every indexed id (a case appended twice is here twice)."""
        store = self._current_store()
        return np.concatenate([np.asarray(store.ids), np.asarray(store.tail()[1])])

    def search(self, query: np.ndarray, k: int = 10, *, nprobe: int | None = None) -> list[Hit]:
        """The ``k`` most similar cases to one unit query vector, best first (cosine similarity)."""
        return self.search_many(np.asarray(query, dtype=np.float32).reshape(1, -1), k, nprobe=nprobe)[0]

    def search_many(
        self, queries: np.ndarray, k: int = 10, *, nprobe: int | None = None, min_score: float | None = None
    ) -> list[list[Hit]]:
        """``search`` for each row of ``queries``: each probed cell (and the tail rows in it) is scored
        against all the queries that probe it in one matrix product. ``min_score``: hits scoring below it are
        left out (a caller that drops them anyway saves their transfer).

        A cell's scores are merged into a query's best ``k`` only where one of them beats the ``k``-th best
        so far (and ``min_score``): after the first cells that is rarely so, and the merge costs more than
        the scoring."""
        store = self._current_store()
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        n_queries = len(queries)
        centroids = np.asarray(store.centroids)
        probe = min(nprobe or self.nprobe, len(centroids))
        cell_scores = queries @ centroids.T
        probes = (
            np.argpartition(-cell_scores, probe - 1, axis=1)[:, :probe]
            if probe < len(centroids)
            else (np.broadcast_to(np.arange(len(centroids)), (n_queries, len(centroids))))
        )
        tail_vectors, tail_ids = store.tail()
        if n_queries == 1:
            found = _search_one(store, queries[0], probes[0], tail_vectors, tail_ids, k)
            return [[hit for hit in found if min_score is None or hit.score >= min_score]]
        tail_groups: dict[int, np.ndarray] = {}
        if len(tail_ids):
            tail_cells = np.asarray(store.tail_cells(tail_vectors))
            order = np.argsort(tail_cells, kind="stable")
            bounds = np.searchsorted(tail_cells[order], np.arange(len(centroids) + 1))
            tail_groups = {c: order[bounds[c] : bounds[c + 1]] for c in np.unique(tail_cells).tolist()}
        best_scores = np.full((n_queries, k), -np.inf, dtype=np.float32)
        best_ids = np.full((n_queries, k), -1, dtype=np.int64)
        # The score a hit must reach to be among a query's best so far (scores are rounded to 4 places).
        entry = np.full(n_queries, -np.inf if min_score is None else min_score - 5e-5, dtype=np.float32)
        flat_cells = probes.ravel()
        flat_queries = np.repeat(np.arange(n_queries), probes.shape[1])
        order = np.argsort(flat_cells, kind="stable")
        cells_sorted, queries_sorted = flat_cells[order], flat_queries[order]
        starts = np.flatnonzero(np.r_[True, cells_sorted[1:] != cells_sorted[:-1]])
        ends = np.r_[starts[1:], len(cells_sorted)]
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            cell = int(cells_sorted[start])
            who = queries_sorted[start:end]
            vectors, ids = store.cell(cell)
            rows = tail_groups.get(cell)
            if rows is not None and len(rows):
                vectors = np.concatenate([np.asarray(vectors), np.asarray(tail_vectors[rows])])
                ids = np.concatenate([np.asarray(ids), np.asarray(tail_ids[rows])])
            if not len(ids):
                continue
            scores = queries[who] @ np.asarray(vectors).T
            entering = (scores >= entry[who, None]).any(axis=1)
            if not entering.any():
                continue
            who, scores = who[entering], scores[entering]
            if scores.shape[1] > k:  # (only a query's best k of the cell can enter its best k)
                part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
                scores, cell_ids = np.take_along_axis(scores, part, axis=1), np.asarray(ids)[part]
            else:
                cell_ids = np.broadcast_to(ids, scores.shape)
            merged_scores = np.concatenate([best_scores[who], scores], axis=1)
            merged_ids = np.concatenate([best_ids[who], cell_ids], axis=1)
            top = np.argpartition(-merged_scores, k - 1, axis=1)[:, :k]
            best_scores[who] = np.take_along_axis(merged_scores, top, axis=1)
            best_ids[who] = np.take_along_axis(merged_ids, top, axis=1)
            entry[who] = np.maximum(entry[who], best_scores[who].min(axis=1))
        ranked = np.argsort(-best_scores, axis=1, kind="stable")
        ranked_ids = np.take_along_axis(best_ids, ranked, axis=1).tolist()
        ranked_scores = np.round(
            np.take_along_axis(best_scores, ranked, axis=1).astype(np.float64), 4
        ).tolist()
        floor = -np.inf if min_score is None else min_score
        return [
            [Hit(i, score) for i, score in zip(ids, scores, strict=True) if i >= 0 and score >= floor]
            for ids, scores in zip(ranked_ids, ranked_scores, strict=True)
        ]


def _search_one(
    store: _Generation,
    query: np.ndarray,
    cells: np.ndarray,
    tail_vectors: np.ndarray,
    tail_ids: np.ndarray,
    k: int,
) -> list[Hit]:
    """``search_many`` for one query (a registration's): the probed cells' scores gathered and ranked once,
    and only the tail rows in those cells scored (no grouping of the whole tail)."""
    scores: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    for cell in cells.tolist():
        vectors, cell_ids = store.cell(cell)
        if len(cell_ids):
            scores.append(np.asarray(vectors) @ query)
            ids.append(np.asarray(cell_ids))
    if len(tail_ids):
        rows = np.flatnonzero(np.isin(np.asarray(store.tail_cells(tail_vectors)), cells))
        scores.append(np.asarray(tail_vectors[rows]) @ query)
        ids.append(np.asarray(tail_ids[rows]))
    if not scores:
        return []
    all_scores, all_ids = np.concatenate(scores), np.concatenate(ids)
    top = np.argpartition(-all_scores, k - 1)[:k] if len(all_scores) > k else np.arange(len(all_scores))
    top = top[np.argsort(-all_scores[top], kind="stable")]
    return [
        Hit(int(case_id), score)
        for case_id, score in zip(
            all_ids[top].tolist(), np.round(all_scores[top].astype(np.float64), 4).tolist(), strict=True
        )
    ]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _gen_name(number: int) -> str:
    return f"gen-{number:06d}"


def _current(directory: Path) -> int:
    return int((directory / "CURRENT").read_text())


def _switch(directory: Path, number: int) -> None:
    tmp = directory / "CURRENT.tmp"
    tmp.write_text(str(number))
    tmp.replace(directory / "CURRENT")


# ``compact`` partitions the index anew when this many times as many cells would suit its size.
REPARTITION_GROWTH = 1.4


def cells_for(n: int) -> int:
    """The number of cells for an index of ``n`` vectors: about 2·√n."""
    return max(1, min(n, int(2 * np.sqrt(n))))


def _train_centroids(vectors: np.ndarray, nlist: int, seed: int) -> np.ndarray:
    from sklearn.cluster import MiniBatchKMeans

    rng = np.random.default_rng(seed)
    sample = vectors[rng.choice(len(vectors), size=min(len(vectors), max(nlist * 16, 10_000)), replace=False)]
    # k-means++ seeds the cells from 3 samples per cell, not from the whole sample (8,192 × 3): 7.5 → 1.1 s of
    # CPU for 692 cells at 120,000 cases, with the same recall@10 (0.979–0.980 at nprobe 32, bench/similar.py).
    kmeans = MiniBatchKMeans(
        n_clusters=nlist, random_state=seed, batch_size=8192, n_init=1, max_iter=10, init_size=3 * nlist
    )
    kmeans.fit(sample)
    centroids = kmeans.cluster_centers_.astype(np.float32)
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return centroids / norms


def _assign(vectors: np.ndarray, centroids: np.ndarray, batch: int = 65536) -> np.ndarray:
    cells = np.empty(len(vectors), dtype=np.int64)
    for start in range(0, len(vectors), batch):
        cells[start : start + batch] = np.argmax(vectors[start : start + batch] @ centroids.T, axis=1)
    return cells


def _append(
    gen_dir: Path, count: int, dim: int, vectors: np.ndarray, ids: np.ndarray, cells: np.ndarray
) -> None:
    """Append rows to a generation's tail of ``count`` rows (the caller holds the writers' lock): the data
    first, then the count, so a reader never sees a row whose bytes are incomplete."""
    parts: list[tuple[str, int, np.ndarray]] = [("tail.f32", dim * 4, vectors), ("tail.ids", 8, ids)]
    # A tail written before cells were stored gets them worked out when searched.
    if (gen_dir / "tail.cells").exists() or count == 0:
        parts.append(("tail.cells", 8, cells))
    # Truncate to the committed count first: a writer that died mid-append left bytes past it. Nothing is
    # flushed to disk here (the index is the database's derivative; see ``_Generation.tail_count``).
    for name, width, data in parts:
        with open(gen_dir / name, "ab") as handle:
            handle.truncate(count * width)
            handle.write(np.ascontiguousarray(data).tobytes())
    # The count is rewritten in place (a new file renamed over it each time kept the disk's journal busy: 1 ms of
    # the kernel's CPU per registration). A reader that met it half-written is held to the complete rows by
    # ``tail_count``.
    with open(gen_dir / "tail.count", "r+b" if (gen_dir / "tail.count").exists() else "wb") as handle:
        handle.write(np.array([count + len(ids)], dtype=np.int64).tobytes())


def _write_generation(
    directory: Path,
    number: int,
    centroids: np.ndarray,
    vectors: np.ndarray,
    ids: np.ndarray,
    cells: np.ndarray | None = None,
) -> None:
    gen_dir = directory / _gen_name(number)
    tmp_dir = directory / (_gen_name(number) + ".tmp")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir()
    if cells is None:
        cells = _assign(vectors, centroids)
    order = np.argsort(cells, kind="stable")
    offsets = np.zeros(len(centroids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(cells, minlength=len(centroids)), out=offsets[1:])
    np.save(tmp_dir / "centroids.npy", centroids.astype(np.float32))
    np.save(tmp_dir / "vectors.npy", vectors[order])
    np.save(tmp_dir / "ids.npy", ids[order])
    np.save(tmp_dir / "offsets.npy", offsets)
    np.array([0], dtype=np.int64).tofile(tmp_dir / "tail.count")
    shutil.rmtree(gen_dir, ignore_errors=True)
    tmp_dir.rename(gen_dir)


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int = 10) -> np.ndarray:
    """Row indices of the exact top-``k`` cosine neighbours (for recall measurements and small offices)."""
    scores = vectors @ np.asarray(query, dtype=np.float32).ravel()
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


# ---------------------------------------------------------------------------------------------- reasons

_PHRASE_STOP = re.compile(
    r"^(?:我们|你们|他们|一个|没有|这个|那个|就是|已经|现在|什么|可以|领导|您好|尊敬|请问|问题|希望)$"
)


@dataclass(frozen=True, slots=True)
class Explanation:
    shared_phrases: tuple[str, ...]
    shared_places: tuple[str, ...]
    text: str


@functools.lru_cache(maxsize=4096)
def char_grams(text: str, n: int = 4) -> frozenset[str]:
    """The text's cleaned (``model_text``) character ``n``-grams (kept for the texts compared most often: an
    import's candidates)."""
    clean = model_text(text)
    return frozenset(clean[i : i + n] for i in range(len(clean) - n + 1))


@functools.lru_cache(maxsize=256)
def _gram_list(text: str, n: int) -> tuple[str, tuple[str, ...]]:
    """The text cleaned and its ``n``-grams in order (a new case is compared with a few candidates)."""
    clean = model_text(text)
    return clean, tuple(clean[i : i + n] for i in range(len(clean) - n + 1))


def common_runs(query: str, candidate: str, n: int = 4) -> list[str]:
    """The maximal runs of the query's cleaned text whose every ``n``-gram the candidate also contains, in
    the query's order: shared ``n``-grams grown into shared phrases."""
    clean_q, query_grams = _gram_list(query, n)
    grams = char_grams(candidate, n)
    shared = [gram in grams for gram in query_grams]
    runs: list[str] = []
    i = 0
    while True:
        try:
            i = shared.index(True, i)
        except ValueError:
            return runs
        try:
            end = shared.index(False, i)  # the first gram after the run
        except ValueError:
            end = len(shared)
        runs.append(clean_q[i : end - 1 + n])
        i = end - 1 + n  # (the next run starts after this phrase, as it is read)


def explain(query: str, candidate: str, *, max_phrases: int = 5) -> Explanation:
    """Why two cases look related: the places both name and the longest phrases both contain."""
    places_q = {
        e.value for e in extract(query, types=PLACE_TYPES) if e.type not in ("building", "unit", "room")
    }
    places_c = {
        e.value for e in extract(candidate, types=PLACE_TYPES) if e.type not in ("building", "unit", "room")
    }
    shared_places = tuple(sorted(places_q & places_c, key=lambda p: (-len(str(p)), str(p))))
    phrases: list[str] = []
    for phrase in common_runs(query, candidate):
        if not _PHRASE_STOP.match(phrase) and phrase not in phrases and not any(phrase in p for p in phrases):
            phrases.append(phrase)
    phrases = [p for p in phrases if not any(p in s for s in shared_places)]
    phrases.sort(key=len, reverse=True)
    top = tuple(phrases[:max_phrases])
    parts = []
    if shared_places:
        parts.append("同一地点：" + "、".join(map(str, shared_places)))
    if top:
        parts.append("共同内容：" + "、".join(top))
    return Explanation(top, tuple(map(str, shared_places)), "；".join(parts) or "内容相近")


# ---------------------------------------------------------------------------------------------- repeats


@dataclass(frozen=True, slots=True)
class Candidate:
    case_id: int
    text: str
    received_at: dt.datetime
    score: float
    person_id: int | None = None


@dataclass(frozen=True, slots=True)
class Repeat:
    case_id: int
    kind: str  # "near_duplicate" | "same_person" | "same_problem_same_place"
    score: float
    reason: str
    auto_merge: bool = False
    places: tuple[str, ...] = field(default_factory=tuple)


def find_repeats(
    text: str,
    received_at: dt.datetime,
    candidates: Sequence[Candidate],
    *,
    person_id: int | None = None,
    duplicate_score: float = 0.92,
    duplicate_window: dt.timedelta = dt.timedelta(minutes=30),
    same_problem_score: float = 0.55,
) -> list[Repeat]:
    """Classify search hits for a new case (``candidates`` come from ``IVFIndex.search`` plus the caller's
    lookup of texts, times and people; pass the person's own earlier cases too).

    * ``near_duplicate``: score ≥ ``duplicate_score`` within ``duplicate_window`` of each other — the same
      submission sent twice; ``auto_merge`` is set so the clerk can merge it in one click.
    * ``same_person``: the same petitioner's earlier case with a related text (score ≥ ``same_problem_score``
      / 2), a repeat petition (重复信访) on the same matter.
    * ``same_problem_same_place``: another person's case with score ≥ ``same_problem_score`` naming a common
      place — a joint petition or an emerging hotspot.

    Best first; a candidate gets the first kind that applies, in the order above."""
    repeats: list[Repeat] = []
    for cand in candidates:
        gap = abs(received_at - cand.received_at)
        why = explain(text, cand.text)
        if cand.score >= duplicate_score and gap <= duplicate_window:
            minutes = int(gap.total_seconds() // 60)
            repeats.append(
                Repeat(
                    cand.case_id,
                    "near_duplicate",
                    cand.score,
                    f"{minutes}分钟内内容几乎相同；{why.text}",
                    auto_merge=True,
                    places=why.shared_places,
                )
            )
        elif person_id is not None and cand.person_id == person_id and cand.score >= same_problem_score / 2:
            repeats.append(
                Repeat(
                    cand.case_id,
                    "same_person",
                    cand.score,
                    f"同一信访人此前反映；{why.text}",
                    places=why.shared_places,
                )
            )
        elif cand.score >= same_problem_score and why.shared_places:
            repeats.append(
                Repeat(
                    cand.case_id, "same_problem_same_place", cand.score, why.text, places=why.shared_places
                )
            )
    return sorted(repeats, key=lambda r: -r.score)
