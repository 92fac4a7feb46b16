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

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from jiefen.language.text import (
    _CODE_BITS,
    CharNgramTfidf,
    char_codes,
    count_matrix,
    model_text,
    ngram_keys_of_windows,
    weigh_counts,
    window_keys,
    words,
)

HEAD_CHARS = 30
HEAD_WEIGHT = 0.6
WORD_WEIGHT = 0.8


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


class CodeWindows:
    """A batch of texts in ``model_text`` form as code points (``text.char_codes``) and the exact keys of the
    char n-grams at every position (``text.window_keys``, n = 1–3): computed once per batch and read by the
    char n-gram blocks and the word matcher alike."""

    def __init__(self, forms: Sequence[str]) -> None:
        self.codes, self.doc_of = char_codes(forms)
        self.keys = {n: window_keys(self.codes, n) for n in (1, 2, 3)}

    def ngram_keys(self, n_max: int) -> tuple[np.ndarray, np.ndarray]:
        """``text.ngram_keys`` of the batch."""
        return ngram_keys_of_windows(self.doc_of, [self.keys[n] for n in range(1, n_max + 1)])


class HashedNgramTfidf(CharNgramTfidf):
    """``CharNgramTfidf`` (same fit, same vectors) whose ``transform`` looks n-grams up in a ``KeyTable``."""

    _table: KeyTable | None = None

    def transform(
        self, texts: Sequence[str], *, cleaned: bool = False, windows: CodeWindows | None = None
    ) -> sparse.csr_matrix:
        """TF-IDF rows of ``texts`` (``cleaned=True``: already in ``model_text`` form; ``windows``: their
        ``CodeWindows``, to reuse the n-gram keys computed for another block)."""
        if self._table is None or self._table.size != len(self.keys_):
            self._table = KeyTable(self.keys_)
        if windows is None:
            windows = CodeWindows(list(texts) if cleaned else [model_text(t) for t in texts])
        docs, keys = windows.ngram_keys(self.n_max)
        cols = self._table.lookup(keys)
        hit = cols >= 0
        matrix = count_matrix(docs[hit], cols[hit], (len(texts), len(self.keys_)))
        return weigh_counts(matrix, self.idf_)

    @classmethod
    def from_state(cls, state: dict[str, object]) -> HashedNgramTfidf:
        vec = cls(int(state["n_max"]), int(state["min_df"]), state["max_features"])  # type: ignore[call-overload,arg-type]
        vec.keys_ = np.asarray(state["keys"], dtype=np.uint64)
        vec.idf_ = np.asarray(state["idf"], dtype=np.float32)
        vec._table = KeyTable(vec.keys_)
        return vec


class WordMatcher:
    """Leftmost-longest matching of a fixed word list, over whole batches with numpy.

    Scanning each text from the left, the longest word that starts at the current position is taken and the
    scan resumes after it; where no word starts, it moves on by one character. Words are found with hashed
    lookups, not an automaton: a word of 2–3 characters is the exact n-gram key of its characters
    (``text.window_keys``, which the char n-gram blocks compute anyway); a longer word is looked up by a
    64-bit polynomial hash of the window, only at positions whose first three characters begin some longer
    word, and every hashed hit is then compared character by character with the word, so a hash collision
    can never produce a match. The vocabulary's own hashes are made distinct when the matcher is built.
    """

    _SEED_BASES: tuple[int, ...] = (0x100000001B3, 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self.size = len(vocabulary)
        lengths = np.fromiter((len(w) for w in vocabulary), dtype=np.int64, count=len(vocabulary))
        if len(lengths) and lengths.min() < 2:
            raise ValueError("words have at least two characters")
        self._lengths = lengths
        self._codes = np.frombuffer("".join(vocabulary).encode("utf-32-le"), dtype=np.uint32).astype(
            np.uint64
        )
        self._offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.max_length = int(lengths.max()) if len(lengths) else 0
        short = np.flatnonzero(lengths <= 3)
        long = np.flatnonzero(lengths > 3)
        self._long_rows = long
        # One table for the 2- and 3-grams of a text: the word each one is (short words), and the longest
        # word it begins (first three characters of the longer words; where a text's 3-gram begins none, no
        # long word starts there, and no window longer than that needs hashing).
        prefixes, inverse = np.unique(self._packed(long, np.full(len(long), 3)), return_inverse=True)
        prefix_max = np.zeros(len(prefixes), dtype=np.int64)
        np.maximum.at(prefix_max, inverse, lengths[long])
        keys, where = np.unique(
            np.concatenate([self._packed(short, lengths[short]), prefixes]), return_inverse=True
        )
        self._gram_word = np.full(len(keys), -1, dtype=np.int64)
        self._gram_word[where[: len(short)]] = short
        self._gram_reach = np.zeros(len(keys), dtype=np.int64)
        self._gram_reach[where[len(short) :]] = prefix_max
        self._grams = KeyTable(keys)
        for base in self._SEED_BASES:  # two words colliding: ~2⁻³⁹ for 10⁴ words; try another base
            self._base = np.uint64(base)
            hashes = self._word_hashes(long)
            if len(np.unique(hashes)) == len(hashes):
                break
        else:
            raise ValueError("word hashes collide under every base")  # pragma: no cover
        self._long = KeyTable(hashes)

    def _packed(self, rows: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The exact ``window_keys`` key of the first ``n`` (≤ 3) characters of each word in ``rows``."""
        key = np.zeros(len(rows), dtype=np.uint64)
        for i in range(int(n.max()) if len(n) else 0):
            part = np.where(i < n, self._codes[self._offsets[rows] + np.minimum(i, n - 1)], np.uint64(0))
            key = np.where(i < n, (key << np.uint64(_CODE_BITS)) | part, key)
        return key

    def _word_hashes(self, rows: np.ndarray) -> np.ndarray:
        h = np.zeros(len(rows), dtype=np.uint64)
        for i in range(self.max_length):
            inside = i < self._lengths[rows]
            part = self._codes[self._offsets[rows] + np.where(inside, i, 0)]
            h = np.where(inside, h * self._base + part, h)
        return _nonzero(h)

    def find(
        self, codes: np.ndarray, key2: tuple[np.ndarray, np.ndarray], key3: tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(position, word)`` of the words matched leftmost-longest in ``codes`` (``text.char_codes``;
        texts separated by NUL, which no word contains), given its ``text.window_keys`` for n = 2 and 3."""
        starts: list[np.ndarray] = []
        sizes: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        (k2, ok2), (k3, ok3) = key2, key3
        at2, at3 = np.flatnonzero(ok2), np.flatnonzero(ok3)
        found = self._grams.lookup(np.concatenate([k2[at2], k3[at3]])) if self._grams.size else None
        if found is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        found2, found3 = found[: len(at2)], found[len(at2) :]
        for n, at, gram in ((2, at2, found2), (3, at3, found3)):
            word = np.where(gram >= 0, self._gram_word[gram], -1)
            hit = word >= 0
            starts.append(at[hit])
            sizes.append(np.full(int(hit.sum()), n, dtype=np.int64))
            rows.append(word[hit])
        if self._long.size:
            long = found3 >= 0
            at, reach = at3[long], self._gram_reach[found3[long]]
            at, reach = at[reach > 0], reach[reach > 0]
            reach = np.minimum(reach, len(codes) - at)  # no window runs past the end
            h = np.zeros(len(at), dtype=np.uint64)
            for i in range(int(reach.max()) if len(at) else 0):
                if i >= 3:
                    live = reach > i
                    at, reach, h = at[live], reach[live], h[live]
                    live = codes[at + i] != 0  # a window over a NUL spans two texts
                    at, reach, h = at[live], reach[live], h[live]
                h = h * self._base + codes[at + i]
                if i < 3:
                    continue
                found = self._long.lookup(_nonzero(h))
                hit = found >= 0
                word = self._long_rows[found[hit]]
                pos = at[hit]
                # Hashes only propose: keep a hit whose length and every character equal the word's.
                same = self._lengths[word] == i + 1
                pos, word = pos[same], word[same]
                for k in range(i + 1):
                    same = codes[pos + k] == self._codes[self._offsets[word] + k]
                    pos, word = pos[same], word[same]
                starts.append(pos)
                sizes.append(np.full(len(pos), i + 1, dtype=np.int64))
                rows.append(word)
        return _leftmost_longest(np.concatenate(starts), np.concatenate(sizes), np.concatenate(rows))


def _nonzero(hashes: np.ndarray) -> np.ndarray:
    """Hashes as ``KeyTable`` keys, which are never 0 (a hash of 0 becomes 1, and is verified like any)."""
    return np.where(hashes == 0, np.uint64(1), hashes)


def _leftmost_longest(
    starts: np.ndarray, sizes: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Of all word occurrences (start, length, word), those a left-to-right scan takes: at each position the
    longest word that starts there, then the scan skips to its end. Returns ``(start, word)``, by start.

    Resolved in rounds, for the whole batch at once: an undecided occurrence that no undecided or taken
    occurrence to its left can cover is taken (the scan must reach it); undecided ones covered by a taken one
    are dropped. The leftmost undecided occurrence of every overlapping run is settled in each round, and
    each round works on the undecided ones only, carrying the reach of the taken ones before each."""
    order = np.lexsort((-sizes, starts))
    starts, sizes, rows = starts[order], sizes[order], rows[order]
    first = np.ones(len(starts), dtype=bool)
    first[1:] = starts[1:] != starts[:-1]
    starts, ends, rows = starts[first], starts[first] + sizes[first], rows[first]
    taken = np.zeros(len(starts), dtype=bool)
    open_ = np.arange(len(starts))  # the undecided occurrences, by start
    taken_reach = np.zeros(len(starts), dtype=np.int64)  # of each: the furthest end of a taken one before it
    while len(open_):
        o_starts, o_ends = starts[open_], ends[open_]
        take = np.maximum(taken_reach, _reach_before(o_ends)) <= o_starts
        taken[open_[take]] = True
        taken_reach = np.maximum(taken_reach, _reach_before(np.where(take, o_ends, 0)))
        keep = ~take & (taken_reach <= o_starts)
        open_, taken_reach = open_[keep], taken_reach[keep]
    return starts[taken], rows[taken]


def _reach_before(ends: np.ndarray) -> np.ndarray:
    """For each entry, the largest of ``ends`` over the entries before it (0 for the first)."""
    out = np.zeros(len(ends), dtype=np.int64)
    if len(ends) > 1:
        out[1:] = np.maximum.accumulate(ends[:-1])
    return out


class WordTfidf:
    """Bag of words (sublinear tf, smooth idf, L2 rows) over a fixed vocabulary, matched leftmost-longest.

    The vocabulary is learned once, at ``fit``, from a real segmenter (jieba) run over the training texts;
    after that, texts are segmented by ``WordMatcher``, vectorised hashed lookups that are far faster than
    jieba, which keeps prediction at thousands of texts per second. Words are in ``model_text`` form (lower
    case, no punctuation or spaces), like the char n-grams.
    """

    def __init__(self, min_df: int = 2, max_words: int | None = 200_000) -> None:
        self.min_df = min_df
        self.max_words = max_words
        self.vocabulary: list[str] = []
        self.idf_: np.ndarray = np.zeros(0, dtype=np.float32)
        self._matcher: WordMatcher | None = None

    def fit(self, texts: Sequence[str], tokenize: Callable[[str], list[str]] = words) -> WordTfidf:
        df: Counter[str] = Counter()
        for text in texts:
            df.update({model_text(w) for w in tokenize(text)})
        candidates = [w for w, n in df.items() if n >= self.min_df and len(w) >= 2]
        candidates.sort(key=lambda w: (-df[w], w))
        self.vocabulary = sorted(candidates[: self.max_words] if self.max_words else candidates)
        self._build()
        # idf from what the matcher finds (not from the segmenter), since that is what transform sees.
        counts = self._counts([model_text(t) for t in texts])
        counts.data[:] = 1
        found = np.bincount(counts.indices, minlength=len(self.vocabulary))
        self.idf_ = (np.log((1 + len(texts)) / (1 + found)) + 1).astype(np.float32)
        return self

    def _build(self) -> None:
        self._matcher = WordMatcher(self.vocabulary)

    @property
    def n_features(self) -> int:
        return len(self.vocabulary)

    def _counts(self, forms: Sequence[str], windows: CodeWindows | None = None) -> sparse.csr_matrix:
        """Word counts of texts in ``model_text`` form (``windows``: their ``CodeWindows``, if computed)."""
        if self._matcher is None or not self.vocabulary:
            return sparse.csr_matrix((len(forms), len(self.vocabulary)), dtype=np.float32)
        windows = windows or CodeWindows(forms)
        at, found = self._matcher.find(windows.codes, windows.keys[2], windows.keys[3])
        return count_matrix(windows.doc_of[at], found, (len(forms), len(self.vocabulary)))

    def transform(
        self, texts: Sequence[str], *, cleaned: bool = False, windows: CodeWindows | None = None
    ) -> sparse.csr_matrix:
        """TF-IDF rows of ``texts`` (``cleaned=True``: already in ``model_text`` form; ``windows``: their
        ``CodeWindows``, to reuse the n-gram keys computed for another block)."""
        matrix = self._counts(list(texts) if cleaned else [model_text(t) for t in texts], windows)
        return weigh_counts(matrix, self.idf_)

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
        windows = CodeWindows(cleaned)
        word = self.words.transform(cleaned, cleaned=True, windows=windows)
        word.data *= self.word_weight
        body = self.body.transform(cleaned, cleaned=True, windows=windows)
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
