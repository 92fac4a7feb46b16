"""The models intake uses, loaded once per process and shared by its threads.

Each process keeps the active classifier, the active vectoriser and the similar-case index of that vectoriser
(an ``IVFIndex`` over memory-mapped files in ``DATA_DIR/similar/v<version>``, so every process on the host reads
one copy from the page cache). At most every ``CHECK_SECONDS`` a process asks the database which versions are
active and loads a newer one; training or reindexing in one process therefore reaches all web processes within
seconds without a restart. With no trained classifier the keyword model built from the taxonomy (category
names and synonyms, editable by admins) answers instead; it is rebuilt when a category changes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from jiefen.cases.models import Category
from jiefen.intelligence.models import ModelKind, ModelVersion
from jiefen.language.classify import KeywordModel, Model
from jiefen.language.reading import ModelFiles, Models
from jiefen.language.similar import CaseVectorizer, IVFIndex

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
# Another process's edit of the taxonomy reaches this one's keyword rules within this time.
TAXONOMY_SECONDS = 60.0


def models_dir() -> Path:
    path = Path(settings.DATA_DIR) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def similar_dir() -> Path:
    path = Path(settings.DATA_DIR) / "similar"
    path.mkdir(parents=True, exist_ok=True)
    return path


def index_dir(vectorizer_version: int) -> Path:
    return similar_dir() / f"v{vectorizer_version}"


@dataclass
class Loaded:
    version: int
    obj: Any
    path: str = ""


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked_at = 0.0
        self.active: dict[str, int | None] = {}
        self.loaded: dict[str, Loaded] = {}
        self.index: Loaded | None = None
        self.keywords: KeywordModel | None = None
        self.categories: dict[str, Category] | None = None
        self.taxonomy_at = 0.0

    def reset(self) -> None:
        with self.lock:
            self.checked_at = 0.0
            self.active.clear()
            self.loaded.clear()
            self.index = None
            self.keywords = None
            self.categories = None


_cache = _Cache()


def reset() -> None:
    """Forget everything loaded (tests, and after a category change for the keyword model)."""
    _cache.reset()


def forget_keywords(**_: Any) -> None:
    """A category changed: rebuild the keyword rules and the label → category map on next use."""
    _cache.keywords = None
    _cache.categories = None


def categories() -> dict[str, Category]:
    """Active categories by every label a model may predict: code, full name, "/" path, name."""
    _taxonomy_fresh()
    found = _cache.categories
    if found is None:
        found = {}
        for category in Category.objects.filter(is_active=True):
            for key in (category.code, category.full_name, label_of(category)):
                found.setdefault(key, category)
            found.setdefault(category.name, category)
        _cache.categories = found
    return found


def _refresh_active() -> None:
    now = time.monotonic()
    if now - _cache.checked_at < CHECK_SECONDS and _cache.active:
        return
    rows = ModelVersion.objects.filter(active=True).values_list("kind", "version", "path")
    active: dict[str, int | None] = {ModelKind.CLASSIFIER: None, ModelKind.VECTORIZER: None}
    paths: dict[str, str] = {}
    for kind, number, path in rows:
        active[kind] = number
        paths[kind] = path
    with _cache.lock:
        _cache.active = active
        _cache.checked_at = now
        for kind, version in active.items():
            current = _cache.loaded.get(kind)
            if version is None:
                _cache.loaded.pop(kind, None)
            elif current is None or current.version != version:
                try:
                    obj: Any = (Model if kind == ModelKind.CLASSIFIER else CaseVectorizer).load(paths[kind])
                except (OSError, ValueError):
                    log.exception("cannot load %s model v%s from %s", kind, version, paths[kind])
                    continue
                _cache.loaded[kind] = Loaded(version, obj, paths[kind])


def classifier() -> Loaded | None:
    """The active trained classifier, or None when the office has not trained one."""
    _refresh_active()
    return _cache.loaded.get(ModelKind.CLASSIFIER)


def _taxonomy_fresh() -> None:
    if time.monotonic() - _cache.taxonomy_at > TAXONOMY_SECONDS:
        _cache.keywords = None
        _cache.categories = None
        _cache.taxonomy_at = time.monotonic()


def keyword_model() -> KeywordModel:
    _taxonomy_fresh()
    model = _cache.keywords
    if model is None:
        model = KeywordModel.from_taxonomy(taxonomy_entries())
        _cache.keywords = model
    return model


def taxonomy_entries() -> list[dict[str, Any]]:
    return [
        {"code": c.code, "name": c.name, "path": label_of(c), "synonyms": c.synonym_list}
        for c in Category.objects.filter(is_active=True).order_by("path")
    ]


def label_of(category: Category) -> str:
    """The label a category trains under: its path of names joined by "/" (so a model answers per level)."""
    return (category.full_name or category.name).replace(" › ", "/")


def vectorizer() -> Loaded | None:
    _refresh_active()
    return _cache.loaded.get(ModelKind.VECTORIZER)


def index() -> IVFIndex | None:
    """The shared index of the active vectoriser, or None before the first ``jiefen reindex``."""
    vec = vectorizer()
    if vec is None:
        return None
    current = _cache.index
    if current is not None and current.version == vec.version:
        return current.obj  # type: ignore[no-any-return]
    directory = index_dir(vec.version)
    if not (directory / "CURRENT").exists():
        return None
    loaded = IVFIndex(directory)
    _cache.index = Loaded(vec.version, loaded)
    return loaded


def models() -> Models:
    """This process's models for ``language.reading.read``: the trained classifier (or the keyword rules),
    the vectoriser and the index."""
    trained, vec = classifier(), vectorizer()
    return Models(trained.obj if trained else keyword_model(), vec.obj if vec else None, index())


def versions() -> tuple[int | None, int | None]:
    """The active classifier's and vectoriser's versions (None: keyword rules, or no vectoriser)."""
    trained, vec = classifier(), vectorizer()
    return (trained.version if trained else None, vec.version if vec else None)


def model_files() -> ModelFiles:
    """Where another process finds the same models as ``models``."""
    trained, vec = classifier(), vectorizer()
    return ModelFiles(
        classifier=trained.path if trained else None,
        taxonomy=() if trained else tuple(taxonomy_entries()),
        vectorizer=vec.path if vec else None,
        index=str(index_dir(vec.version)) if vec else None,
    )
