"""Text classification of petitions into an office's taxonomy.

Two models share one interface, ``predict_top(texts, k) -> list[list[Suggestion]]`` where a ``Suggestion`` is
``(label, score, words)``: ``words`` explain the suggestion (the n-grams that pushed the text towards the label,
or the keywords that matched).

* ``train(texts, labels)`` → ``Model``: TF-IDF of body char 1–3-grams, head (subject line) char 1–3-grams and
  dictionary words (``features.TextFeatures``), scored by the sum of two one-vs-rest linear models with
  balanced class weights: a linear SVM and an NB-SVM (an SVM over features scaled by their naive-Bayes
  log-count ratio, Wang & Manning 2012). Both are linear in the features, so their sum is one weight matrix:
  prediction and explanations cost what one linear model costs. Scores are calibrated to probabilities by a
  softmax whose temperature is fitted on cross-validated decision values (scaled by the ratio of the fold
  models' weight norm to the final model's). Labels may be taxonomy paths ("城乡建设/安全生产/事故处理");
  ``predict_top(level=1)`` then sums the leaf probabilities of each ancestor, so one model answers at every
  level of the tree.
* ``KeywordModel.from_taxonomy(categories)`` for an office with no history yet: a rule model built from the
  category names and synonyms.

Files written by ``Model.save`` carry a format name and version, the creation time, the labels, the training
size and a metrics dict. They hold only numpy arrays and plain values in an uncompressed joblib pickle whose
arrays are memory-mapped on load (shared by all processes), so a model loads in a fraction of a second (most
of it rebuilding the n-gram lookup tables). A file of another format version is refused: retrain. Load only files
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

from jiefen.language.features import TextFeatures
from jiefen.language.text import CharNgramTfidf, model_text, normalize

FORMAT = "jiefen.classifier"
# 2: body + head + word features, SVM + NB-SVM weights. Version 1 files (char n-grams only) are refused.
FORMAT_VERSION = 2
DEFAULT_SEPARATOR = "/"


class Suggestion(NamedTuple):
    label: str
    score: float
    words: tuple[str, ...]


# ---------------------------------------------------------------------------------------------- supervised


@dataclass
class Model:
    """A trained classifier. Create with ``train`` or ``Model.load``."""

    vectorizer: TextFeatures
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
        self._level_coef: dict[int | None, tuple[list[str], list[list[int]], np.ndarray]] = {}
        self._names: dict[int, str] = {}

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
        labels, members, group_coef = self._levels(level)
        if level is not None:
            proba = np.stack([proba[:, idx].sum(axis=1) for idx in members], axis=1)
        k = min(k, len(labels))
        top = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        # Only the best suggestion is explained: runner-ups' positive evidence is mostly noise.
        words = self._explain(matrix, top[:, 0], group_coef, n_words) if explain and k else None
        out: list[list[Suggestion]] = []
        for row, best in enumerate(top.tolist()):
            out.append(
                [
                    Suggestion(
                        labels[j],
                        round(float(proba[row, j]), 4),
                        words[row] if words is not None and rank == 0 else (),
                    )
                    for rank, j in enumerate(best)
                ]
            )
        return out

    def _feature_name(self, column: int) -> str:
        name = self._names.get(column)
        if name is None:
            if len(self._names) > 100_000:  # bound the cache; the explaining features are a small set
                self._names.clear()
            name = self._names[column] = self.vectorizer.feature_name(column)
        return name

    def _levels(self, level: int | None) -> tuple[list[str], list[list[int]], np.ndarray]:
        """Labels at ``level`` (all leaves for None), their member leaves, and the weights that explain each:
        the elementwise maximum over its leaves (a feature counts for 城乡建设 if it counts for any leaf)."""
        if level not in self._level_coef:
            if level is None:
                labels, members, coef = list(self.labels), [[i] for i in range(len(self.labels))], self.coef
            else:
                labels, members = self._level_groups(level)
                coef = np.stack([self.coef[idx].max(axis=0) for idx in members])
            self._level_coef[level] = (labels, members, coef)
        return self._level_coef[level]

    def _level_groups(self, level: int) -> tuple[list[str], list[list[int]]]:
        groups: dict[str, list[int]] = {}
        for i, label in enumerate(self.labels):
            parts = label.split(self.separator)
            groups.setdefault(self.separator.join(parts[:level]), []).append(i)
        return list(groups), list(groups.values())

    def _explain(
        self, matrix: sparse.csr_matrix, best: np.ndarray, coef: np.ndarray, n_words: int
    ) -> list[tuple[str, ...]]:
        """For each row, the features with the largest positive products of the row's value and the weight
        of its best label (``coef[best[row]]``), as readable phrases: a gram inside a longer picked one is
        dropped, overlapping grams are merged ("拖欠工" + "欠工资" → "拖欠工资").

        The products, the ranking and the cut to ``4 * n_words`` candidates per row are computed for the whole
        batch at once; only the candidates' names are handled per row."""
        n_rows = matrix.shape[0]
        counts = np.diff(matrix.indptr)
        row_of = np.repeat(np.arange(n_rows), counts)
        contrib = matrix.data * coef[best[row_of], matrix.indices]
        # Candidates are the positive products of at least 1/20 of the row's largest: weaker ones never reach
        # the first few words, and dropping them before the sort keeps the sort small.
        row_max = np.zeros(n_rows, dtype=contrib.dtype)
        if contrib.size:
            row_max[counts > 0] = np.maximum.reduceat(contrib, matrix.indptr[:-1][counts > 0])
        strong = (contrib > 0) & (contrib >= row_max[row_of] / 20)
        rows, cols, contrib = row_of[strong], matrix.indices[strong], contrib[strong]
        order = np.lexsort((-contrib, rows))  # by row, then by contribution, largest first
        rows, cols = rows[order], cols[order]
        starts = np.searchsorted(rows, np.arange(n_rows + 1))
        rank = np.arange(len(rows)) - starts[rows]
        keep = rank < n_words * 4
        rows, cols = rows[keep], cols[keep]
        bounds = np.searchsorted(rows, np.arange(n_rows + 1)).tolist()
        candidates = cols.tolist()
        out: list[tuple[str, ...]] = []
        for row in range(n_rows):
            picked: list[str] = []
            for col in candidates[bounds[row] : bounds[row + 1]]:
                if len(picked) >= n_words:
                    break
                gram = self._feature_name(col)
                if len(gram) < 2 or any(gram in p for p in picked):
                    continue
                picked = [p for p in picked if p not in gram] + [gram]
            out.append(tuple(_merge_overlaps(picked)))
        return out

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
        if payload.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"{path}: classifier format version {payload.get('version')}, this code reads version "
                f"{FORMAT_VERSION} only; retrain the model"
            )
        return cls(
            vectorizer=TextFeatures.from_state(payload["vectorizer"]),
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


def _fit_nbsvm(
    matrix: sparse.csr_matrix, labels: np.ndarray, classes: list[str], c: float, alpha: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """NB-SVM (Wang & Manning 2012), one-vs-rest: for each label, a binary SVM over the features scaled by
    their log-count ratio ``r = log((p / |p|) / (q / |q|))``, where p and q count the documents (with
    add-``alpha`` smoothing) in which a feature occurs, in and out of the label. The score ``w · (x ∘ r)``
    is ``(w ∘ r) · x``, so the model is returned as plain linear weights over ``x``."""
    from sklearn.svm import LinearSVC

    present = matrix.copy()
    present.data[:] = 1
    coef = np.zeros((len(classes), matrix.shape[1]), dtype=np.float32)
    intercept = np.full(len(classes), -1e3, dtype=np.float32)
    total = np.asarray(present.sum(axis=0)).ravel()
    for j, label in enumerate(classes):
        inside = labels == label
        if not inside.any() or inside.all():
            continue  # a label absent from (or alone in) a cross-validation fold: never predicted by this part
        p = alpha + np.asarray(present[inside].sum(axis=0)).ravel()
        q = alpha + total - (p - alpha)
        ratio = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
        clf = LinearSVC(C=c, class_weight="balanced", random_state=0)
        clf.fit(matrix @ sparse.diags(ratio), inside.astype(int))
        coef[j] = clf.coef_[0] * ratio
        intercept[j] = clf.intercept_[0]
    return coef, intercept


def _fit_linear(
    matrix: sparse.csr_matrix, labels: np.ndarray, classes: list[str], c: float, nb_c: float
) -> tuple[np.ndarray, np.ndarray]:
    """SVM + NB-SVM weights, summed. Each alone scores about 0.92 macro-F1 on the teddy2020 grouped split;
    they err on different texts, and the sum scores about 0.93 (grouped cross-validation, bench/classify.py)."""
    svm_coef, svm_intercept = _fit_svm(matrix, labels, classes, c)
    if nb_c <= 0:
        return svm_coef, svm_intercept
    nb_coef, nb_intercept = _fit_nbsvm(matrix, labels, classes, nb_c)
    return svm_coef + nb_coef, svm_intercept + nb_intercept


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
    nb_c: float = 0.5,
    min_df: int = 2,
    max_features: int | None = 600_000,
    calibrate_folds: int = 3,
    groups: Sequence[Any] | None = None,
    separator: str = DEFAULT_SEPARATOR,
) -> Model:
    """Train a classifier on ``texts`` with ``labels`` (plain labels or taxonomy paths joined by ``separator``).

    ``c`` and ``nb_c`` are the regularisation constants of the SVM and of the NB-SVM (``nb_c=0``: SVM only).
    ``calibrate_folds`` cross-validation folds fit the probability temperature (0 disables calibration);
    ``groups`` keeps copies of one text in one fold (default: ``text_groups(texts)``-free exact grouping by
    ``model_text``). Needs at least two distinct labels."""
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("training needs at least two distinct labels")
    y = np.asarray(labels)
    vectorizer = TextFeatures(min_df=min_df, max_features=max_features)
    matrix = vectorizer.fit_transform(texts)
    coef, intercept = _fit_linear(matrix, y, classes, c, nb_c)
    temperature = 1.0
    if calibrate_folds >= 2 and len(texts) >= calibrate_folds * 10:
        from sklearn.model_selection import GroupKFold

        group_ids = list(groups) if groups is not None else [model_text(t) for t in texts]
        held_scores = np.zeros((len(texts), len(classes)), dtype=np.float32)
        fold_norms = []
        for train_idx, test_idx in GroupKFold(n_splits=calibrate_folds).split(matrix, y, group_ids):
            if len(set(y[train_idx])) < 2:
                continue
            fold_coef, fold_intercept = _fit_linear(matrix[train_idx], y[train_idx], classes, c, nb_c)
            held_scores[test_idx] = np.asarray(matrix[test_idx] @ fold_coef.T) + fold_intercept
            fold_norms.append(float(np.linalg.norm(fold_coef)))
        truth = np.array([classes.index(label) for label in labels])
        temperature = _fit_temperature(held_scores, truth)
        # The fold models learnt from part of the texts and have smaller weights than the final model, whose
        # decision values are larger by about the ratio of the weight norms: the temperature fitted on the
        # folds' values, applied unscaled, made the final model over-confident (mean top-1 probability 0.954
        # against accuracy 0.928 on bench/classify.py's held-out split; 0.942 scaled).
        final_norm = float(np.linalg.norm(coef))
        if fold_norms and final_norm > 0:
            temperature *= float(np.mean(fold_norms)) / final_norm
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
