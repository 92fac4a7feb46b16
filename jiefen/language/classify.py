"""Text classification of petitions into an office's taxonomy.

Two models share one interface, ``predict_top(texts, k) -> list[list[Suggestion]]`` where a ``Suggestion`` is
``(label, score, words)``: ``words`` explain the suggestion (the n-grams that pushed the text towards the label,
or the keywords that matched).

* ``train(texts, labels)`` → ``Model``: char 1–3-gram TF-IDF (``text.CharNgramTfidf``) and a linear SVM
  (scikit-learn ``LinearSVC``, one-vs-rest, balanced class weights), with scores calibrated to probabilities by a
  softmax whose temperature is fitted on cross-validated decision values. Labels may be taxonomy paths
  ("城乡建设/安全生产/事故处理"); ``predict_top(level=1)`` then sums the leaf probabilities of each ancestor, so
  one model answers at every level of the tree.
* ``KeywordModel.from_taxonomy(categories)`` for an office with no history yet: a rule model built from the
  category names and synonyms.

Files written by ``Model.save`` carry a format name and version, the creation time, the labels, the training
size and a metrics dict. They hold only numpy arrays and plain values in an uncompressed joblib pickle whose
arrays are memory-mapped on load (shared by all processes), so a model loads in milliseconds. Load only files
that the office itself produced: a pickle from elsewhere is not safe to open.

Evaluation must split by *text group*, not by row: petitions are repeated verbatim, and the same message can
appear in several exports. ``text_groups`` joins texts whose char-bigram cosine is ≥ a threshold.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypedDict

import joblib
import numpy as np
from scipy import sparse

from jiefen.language.text import CharNgramTfidf, model_text, normalize

FORMAT = "jiefen.classifier"
FORMAT_VERSION = 1
DEFAULT_SEPARATOR = "/"


class Suggestion(NamedTuple):
    label: str
    score: float
    words: tuple[str, ...]


# ---------------------------------------------------------------------------------------------- supervised


@dataclass
class Model:
    """A trained classifier. Create with ``train`` or ``Model.load``."""

    vectorizer: CharNgramTfidf
    coef: np.ndarray  # (n_labels, n_features) float32
    intercept: np.ndarray  # (n_labels,) float32
    labels: list[str]
    temperature: float = 1.0
    separator: str = DEFAULT_SEPARATOR
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    training_size: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        # sparse @ dense needs a C-contiguous right operand; coef.T is a Fortran view, and letting scipy copy
        # it on every call costs milliseconds per text. Keep one contiguous transposed copy.
        self._coef_t = np.ascontiguousarray(self.coef.T)

    # -- scoring -------------------------------------------------------------------------------------
    def decision(self, texts: Sequence[str]) -> tuple[sparse.csr_matrix, np.ndarray]:
        matrix = self.vectorizer.transform(texts)
        return matrix, np.asarray(matrix @ self._coef_t) + self.intercept

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, one row per text, columns in ``self.labels`` order."""
        return _softmax(self.decision(texts)[1] * self.temperature)

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.labels[i] for i in np.argmax(self.decision(texts)[1], axis=1)]

    def predict_top(
        self,
        texts: Sequence[str],
        k: int = 3,
        *,
        level: int | None = None,
        explain: bool = True,
        n_words: int = 6,
    ) -> list[list[Suggestion]]:
        """The ``k`` most likely labels for each text, best first, with probabilities and explanations.

        ``level`` (1-based) answers at that level of a path taxonomy: the probability of "城乡建设" is the sum
        of its leaves'. Explanations are the n-grams contributing most to the suggested label."""
        matrix, scores = self.decision(texts)
        proba = _softmax(scores * self.temperature)
        labels = self.labels
        members: list[list[int]] = [[i] for i in range(len(labels))]
        if level is not None:
            labels, members = self._level_groups(level)
            proba = np.stack([proba[:, idx].sum(axis=1) for idx in members], axis=1)
        k = min(k, len(labels))
        out: list[list[Suggestion]] = []
        for row in range(len(texts)):
            top = np.argsort(-proba[row], kind="stable")[:k]
            suggestions = []
            for rank, j in enumerate(top):
                # Only the best suggestion is explained: runner-ups' positive evidence is mostly noise.
                words = self._explain(matrix, row, members[j], n_words) if explain and rank == 0 else ()
                suggestions.append(Suggestion(labels[j], round(float(proba[row, j]), 4), words))
            out.append(suggestions)
        return out

    def _level_groups(self, level: int) -> tuple[list[str], list[list[int]]]:
        groups: dict[str, list[int]] = {}
        for i, label in enumerate(self.labels):
            parts = label.split(self.separator)
            groups.setdefault(self.separator.join(parts[:level]), []).append(i)
        return list(groups), list(groups.values())

    def _explain(
        self, matrix: sparse.csr_matrix, row: int, label_idx: list[int], n_words: int
    ) -> tuple[str, ...]:
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        cols = matrix.indices[start:end]
        if len(cols) == 0:
            return ()
        weights = self.coef[np.ix_(label_idx, cols)].max(axis=0)
        contrib = matrix.data[start:end] * weights
        picked: list[str] = []
        for j in np.argsort(-contrib)[: n_words * 4]:
            if contrib[j] <= 0 or len(picked) >= n_words:
                break
            gram = self.vectorizer.feature_name(int(cols[j]))
            if len(gram) < 2 or any(gram in p for p in picked):
                continue
            picked = [p for p in picked if p not in gram] + [gram]
        return tuple(_merge_overlaps(picked))

    # -- files ---------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the model to ``path`` (written to a temporary name, then renamed, so readers never see half)."""
        path = Path(path)
        payload = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created": self.created,
            "labels": list(self.labels),
            "training_size": self.training_size,
            "metrics": dict(self.metrics),
            "separator": self.separator,
            "temperature": float(self.temperature),
            "vectorizer": self.vectorizer.state(),
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float32),
        }
        tmp = path.with_name(path.name + ".tmp")
        # Uncompressed, so that ``load`` can memory-map the arrays: instant, and shared between processes.
        joblib.dump(payload, tmp, compress=0)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> Model:
        payload = joblib.load(path, mmap_mode="r")
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"{path}: not a Jiefen classifier file")
        if payload["version"] > FORMAT_VERSION:
            raise ValueError(
                f"{path}: format version {payload['version']} is newer than this code ({FORMAT_VERSION})"
            )
        return cls(
            vectorizer=CharNgramTfidf.from_state(payload["vectorizer"]),
            coef=payload["coef"],
            intercept=np.asarray(payload["intercept"], dtype=np.float32),
            labels=list(payload["labels"]),
            temperature=float(payload["temperature"]),
            separator=payload["separator"],
            created=payload["created"],
            training_size=int(payload["training_size"]),
            metrics=dict(payload["metrics"]),
            version=int(payload["version"]),
        )


def _merge_overlaps(grams: list[str]) -> list[str]:
    """Join n-grams that overlap into phrases: "拖欠工" + "欠工资" → "拖欠工资" (order of first appearance)."""
    merged = list(grams)
    changed = True
    while changed:
        changed = False
        for i, a in enumerate(merged):
            for j, b in enumerate(merged):
                if i != j and len(a) >= 2 and len(b) >= 2 and a[1:] == b[: len(a) - 1]:
                    merged[i] = a + b[len(a) - 1 :]
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _fit_svm(
    matrix: sparse.csr_matrix, labels: np.ndarray, classes: list[str], c: float
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.svm import LinearSVC

    clf = LinearSVC(C=c, class_weight="balanced", random_state=0)
    clf.fit(matrix, labels)
    index = {label: i for i, label in enumerate(clf.classes_)}
    coef = np.zeros((len(classes), matrix.shape[1]), dtype=np.float32)
    intercept = np.full(len(classes), -1e3, dtype=np.float32)
    if len(clf.classes_) == 2:  # binary LinearSVC has one row: + for classes_[1]
        coef[index[clf.classes_[1]]] = clf.coef_[0]
        coef[index[clf.classes_[0]]] = -clf.coef_[0]
        intercept[index[clf.classes_[1]]] = clf.intercept_[0]
        intercept[index[clf.classes_[0]]] = -clf.intercept_[0]
    else:
        for label, i in index.items():
            j = classes.index(label)
            coef[j] = clf.coef_[i]
            intercept[j] = clf.intercept_[i]
    return coef, intercept


def _fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature minimising the log-loss of held-out decision values (grid then refine)."""

    def nll(t: float) -> float:
        proba = _softmax(scores * t)
        return float(-np.mean(np.log(proba[np.arange(len(truth)), truth] + 1e-12)))

    grid = np.geomspace(0.25, 64, 49)
    best = float(min(grid, key=nll))
    for step in (1.1, 1.02):
        best = float(min((best / step, best, best * step), key=nll))
    return best


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    c: float = 1.0,
    min_df: int = 2,
    max_features: int | None = 600_000,
    calibrate_folds: int = 3,
    groups: Sequence[Any] | None = None,
    separator: str = DEFAULT_SEPARATOR,
) -> Model:
    """Train a classifier on ``texts`` with ``labels`` (plain labels or taxonomy paths joined by ``separator``).

    ``calibrate_folds`` cross-validation folds fit the probability temperature (0 disables calibration);
    ``groups`` keeps copies of one text in one fold (default: ``text_groups(texts)``-free exact grouping by
    ``model_text``). Needs at least two distinct labels."""
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("training needs at least two distinct labels")
    y = np.asarray(labels)
    vectorizer = CharNgramTfidf(n_max=3, min_df=min_df, max_features=max_features)
    matrix = vectorizer.fit_transform(texts)
    coef, intercept = _fit_svm(matrix, y, classes, c)
    temperature = 1.0
    if calibrate_folds >= 2 and len(texts) >= calibrate_folds * 10:
        from sklearn.model_selection import GroupKFold

        group_ids = list(groups) if groups is not None else [model_text(t) for t in texts]
        held_scores = np.zeros((len(texts), len(classes)), dtype=np.float32)
        for train_idx, test_idx in GroupKFold(n_splits=calibrate_folds).split(matrix, y, group_ids):
            if len(set(y[train_idx])) < 2:
                continue
            fold_coef, fold_intercept = _fit_svm(matrix[train_idx], y[train_idx], classes, c)
            held_scores[test_idx] = np.asarray(matrix[test_idx] @ fold_coef.T) + fold_intercept
        truth = np.array([classes.index(label) for label in labels])
        temperature = _fit_temperature(held_scores, truth)
    return Model(vectorizer, coef, intercept, classes, temperature, separator, training_size=len(texts))


# ---------------------------------------------------------------------------------------------- evaluation


def text_groups(texts: Sequence[str], threshold: float = 0.9, chunk: int = 2000) -> list[int]:
    """Group ids such that texts whose char-bigram TF-IDF cosine is ≥ ``threshold`` share a group
    (transitively). Identical ``model_text`` forms always share one. Use these for grouped splits."""
    parent = list(range(len(texts)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    first_of: dict[str, int] = {}
    for i, t in enumerate(texts):
        key = model_text(t)
        if key in first_of:
            parent[find(i)] = find(first_of[key])
        else:
            first_of[key] = i
    vectorizer = CharNgramTfidf(n_max=2, min_df=1)
    matrix = vectorizer.fit_transform(texts)
    # Bigrams only: drop unigram columns (keys below 2**21 are single code points).
    matrix = matrix[:, np.flatnonzero(vectorizer.keys_ >= (1 << 21))]
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    matrix = sparse.diags(1 / norms) @ matrix
    matrix = sparse.csr_matrix(matrix)
    for start in range(0, len(texts), chunk):
        sims = (matrix[start : start + chunk] @ matrix.T).tocoo()
        keep = (sims.data >= threshold) & (sims.row + start < sims.col)
        for a, b in zip(sims.row[keep] + start, sims.col[keep], strict=True):
            parent[find(int(a))] = find(int(b))
    return [find(i) for i in range(len(texts))]


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(list(truth), list(predicted), average="macro"))


def evaluate(model: Model, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-label F1 of ``model`` on a held-out set."""
    from sklearn.metrics import f1_score

    predicted = model.predict(texts)
    per_label = f1_score(list(labels), predicted, average=None, labels=model.labels, zero_division=0)
    return {
        "n": len(texts),
        "accuracy": round(float(np.mean([p == t for p, t in zip(predicted, labels, strict=True)])), 4),
        "macro_f1": round(macro_f1(labels, predicted), 4),
        "f1_per_label": {label: round(float(f), 4) for label, f in zip(model.labels, per_label, strict=True)},
    }


# ---------------------------------------------------------------------------------------------- keywords


class TaxonomyEntry(TypedDict, total=False):
    code: str
    name: str
    path: str | Sequence[str]
    synonyms: Sequence[str]


class KeywordModel:
    """Rule classifier from category names and synonyms, for an office with no labelled history.

    A category scores the sum of its matched keywords' weights (longer keywords weigh more: "无序停车" says
    more than "停车"), plus half the score of its matched descendants (a quarter for grandchildren …); a
    matched leaf also gets a share of its matched ancestors' score, so "物业公司乱收停车费" ranks 停车管理
    above 物业管理. Scores are mapped to (0, 1) by ``1 - exp(-score / 4)``; they rank,
    they are not probabilities. Explanations are the matched keywords."""

    def __init__(self, entries: Iterable[TaxonomyEntry], *, separator: str = DEFAULT_SEPARATOR):
        self.codes: list[str] = []
        self.parent: dict[str, str | None] = {}
        keyword_codes: dict[str, set[str]] = {}
        by_path: dict[tuple[str, ...], str] = {}
        paths: dict[str, tuple[str, ...]] = {}
        for entry in entries:
            code = str(entry["code"])
            name = normalize(entry.get("name", ""))
            raw_path = entry.get("path") or name
            path = tuple(
                p for p in (raw_path.split(separator) if isinstance(raw_path, str) else raw_path) if p
            )
            self.codes.append(code)
            paths[code] = tuple(normalize(p) for p in path)
            by_path[paths[code]] = code
            for word in [name, *entry.get("synonyms", ())]:
                word = normalize(word)
                if len(word) >= 2:
                    keyword_codes.setdefault(word, set()).add(code)
        for code, path in paths.items():
            self.parent[code] = by_path.get(path[:-1]) if len(path) > 1 else None
        self.keyword_codes = keyword_codes
        words = sorted(keyword_codes, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, words))) if words else None

    @classmethod
    def from_taxonomy(
        cls, entries: Iterable[Mapping[str, Any]], *, separator: str = DEFAULT_SEPARATOR
    ) -> KeywordModel:
        return cls([TaxonomyEntry(**dict(e)) for e in entries], separator=separator)  # type: ignore[typeddict-item]

    def predict_top(self, texts: Sequence[str], k: int = 3) -> list[list[Suggestion]]:
        out: list[list[Suggestion]] = []
        for text in texts:
            text = normalize(text)
            scores: dict[str, float] = {}
            words: dict[str, list[str]] = {}
            if self._pattern is not None:
                for m in self._pattern.finditer(text):
                    word = m.group()
                    for code in self.keyword_codes[word]:
                        scores[code] = scores.get(code, 0.0) + len(word) / 2
                        if word not in words.setdefault(code, []):
                            words[code].append(word)
            total = dict(scores)
            for code, score in scores.items():
                # Matched words support the category's ancestors (halving per level) and a matched leaf gets
                # half of its matched ancestors' own score: it ranks above its parent unless the parent's
                # own words are stronger.
                share = score / 2
                parent = self.parent.get(code)
                while parent is not None:
                    total[parent] = total.get(parent, 0.0) + share
                    if parent in scores:
                        total[code] += scores[parent] / 2
                    for w in words.get(code, []):
                        if w not in words.setdefault(parent, []):
                            words[parent].append(w)
                    share /= 2
                    parent = self.parent.get(parent)
            ranked = sorted(total.items(), key=lambda kv: (-kv[1], self.codes.index(kv[0])))[:k]
            out.append(
                [
                    Suggestion(code, round(1 - math.exp(-s / 4), 4), tuple(words.get(code, ())))
                    for code, s in ranked
                ]
            )
        return out
