"""Benchmark of jiefen.language.classify on the teddy2020 data (7 first-level classes).

Prints macro-F1 on a held-out split by text group, prediction speed on one core, model load time and size.

    /work/venv/bin/python bench/classify.py [--test-size 0.2] [--seed 0] [--out bench/out/classifier.joblib]
    /work/venv/bin/python bench/classify.py --cv 5 [--c 1.0] [--nb-c 0.5]

``--cv K`` is for choosing features and hyper-parameters: grouped K-fold cross-validation on the training part
of the split only, which never reads the held-out part; the held-out figure is then measured once.

Data: ../shared/data/teddy2020 relative to the repository root (never copied into the repository). The
segmented 附件2 (8,266 rows, jieba tokens with stop-words and punctuation removed) is the full labelled set;
the raw subsets (val.txt, the recovered CSV, 分类结果.xlsx, sample/2.xlsx) hold raw text of some of the same
messages. Both are used for training, and both leak if a message's copies fall on both sides of the split, so
rows are grouped: (1) near-duplicates (char-bigram cosine ≥ 0.9 of the punctuation-free form) and (2) each raw
row with its closest segmented row when that cosine is ≥ 0.45 (the segmented copy lacks stop-words, so the
same message scores 0.5–1.0 and different messages stay below 0.4). The split is by group.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Speeds are quoted for one core: keep BLAS/OpenMP pools to one thread (set before numpy is imported).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _setup import machine  # noqa: E402

from jiefen.language import classify  # noqa: E402
from jiefen.language.io import read_labelled  # noqa: E402
from jiefen.language.text import CharNgramTfidf, join_tokens, model_text  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "teddy2020"


def load() -> tuple[list[str], list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    sources: list[str] = []
    seg = read_labelled(
        DATA / "附件2_segmented_full" / "原始数据集分词结果.xlsx",
        text_column="tokens",
        label_column="label",
        fieldnames=["tokens", "label"],
    )
    for tokens, label in seg:
        texts.append(join_tokens(tokens))
        labels.append(label)
        sources.append("segmented")
    raw_files = [
        (DATA / "附件2_raw_subsets" / "val.txt", "text", "label", ["label", "text"]),
        (
            DATA / "derived" / "附件2_raw_recovered_subset.csv",
            ["留言主题", "留言详情", "text_concat"],
            "一级标签",
            None,
        ),
        (DATA / "附件2_raw_subsets" / "分类结果.xlsx", ["留言主题", "留言详情"], "一级标签", None),
        (DATA / "sample" / "2.xlsx", ["留言主题", "留言详情"], "一级分类", None),
    ]
    for path, text_column, label_column, fieldnames in raw_files:
        for text, label in read_labelled(
            path, text_column=text_column, label_column=label_column, fieldnames=fieldnames
        ):
            texts.append(text)
            labels.append(label)
            sources.append("raw")
    return texts, labels, sources


def groups_across_representations(texts: list[str], sources: list[str]) -> list[int]:
    groups = classify.text_groups(texts, threshold=0.9)
    parent = {g: g for g in set(groups)}

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    seg_idx = np.array([i for i, s in enumerate(sources) if s == "segmented"])
    raw_idx = np.array([i for i, s in enumerate(sources) if s == "raw"])
    vec = CharNgramTfidf(n_max=2, min_df=1)
    matrix = vec.fit_transform(texts)
    matrix = matrix[:, np.flatnonzero(vec.keys_ >= (1 << 21))]
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    from scipy import sparse

    matrix = sparse.csr_matrix(sparse.diags(1 / norms) @ matrix)
    seg_matrix = matrix[seg_idx]
    for start in range(0, len(raw_idx), 1000):
        block = raw_idx[start : start + 1000]
        sims = (matrix[block] @ seg_matrix.T).toarray()
        best = sims.argmax(axis=1)
        for row, i in enumerate(block):
            if sims[row, best[row]] >= 0.45:
                a, b = find(groups[i]), find(groups[seg_idx[best[row]]])
                parent[a] = b
    return [find(g) for g in groups]


def cross_validate(
    texts: list[str],
    labels: list[str],
    sources: list[str],
    groups: list[int],
    *,
    folds: int,
    c: float,
    nb_c: float,
) -> None:
    """Macro-F1 of ``folds``-fold cross-validation by text group, per source, over the pooled predictions."""
    from sklearn.model_selection import GroupKFold

    predicted = [""] * len(texts)
    for fold, (fit_idx, val_idx) in enumerate(GroupKFold(n_splits=folds).split(texts, labels, groups)):
        t0 = time.perf_counter()
        model = classify.train(
            [texts[i] for i in fit_idx],
            [labels[i] for i in fit_idx],
            c=c,
            nb_c=nb_c,
            calibrate_folds=0,
        )
        for i, label in zip(val_idx, model.predict([texts[i] for i in val_idx]), strict=True):
            predicted[i] = label
        print(f"cv fold {fold + 1}/{folds}: {time.perf_counter() - t0:.0f}s", flush=True)
    for name in ("segmented", "raw"):
        idx = [i for i, s in enumerate(sources) if s == name]
        score = classify.macro_f1([labels[i] for i in idx], [predicted[i] for i in idx])
        print(f"cv {name:9s}: n={len(idx):5d} macro-F1={score:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--c", type=float, default=1.0, help="SVM regularisation constant")
    parser.add_argument(
        "--nb-c", type=float, default=0.5, help="NB-SVM regularisation constant (0: SVM only)"
    )
    parser.add_argument(
        "--cv", type=int, default=0, metavar="K", help="grouped K-fold CV on the training part only"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "classifier.joblib")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} is absent")
        return
    print(machine(), flush=True)

    from sklearn.model_selection import GroupShuffleSplit
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    texts, labels, sources = load()
    groups = groups_across_representations(texts, sources)
    print(
        f"data: {len(texts)} rows ({sources.count('segmented')} segmented, {sources.count('raw')} raw), "
        f"{len(set(groups))} text groups; grouping {time.perf_counter() - t0:.1f}s"
    )

    splitter = GroupShuffleSplit(n_splits=1, test_size=args.test_size, random_state=args.seed)
    train_idx, test_idx = next(splitter.split(texts, labels, groups))
    assert not {groups[i] for i in train_idx} & {groups[i] for i in test_idx}
    tr_texts = [texts[i] for i in train_idx]
    tr_labels = [labels[i] for i in train_idx]
    if args.cv:
        cross_validate(
            tr_texts,
            tr_labels,
            [sources[i] for i in train_idx],
            [groups[i] for i in train_idx],
            folds=args.cv,
            c=args.c,
            nb_c=args.nb_c,
        )
        return
    t0 = time.perf_counter()
    model = classify.train(
        tr_texts, tr_labels, c=args.c, nb_c=args.nb_c, groups=[groups[i] for i in train_idx]
    )
    train_s = time.perf_counter() - t0

    metrics: dict[str, object] = {"split": f"group shuffle {args.test_size:.0%} seed {args.seed}"}
    for name in ("segmented", "raw"):
        idx = [i for i in test_idx if sources[i] == name]
        result = classify.evaluate(model, [texts[i] for i in idx], [labels[i] for i in idx])
        metrics[f"test_{name}"] = result
        print(
            f"held-out {name:9s}: n={result['n']:5d} macro-F1={result['macro_f1']:.4f} "
            f"accuracy={result['accuracy']:.4f}"
        )
    print("per-label F1 (segmented):", metrics["test_segmented"]["f1_per_label"])  # type: ignore[index]
    print(
        f"train: {len(tr_texts)} rows in {train_s:.1f}s, {model.vectorizer.n_features} features, "
        f"temperature {model.temperature:.2f}"
    )

    # Calibration check: mean top-1 probability vs top-1 accuracy on the held-out segmented rows.
    seg_test = [i for i in test_idx if sources[i] == "segmented"]
    proba = model.predict_proba([texts[i] for i in seg_test])
    top = proba.argmax(axis=1)
    acc = np.mean([model.labels[j] == labels[i] for j, i in zip(top, seg_test, strict=True)])
    print(f"calibration: mean top-1 probability {proba.max(axis=1).mean():.3f} vs accuracy {acc:.3f}")

    model.metrics = metrics
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    size_mb = os.path.getsize(args.out) / 2**20
    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        loaded = classify.Model.load(args.out)
        loads.append(time.perf_counter() - t0)
    print(
        f"model file: {size_mb:.1f} MB; load {min(loads) * 1000:.0f} ms (best of 3, max {max(loads) * 1000:.0f})"
    )

    raw_test = [texts[i] for i in test_idx if sources[i] == "raw"] or [texts[i] for i in test_idx]
    sample = (raw_test * (3000 // len(raw_test) + 1))[:3000]
    mean_len = np.mean([len(t) for t in sample])
    with threadpool_limits(1):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        loaded.predict(sample[:100])
        for label, fn in (
            ("predict", lambda b: loaded.predict(b)),
            ("predict_top k=3 + explanation", lambda b: loaded.predict_top(b, k=3)),
            ("predict_top, one text per call", None),
        ):
            # (the sample repeats the held-out texts: each batch starts without the cleaned forms of texts
            # seen before, which ``model_text`` keeps for the case vectoriser reading the same batch)
            model_text.cache_clear()
            t0 = time.perf_counter()
            if fn is None:
                for text in sample[:500]:
                    loaded.predict_top([text], k=3)
                n = 500
            else:
                for start in range(0, len(sample), 500):
                    model_text.cache_clear()
                    fn(sample[start : start + 500])
                n = len(sample)
            rate = n / (time.perf_counter() - t0)
            print(f"speed, one core, {label}: {rate:,.0f} docs/s (mean {mean_len:.0f} chars)")
    example = loaded.predict_top([sample[0]], k=3)[0]
    print("example:", sample[0][:60], "→", example)


if __name__ == "__main__":
    main()
