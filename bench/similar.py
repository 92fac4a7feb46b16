"""Benchmark of jiefen.language.similar: build an on-disk IVF index over N cases and search it.

    /work/venv/bin/python bench/similar.py [--n 1000000] [--queries 1000] [--nprobe 16,32,64]

Cases: the real messages of 附件3, 附件4 and official_test (about 9,900, from ../shared/data, never copied into
the repository) plus generated variants of them until there are N: sentences shuffled, dropped, inserted from
another message, district/compound names swapped, a few characters substituted. Queries are fresh variants
(not in the index), like a new case arriving. Prints build time, p50/p95 latency of a top-10 search,
recall@10 against exact brute-force cosine over the same vectors, RSS and index size on disk.
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _setup import machine  # noqa: E402

from jiefen.language.io import read_table  # noqa: E402
from jiefen.language.similar import CaseVectorizer, IVFIndex, brute_force  # noqa: E402
from jiefen.language.text import normalize  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "teddy2020"
_SENTENCE_RE = re.compile(r"(?<=[。！？；!?;])")
_DISTRICT_RE = re.compile(r"[A-Z]\d{1,2}[区县市]")
_COMPOUND_RE = re.compile(r"[\u4e00-\u9fff]{2,4}(?:小区|花园|家园|公寓)")


def real_texts() -> list[str]:
    texts = []
    for path in (
        DATA / "full" / "附件3.xlsx",
        DATA / "full" / "附件4.xlsx",
        DATA / "official_test" / "附件2（测试数据）.xlsx",
    ):
        for row in read_table(path):
            text = normalize(f"{row.get('留言主题') or ''} {row.get('留言详情') or ''}")
            if text:
                texts.append(text)
    return texts


def variant(text: str, pool: list[str], rng: np.random.Generator) -> str:
    sentences = [s for s in _SENTENCE_RE.split(text) if s]
    op = rng.integers(5)
    if op == 0 and len(sentences) > 2:
        head, rest = sentences[:1], sentences[1:]
        rng.shuffle(rest)
        sentences = head + rest
    elif op == 1 and len(sentences) > 2:
        del sentences[int(rng.integers(1, len(sentences)))]
    elif op == 2:
        other = [s for s in _SENTENCE_RE.split(pool[int(rng.integers(len(pool)))]) if s]
        sentences.insert(int(rng.integers(len(sentences) + 1)), other[int(rng.integers(len(other)))])
    out = "".join(sentences)
    if op == 3:
        out = _DISTRICT_RE.sub(
            lambda _: f"{'ABCDEFGHIJKL'[int(rng.integers(12))]}{int(rng.integers(1, 10))}区", out
        )
        out = _COMPOUND_RE.sub(lambda m: m.group()[::-1][:2][::-1] + m.group()[2:], out)
    if op == 4 or rng.random() < 0.3:
        chars = list(out)
        for _ in range(max(1, len(chars) // 50)):
            chars[int(rng.integers(len(chars)))] = "的了是在有和也就都还"[int(rng.integers(10))]
        out = "".join(chars)
    return out


def compose_variants(
    vectors: np.ndarray, start: int, base: list[str], vectorizer: CaseVectorizer, rng: np.random.Generator
) -> None:
    """Fill ``vectors[start:]`` with variants built from sentence vectors instead of re-vectorising text.

    Vectorising a million generated texts takes longer than the benchmark may (≈ 1,500 texts/s on a busy
    2-core machine). A variant is a real message with one sentence dropped and one sentence of another
    message inserted, plus a small perturbation for substituted characters and swapped place names; its
    vector is the length-weighted sum of its sentences' vectors, renormalised. The sum of projected TF-IDF
    rows is close to the projection of the concatenated text (TF-IDF is additive before its sublinear tf and
    row normalisation), which is what the index sees in production."""
    sentences: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(base):
        parts = [s for s in _SENTENCE_RE.split(text) if len(s) >= 4] or [text]
        sentences.extend(parts)
        owner.extend([i] * len(parts))
    sent_vectors = (
        np.concatenate(
            [vectorizer.transform(sentences[j : j + 5000]) for j in range(0, len(sentences), 5000)]
        )
        * np.sqrt(np.array([len(s) for s in sentences], dtype=np.float32))[:, None]
    )
    owner_arr = np.array(owner)
    first = np.searchsorted(owner_arr, np.arange(len(base)))
    count = np.bincount(owner_arr, minlength=len(base))
    n = len(vectors) - start
    which = rng.integers(len(base), size=n)
    drop = first[which] + (rng.random(n) * count[which]).astype(np.int64)
    insert = rng.integers(len(sentences), size=n)
    for lo in range(0, n, 100_000):
        hi = min(n, lo + 100_000)
        w = which[lo:hi]
        sums = _base_sums(sent_vectors, first, count)[w]
        keep_drop = count[w] > 1
        sums = sums - sent_vectors[drop[lo:hi]] * keep_drop[:, None] + sent_vectors[insert[lo:hi]]
        sums /= np.linalg.norm(sums, axis=1, keepdims=True)
        sums += rng.normal(scale=0.02, size=sums.shape).astype(np.float32)
        vectors[start + lo : start + hi] = sums / np.linalg.norm(sums, axis=1, keepdims=True)


_SUMS_CACHE: dict[int, np.ndarray] = {}


def _base_sums(sent_vectors: np.ndarray, first: np.ndarray, count: np.ndarray) -> np.ndarray:
    key = id(sent_vectors)
    if key not in _SUMS_CACHE:
        _SUMS_CACHE[key] = np.add.reduceat(sent_vectors, first, axis=0)
    return _SUMS_CACHE[key]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--nprobe", default="16,32,64")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--text-variants", action="store_true", help="vectorise every generated text (slow)")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} is absent", flush=True)
        return
    print(machine(), flush=True)
    rng = np.random.default_rng(0)
    base = real_texts()
    print(f"real messages: {len(base)}", flush=True)

    t0 = time.perf_counter()
    vectorizer = CaseVectorizer().fit(base)
    fit_s = time.perf_counter() - t0
    print(
        f"vectoriser fit: {fit_s:.1f}s ({vectorizer.tfidf.n_features} n-grams → {vectorizer.dim} dims)",
        flush=True,
    )

    t0 = time.perf_counter()
    vectors = np.empty((args.n, vectorizer.dim), dtype=np.float32)
    batch = 5000
    n_text = args.n if args.text_variants else min(args.n, len(base))
    for start in range(0, n_text, batch):
        stop = min(n_text, start + batch)
        texts = [
            base[i] if i < len(base) else variant(base[i % len(base)], base, rng) for i in range(start, stop)
        ]
        vectors[start:stop] = vectorizer.transform(texts)
    if n_text < args.n:
        compose_variants(vectors, n_text, base, vectorizer, rng)
    vec_s = time.perf_counter() - t0
    how = "text variants" if args.text_variants else "sentence-composed variants"
    print(
        f"generate + vectorise {args.n:,} cases ({how}): {vec_s:.1f}s ({args.n / vec_s:,.0f}/s)", flush=True
    )

    directory = args.dir or Path(tempfile.mkdtemp(prefix="jiefen-similar-"))
    t0 = time.perf_counter()
    index = IVFIndex.create(directory / "index", vectors, np.arange(args.n, dtype=np.int64))
    index_s = time.perf_counter() - t0
    size_mb = sum(p.stat().st_size for p in (directory / "index").rglob("*") if p.is_file()) / 2**20
    print(
        f"index build (k-means + write): {index_s:.1f}s; total build {fit_s + vec_s + index_s:.1f}s; "
        f"on disk {size_mb:,.0f} MB"
    )

    q_idx = rng.choice(args.n, size=args.queries, replace=False)
    queries = vectorizer.transform([variant(base[int(i) % len(base)], base, rng) for i in q_idx])
    t0 = time.perf_counter()
    exact = [set(brute_force(vectors, q, 10).tolist()) for q in queries]
    brute_ms = (time.perf_counter() - t0) / len(queries) * 1000
    print(f"brute force: {brute_ms:.1f} ms/query", flush=True)

    # Search through a fresh reader, as a web process would (maps the files; no build state).
    reader = IVFIndex(directory / "index")
    for nprobe in [int(x) for x in args.nprobe.split(",")]:
        latencies = []
        recalls = []
        for q, truth in zip(queries, exact, strict=True):
            t1 = time.perf_counter()
            hits = reader.search(q, 10, nprobe=nprobe)
            latencies.append((time.perf_counter() - t1) * 1000)
            recalls.append(len({h.case_id for h in hits} & truth) / 10)
        p50, p95 = np.percentile(latencies, [50, 95])
        print(
            f"nprobe {nprobe:3d}: p50 {p50:.2f} ms, p95 {p95:.2f} ms, recall@10 {np.mean(recalls):.4f}",
            flush=True,
        )

    t0 = time.perf_counter()
    index.add(vectorizer.transform(base[:100]), np.arange(args.n, args.n + 100))
    add_ms = (time.perf_counter() - t0) * 1000
    hits = reader.search(vectorizer.transform(base[:1])[0], 10)
    print(
        f"incremental add of 100 cases: {add_ms:.1f} ms; visible to a reader: {args.n in {h.case_id for h in hits}}",
        flush=True,
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"memory: RSS now {rss_mb():,.0f} MB, peak {peak:,.0f} MB (vectors held in RAM by the benchmark: "
        f"{vectors.nbytes / 2**20:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
