"""Text normalisation and tokenisation.

``normalize`` is the one cleaning step applied to every message before any model sees it: it removes the
scraped whitespace of web forms ("\\n\\t\\t\\t"), turns full-width ASCII (ＡＢＣ１２３，！) into half-width, and drops
the spaces that separate Chinese characters (Chinese is written without spaces; the spaces are artefacts of
copying or of a segmenter). ``skeleton`` is a coarser form used to compare texts: two representations of one
message (raw text and a stop-word-stripped segmentation) have near-identical skeletons.

Tokenisers: ``words`` (jieba, optionally with a user dictionary, e.g. the office's own place and unit names)
and ``char_ngrams``. jieba loads its dictionary lazily on first use (about a second, once per process).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import jieba
import numpy as np
from scipy import sparse

jieba.setLogLevel(logging.WARNING)

_WS_RE = re.compile(r"\s+")
# A space next to a CJK character (or CJK punctuation) carries no meaning in Chinese; spaces between two
# Latin words ("Wi Fi", "LIST PUB") are kept.
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_SPACE_RE = re.compile(rf"(?<=[{_CJK}]) | (?=[{_CJK}])")
_CJK_CHAR_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NON_SKELETON_RE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

# Full-width forms U+FF01..U+FF5E map to ASCII 0x21..0x7E; U+3000 is the ideographic space. Chinese
# punctuation (，。！？：；) is also full width but is the correct form in Chinese text, so it is kept, except
# that digits, Latin letters and the symbols that surround them become ASCII.
_KEEP_FULLWIDTH = set("，。！？：；（）【】《》、")
_HALF_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in _KEEP_FULLWIDTH} | {
    0x3000: 0x20,
    0x00A0: 0x20,
    0x200B: None,
    0xFEFF: None,
}


def to_halfwidth(text: str) -> str:
    """Full-width digits, Latin letters and symbols → ASCII; Chinese punctuation is kept as it is."""
    return text.translate(_HALF_TABLE)


def normalize(text: str | None) -> str:
    """Clean one message: half-width ASCII, one space for any whitespace run, no spaces next to Chinese.

    >>> normalize("\\n\\t\\t\\tＡ市 西湖 区１２３号\\n")
    'A市西湖区123号'
    """
    if not text:
        return ""
    text = to_halfwidth(unicodedata.normalize("NFC", str(text)))
    text = _WS_RE.sub(" ", text).strip()
    return _CJK_SPACE_RE.sub("", text)


@functools.lru_cache(maxsize=4096)  # (an import asks for each text twice: ahead and when it registers)
def case_text(title: str, content: str) -> str:
    """The text of a case as the analysis reads it: title and content, cleaned (``normalize``), the title
    left out where the content starts with it."""
    title, content = normalize(title), normalize(content)
    return content if content.startswith(title) else f"{title} {content}".strip()


def join_tokens(tokens: str | Sequence[str]) -> str:
    """Rebuild text from segmenter output ("A3 区 大道 西行") so it compares with raw text ("A3区大道西行")."""
    if isinstance(tokens, str):
        tokens = tokens.split()
    return normalize(" ".join(tokens))


def skeleton(text: str) -> str:
    """Lower-cased letters, digits and CJK characters only: a key for grouping copies of one message."""
    return _NON_SKELETON_RE.sub("", normalize(text).lower())


def cjk_count(text: str) -> int:
    return len(_CJK_CHAR_RE.findall(text))


def char_ngrams(text: str, n_min: int = 1, n_max: int = 3) -> list[str]:
    """Character n-grams of the normalised text, shortest first. Whitespace is not part of any n-gram."""
    grams: list[str] = []
    for chunk in normalize(text).split(" "):
        length = len(chunk)
        for n in range(n_min, n_max + 1):
            grams.extend(chunk[i : i + n] for i in range(length - n + 1))
    return grams


class WordTokenizer:
    """jieba segmentation with an optional user dictionary (one word per line: ``word [freq] [tag]``).

    Each instance keeps its own jieba dictionary, so an office's place names never leak into another's.
    The instance is safe to share between threads once initialised.
    """

    def __init__(self, user_dict: str | Path | None = None, words: Iterable[str] = (), hmm: bool = True):
        self._tokenizer = jieba.Tokenizer()
        self._user_dict = Path(user_dict) if user_dict else None
        self._words = tuple(words)
        self._hmm = hmm
        self._ready = False
        self._lock = threading.Lock()

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            self._tokenizer.initialize()
            if self._user_dict is not None:
                self._tokenizer.load_userdict(str(self._user_dict))
            for word in self._words:
                self._tokenizer.add_word(word)
            self._ready = True

    def add_word(self, word: str, freq: int | None = None) -> None:
        self._ensure_ready()
        self._tokenizer.add_word(word, freq)

    def tokenize(self, text: str) -> list[str]:
        """Words of the normalised text, without whitespace tokens."""
        self._ensure_ready()
        return [w for w in self._tokenizer.lcut(normalize(text), HMM=self._hmm) if w.strip()]


_default_tokenizer: WordTokenizer | None = None


def words(text: str) -> list[str]:
    """jieba words with the default dictionary (see ``WordTokenizer`` for a user dictionary)."""
    global _default_tokenizer
    if _default_tokenizer is None:
        _default_tokenizer = WordTokenizer()
    return _default_tokenizer.tokenize(text)


# ---------------------------------------------------------------------------------------------- fast n-grams

_CODE_BITS = 21  # every Unicode code point fits in 21 bits, so an n-gram of up to 3 chars fits in 63 bits
_CLEAN_RE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@functools.lru_cache(maxsize=4096)  # (a batch's texts are read by the classifier and the case vectoriser)
def model_text(text: str) -> str:
    """The form the vectorisers see: half-width, lower-cased, letters/digits/CJK only, everything else removed.

    Punctuation and spacing differ between sources of the same message (raw form text vs a segmenter's
    output with punctuation stripped); dropping them makes the representations comparable."""
    return _CLEAN_RE.sub("", text.translate(_HALF_TABLE).lower())


def char_codes(forms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of ``forms`` joined by NUL (uint64, NUL = 0 between texts, none after the last) and the
    index of the text each position belongs to (the NUL after a text counts as that text's)."""
    codes = np.frombuffer("\x00".join(forms).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(c) + 1 for c in forms), dtype=np.int64, count=len(forms))
    doc_of = np.repeat(np.arange(len(forms), dtype=np.int64), lengths)[: len(codes)]
    return codes, doc_of


def window_keys(codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each start position of ``codes`` with ``n`` positions after it: the exact key of the n-gram that
    starts there (``n`` ≤ 3, 21 bits per code point, as in ``ngram_keys``) and whether it is a real n-gram
    (no NUL inside, so it lies within one text). Both arrays have ``len(codes) - n + 1`` entries."""
    count = max(len(codes) - n + 1, 0)
    key = np.zeros(count, dtype=np.uint64)
    ok = np.ones(count, dtype=bool)
    for i in range(n):
        part = codes[i : i + count]
        key = (key << np.uint64(_CODE_BITS)) | part
        ok &= part != 0
    return key, ok


def ngram_keys(
    texts: Sequence[str], n_max: int = 3, *, cleaned: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Exact integer keys of the char 1..n_max-grams of ``model_text(t)`` for each text, vectorised
    (``cleaned=True``: the texts are already in ``model_text`` form; skips that step).

    Returns ``(doc_index, key)`` arrays of equal length (uint64 keys). A key packs the code points of its
    n-gram, 21 bits each, so it is exact (no hashing collisions) and decodable by ``decode_key``; an n-gram
    never spans two texts. ``n_max`` is at most 3.
    """
    if not 1 <= n_max <= 3:
        raise ValueError("n_max must be 1, 2 or 3")
    forms = list(texts) if cleaned else [model_text(t) for t in texts]
    codes, doc_of = char_codes(forms)
    return ngram_keys_of_windows(doc_of, [window_keys(codes, n) for n in range(1, n_max + 1)])


def ngram_keys_of_windows(
    doc_of: np.ndarray, windows: Sequence[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """``ngram_keys``'s result from ``char_codes``' text indices and the ``window_keys`` of n = 1, 2, …"""
    mask = np.concatenate([ok for _, ok in windows])
    all_keys = np.concatenate([key for key, _ in windows])
    all_docs = np.concatenate([doc_of[: len(key)] for key, _ in windows])
    return all_docs[mask], all_keys[mask]


def decode_key(key: int) -> str:
    """The n-gram string of an ``ngram_keys`` key."""
    chars = []
    key = int(key)
    while key:
        chars.append(chr(key & ((1 << _CODE_BITS) - 1)))
        key >>= _CODE_BITS
    return "".join(reversed(chars))


class CharNgramTfidf:
    """Char 1..3-gram TF-IDF (sublinear tf, smooth idf, L2 rows) that vectorises ~10⁴ texts per second on
    one core: n-grams are exact integer keys computed with numpy and looked up in a sorted key array, where
    scikit-learn's analyzer loops in Python per n-gram (a few hundred texts per second for Chinese).

    Fitted state is three numpy arrays (keys, idf, and nothing else), so a model loads in milliseconds.
    """

    def __init__(self, n_max: int = 3, min_df: int = 2, max_features: int | None = None):
        self.n_max = n_max
        self.min_df = min_df
        self.max_features = max_features
        self.keys_: np.ndarray = np.zeros(0, dtype=np.uint64)
        self.idf_: np.ndarray = np.zeros(0, dtype=np.float32)

    def fit(self, texts: Sequence[str]) -> CharNgramTfidf:
        docs, keys = ngram_keys(texts, self.n_max)
        # Document frequency: sort by (key, doc) and count each key once per document.
        order = np.lexsort((docs, keys))
        keys, docs = keys[order], docs[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1])
        uniq, df = np.unique(keys[first], return_counts=True)
        keep = df >= self.min_df
        uniq, df = uniq[keep], df[keep]
        if self.max_features is not None and len(uniq) > self.max_features:
            top = np.sort(np.argsort(-df, kind="stable")[: self.max_features])
            uniq, df = uniq[top], df[top]
        n_docs = len(texts)
        self.keys_ = uniq
        self.idf_ = (np.log((1 + n_docs) / (1 + df)) + 1).astype(np.float32)
        return self

    @property
    def n_features(self) -> int:
        return len(self.keys_)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        docs, keys = ngram_keys(texts, self.n_max)
        # Sorted needles make the binary searches walk the key array in order (cache friendly, ~3x faster).
        order = np.argsort(keys)
        keys, docs = keys[order], docs[order]
        cols = np.searchsorted(self.keys_, keys)
        cols[cols >= len(self.keys_)] = 0
        hit = self.keys_[cols] == keys if len(self.keys_) else np.zeros(len(keys), dtype=bool)
        matrix = count_matrix(docs[hit], cols[hit], (len(texts), len(self.keys_)))
        return weigh_counts(matrix, self.idf_)

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.fit(texts).transform(texts)

    def feature_name(self, column: int) -> str:
        return decode_key(int(self.keys_[column]))

    def state(self) -> dict[str, object]:
        return {
            "n_max": self.n_max,
            "min_df": self.min_df,
            "max_features": self.max_features,
            "keys": self.keys_,
            "idf": self.idf_,
        }

    @classmethod
    def from_state(cls, state: dict[str, object]) -> CharNgramTfidf:
        vec = cls(int(state["n_max"]), int(state["min_df"]), state["max_features"])  # type: ignore[call-overload,arg-type]
        vec.keys_ = np.asarray(state["keys"], dtype=np.uint64)
        vec.idf_ = np.asarray(state["idf"], dtype=np.float32)
        return vec


def count_matrix(docs: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """The canonical CSR matrix (float32) counting each (doc, col) pair: what scipy builds from COO with
    ``sum_duplicates``, in half its time on a batch (one sort of combined keys) and without its dozen
    Python-level checks on a single text."""
    rows, width = shape
    if len(docs) == 0:
        return sparse.csr_matrix(shape, dtype=np.float32)
    keys = np.asarray(docs, dtype=np.int64) * width + np.asarray(cols, dtype=np.int64)
    keys.sort()
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    counts = np.diff(np.append(starts, len(keys))).astype(np.float32)
    unique = keys[starts]
    index = np.int64 if len(unique) >= 2**31 or width >= 2**31 else np.int32
    indptr = np.zeros(rows + 1, dtype=index)
    np.cumsum(np.bincount(unique // width, minlength=rows), out=indptr[1:])
    return sparse.csr_matrix((counts, (unique % width).astype(index), indptr), shape=shape)


def weigh_counts(matrix: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Term counts → sublinear TF (1 + log tf) × IDF, each row scaled to unit length; in place."""
    np.log(matrix.data, out=matrix.data)
    matrix.data += 1
    matrix.data *= idf[matrix.indices]
    l2_rows(matrix)
    return matrix


def l2_rows(matrix: sparse.csr_matrix) -> None:
    """Scale each row of ``matrix`` (canonical CSR) to unit length, in place (empty rows stay empty, wherever
    they are). Summed over the data with numpy: scipy's ``multiply(...).sum(axis=1)`` builds two matrices,
    a third of the cost of classifying one text."""
    lengths = np.diff(matrix.indptr)
    norms = np.ones(len(lengths), dtype=np.float64)
    filled = lengths > 0
    if filled.any():
        squares = np.square(matrix.data, dtype=np.float64)
        norms[filled] = np.sqrt(np.add.reduceat(squares, matrix.indptr[:-1][filled]))
    norms[norms == 0] = 1
    matrix.data /= np.repeat(norms, lengths).astype(matrix.data.dtype)
