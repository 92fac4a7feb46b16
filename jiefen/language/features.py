"""The feature space of the text classifier: three TF-IDF blocks side by side in one sparse row.

* body — char 1–3-grams of the whole message (``text.CharNgramTfidf``);
* head — char 1–3-grams of its first ``head_chars`` characters. A petition starts with its subject line
  (留言主题, "关于……的投诉"), which names the matter more plainly than the story that follows; the texts
  we get do not always mark where the subject ends, so a fixed-length head stands in for it;
* words — dictionary words found by leftmost-longest matching (``WordTfidf``).

Each block is L2-normalised on its own and then scaled by its weight, so a long body does not drown the
head. Weights were chosen by grouped cross-validation on the training part of the teddy2020 data
(bench/classify.py). All state is numpy arrays and a word list, so a saved space loads in milliseconds.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence

import ahocorasick
import numpy as np
from scipy import sparse

from jiefen.language.text import CharNgramTfidf, model_text, ngram_keys, words

HEAD_CHARS = 30
HEAD_WEIGHT = 0.6
WORD_WEIGHT = 0.8


def _l2_rows(matrix: sparse.csr_matrix) -> None:
    """Scale each row of ``matrix`` to unit length, in place (empty rows stay empty)."""
    norms = np.sqrt(np.add.reduceat(matrix.data**2, matrix.indptr[:-1])) if matrix.nnz else np.zeros(0)
    counts = np.diff(matrix.indptr)
    if matrix.nnz:
        norms = np.where(counts > 0, norms, 1).astype(np.float32)
        matrix.data /= np.repeat(norms, counts)


class KeyTable:
    """An open-addressing hash table from uint64 keys (never 0) to their row in a key array, built and
    probed with numpy over whole arrays. Looking up a batch's ~10⁶ n-gram keys this way is several times
    faster than sorting them and binary-searching the sorted key array."""

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the high bits of key * 2⁶⁴/φ

    def __init__(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.uint64)
        bits = max(4, int(2 * max(len(keys), 1) - 1).bit_length())  # load factor ≤ 1/2
        self._shift = np.uint64(64 - bits)
        self._mask = np.int64((1 << bits) - 1)
        self.size = len(keys)
        self._keys = np.zeros(1 << bits, dtype=np.uint64)
        self._rows = np.full(1 << bits, -1, dtype=np.int64)
        pending = np.arange(len(keys))
        slots = self._slots(keys)
        while len(pending):
            free = self._keys[slots] == 0
            # Of the keys that want one free slot, the first takes it; the rest (and those that met a taken
            # slot) probe the next slot in the following round.
            _, first = np.unique(np.where(free, slots, -1), return_index=True)
            first = first[free[first]]
            self._keys[slots[first]] = keys[pending[first]]
            self._rows[slots[first]] = pending[first]
            placed = np.zeros(len(pending), dtype=bool)
            placed[first] = True
            pending, slots = pending[~placed], (slots[~placed] + 1) & self._mask

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return ((keys * self._MULTIPLIER) >> self._shift).astype(np.int64)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key in the original key array, or -1 for a key not in the table."""
        rows = np.full(len(keys), -1, dtype=np.int64)
        pending = np.arange(len(keys))
        slots = self._slots(keys)
        while len(pending):
            found = self._keys[slots]
            hit = found == keys[pending]
            rows[pending[hit]] = self._rows[slots[hit]]
            more = ~hit & (found != 0)
            pending, slots = pending[more], (slots[more] + 1) & self._mask
        return rows


class HashedNgramTfidf(CharNgramTfidf):
    """``CharNgramTfidf`` (same fit, same vectors) whose ``transform`` looks n-grams up in a ``KeyTable``."""

    _table: KeyTable | None = None

    def transform(self, texts: Sequence[str], *, cleaned: bool = False) -> sparse.csr_matrix:
        """TF-IDF rows of ``texts`` (``cleaned=True``: already in ``model_text`` form)."""
        if self._table is None or self._table.size != len(self.keys_):
            self._table = KeyTable(self.keys_)
        docs, keys = ngram_keys(texts, self.n_max, cleaned=cleaned)
        cols = self._table.lookup(keys)
        hit = cols >= 0
        matrix = sparse.csr_matrix(
            (np.ones(int(hit.sum()), dtype=np.float32), (docs[hit], cols[hit])),
            shape=(len(texts), len(self.keys_)),
        )
        matrix.sum_duplicates()
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1
        matrix.data *= self.idf_[matrix.indices]
        _l2_rows(matrix)
        return matrix

    @classmethod
    def from_state(cls, state: dict[str, object]) -> HashedNgramTfidf:
        vec = cls(int(state["n_max"]), int(state["min_df"]), state["max_features"])  # type: ignore[call-overload,arg-type]
        vec.keys_ = np.asarray(state["keys"], dtype=np.uint64)
        vec.idf_ = np.asarray(state["idf"], dtype=np.float32)
        vec._table = KeyTable(vec.keys_)
        return vec


class WordTfidf:
    """Bag of words (sublinear tf, smooth idf, L2 rows) over a fixed vocabulary, matched leftmost-longest.

    The vocabulary is learned once, at ``fit``, from a real segmenter (jieba) run over the training texts;
    after that, texts are segmented by an Aho–Corasick automaton over the vocabulary (``pyahocorasick``),
    about ten times faster than jieba, which keeps prediction at thousands of texts per second. Words are
    in ``model_text`` form (lower case, no punctuation or spaces), like the char n-grams.
    """

    def __init__(self, min_df: int = 2, max_words: int | None = 200_000) -> None:
        self.min_df = min_df
        self.max_words = max_words
        self.vocabulary: list[str] = []
        self.idf_: np.ndarray = np.zeros(0, dtype=np.float32)
        self._automaton: ahocorasick.Automaton | None = None

    def fit(self, texts: Sequence[str], tokenize: Callable[[str], list[str]] = words) -> WordTfidf:
        df: Counter[str] = Counter()
        for text in texts:
            df.update({model_text(w) for w in tokenize(text)})
        candidates = [w for w, n in df.items() if n >= self.min_df and len(w) >= 2]
        candidates.sort(key=lambda w: (-df[w], w))
        self.vocabulary = sorted(candidates[: self.max_words] if self.max_words else candidates)
        self._build()
        # idf from what the matcher finds (not from the segmenter), since that is what transform sees.
        counts = self._counts(texts)
        counts.data[:] = 1
        found = np.bincount(counts.indices, minlength=len(self.vocabulary))
        self.idf_ = (np.log((1 + len(texts)) / (1 + found)) + 1).astype(np.float32)
        return self

    def _build(self) -> None:
        automaton = ahocorasick.Automaton()
        for i, word in enumerate(self.vocabulary):
            automaton.add_word(word, i)
        automaton.make_automaton()
        self._automaton = automaton

    @property
    def n_features(self) -> int:
        return len(self.vocabulary)

    def _counts(self, texts: Sequence[str], cleaned: bool = False) -> sparse.csr_matrix:
        if self._automaton is None or not self.vocabulary:
            return sparse.csr_matrix((len(texts), len(self.vocabulary)), dtype=np.float32)
        forms = list(texts) if cleaned else [model_text(t) for t in texts]
        # One pass over all texts joined by NUL: no word contains NUL, so no match spans two texts.
        found = itertools.chain.from_iterable(self._automaton.iter_long("\x00".join(forms)))
        hits = np.fromiter(found, dtype=np.int64).reshape(-1, 2)
        doc_ends = np.cumsum([len(f) + 1 for f in forms]) - 1
        docs = np.searchsorted(doc_ends, hits[:, 0])
        matrix = sparse.csr_matrix(
            (np.ones(len(hits), dtype=np.float32), (docs, hits[:, 1])),
            shape=(len(texts), len(self.vocabulary)),
        )
        matrix.sum_duplicates()
        return matrix

    def transform(self, texts: Sequence[str], *, cleaned: bool = False) -> sparse.csr_matrix:
        """TF-IDF rows of ``texts`` (``cleaned=True``: already in ``model_text`` form)."""
        matrix = self._counts(texts, cleaned)
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1
        matrix.data *= self.idf_[matrix.indices]
        _l2_rows(matrix)
        return matrix

    def state(self) -> dict[str, object]:
        return {"min_df": self.min_df, "max_words": self.max_words, "vocabulary": "\n".join(self.vocabulary)}

    @classmethod
    def from_state(cls, state: dict[str, object], idf: np.ndarray) -> WordTfidf:
        vec = cls(int(state["min_df"]), state["max_words"])  # type: ignore[call-overload,arg-type]
        text = str(state["vocabulary"])
        vec.vocabulary = text.split("\n") if text else []
        vec.idf_ = np.asarray(idf, dtype=np.float32)
        vec._build()
        return vec


class TextFeatures:
    """Body char n-grams, head char n-grams and words in one CSR row per text (see the module docstring)."""

    def __init__(
        self,
        *,
        min_df: int = 2,
        max_features: int | None = 600_000,
        head_chars: int = HEAD_CHARS,
        head_weight: float = HEAD_WEIGHT,
        word_weight: float = WORD_WEIGHT,
    ) -> None:
        self.body = HashedNgramTfidf(n_max=3, min_df=min_df, max_features=max_features)
        self.head = HashedNgramTfidf(n_max=3, min_df=min_df)
        self.words = WordTfidf(min_df=min_df)
        self.head_chars = head_chars
        self.head_weight = head_weight
        self.word_weight = word_weight

    def fit(self, texts: Sequence[str], tokenize: Callable[[str], list[str]] = words) -> TextFeatures:
        cleaned = [model_text(t) for t in texts]
        self.body.fit(cleaned)
        self.head.fit([c[: self.head_chars] for c in cleaned])
        self.words.fit(texts, tokenize)
        return self

    @property
    def n_features(self) -> int:
        return self.body.n_features + self.head.n_features + self.words.n_features

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        cleaned = [model_text(t) for t in texts]
        head = self.head.transform([c[: self.head_chars] for c in cleaned], cleaned=True)
        head.data *= self.head_weight
        word = self.words.transform(cleaned, cleaned=True)
        word.data *= self.word_weight
        body = self.body.transform(cleaned, cleaned=True)
        return sparse.hstack([body, head, word], format="csr", dtype=np.float32)

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.fit(texts).transform(texts)

    def feature_name(self, column: int) -> str:
        if column < self.body.n_features:
            return self.body.feature_name(column)
        column -= self.body.n_features
        if column < self.head.n_features:
            return self.head.feature_name(column)
        return self.words.vocabulary[column - self.head.n_features]

    def state(self) -> dict[str, object]:
        return {
            "head_chars": self.head_chars,
            "head_weight": self.head_weight,
            "word_weight": self.word_weight,
            "body": self.body.state(),
            "head": self.head.state(),
            "words": self.words.state(),
            "word_idf": self.words.idf_,
        }

    @classmethod
    def from_state(cls, state: dict[str, object]) -> TextFeatures:
        space = cls(
            head_chars=int(state["head_chars"]),  # type: ignore[call-overload]
            head_weight=float(state["head_weight"]),  # type: ignore[arg-type]
            word_weight=float(state["word_weight"]),  # type: ignore[arg-type]
        )
        space.body = HashedNgramTfidf.from_state(state["body"])  # type: ignore[arg-type]
        space.head = HashedNgramTfidf.from_state(state["head"])  # type: ignore[arg-type]
        space.words = WordTfidf.from_state(state["words"], state["word_idf"])  # type: ignore[arg-type]
        return space
