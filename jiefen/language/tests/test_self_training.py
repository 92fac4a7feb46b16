"""Self-training: unlabelled texts join training with their predicted label when the model is sure of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse

from jiefen.language.classify import (
    PSEUDO_MIN_MARGIN,
    PSEUDO_WEIGHT,
    Model,
    _pseudo_labels,
    near_duplicates,
    train,
)

TOY = [
    ("小区楼下餐馆油烟直排，噪音扰民", "环境保护"),
    ("工厂夜间排放废气，空气污染严重", "环境保护"),
    ("河道被工厂排污，污水发臭", "环境保护"),
    ("养殖场污水直排河里，鱼都死了", "环境保护"),
    ("包工头拖欠农民工工资半年", "劳动和社会保障"),
    ("公司拖欠工资不发，工人讨薪无门", "劳动和社会保障"),
    ("单位不给缴纳社保，养老保险断缴", "劳动和社会保障"),
    ("退休后养老保险待遇计算有误", "劳动和社会保障"),
] * 3
TEXTS = [t for t, _ in TOY]
LABELS = [y for _, y in TOY]
# Unlabelled texts that say plainly what they are about, each with a word (克扣, 粉尘) whose characters no
# labelled text has.
UNLABELLED = [
    "老板拖欠工资，克扣工钱三个月，工人讨薪",
    "工地拖欠农民工工资，克扣不还",
    "公司克扣工资，拖欠工资半年不发",
    "工厂粉尘污染严重，排放废气",
    "搅拌站粉尘飞扬，空气污染",
    "粉尘直排，污染空气，噪音扰民",
]


def _label_of(model: Model, text: str) -> str:
    return model.predict_top([text], k=1, explain=False)[0][0].label


def _margin_of(model: Model, text: str) -> float:
    scores = np.sort(model.decision([text])[1][0])
    return float(scores[-1] - scores[-2])


def test_it_learns_the_words_of_confidently_labelled_unlabelled_texts() -> None:
    plain, selftrained = (
        train(
            TEXTS,
            LABELS,
            min_df=1,
            calibrate_folds=0,
            unlabelled=UNLABELLED,
            unlabelled_features=True,
            pseudo_margin=0.0,
            pseudo_rounds=rounds,
        )
        for rounds in (0, 1)
    )
    assert selftrained.metrics["self_training"]["pseudo_labelled"] == 6
    # Same feature space, so the only difference is the pseudo-labelled rows: 克扣 now means 劳动和社会保障.
    assert _margin_of(plain, "克扣") < 0.1
    assert _label_of(selftrained, "克扣") == "劳动和社会保障"
    assert _margin_of(selftrained, "克扣") > 0.3
    assert _label_of(selftrained, "粉尘") == "环境保护"


def test_only_texts_above_the_margin_become_training_rows() -> None:
    plain = train(TEXTS, LABELS, min_df=1, calibrate_folds=0, unlabelled=UNLABELLED, pseudo_rounds=0)
    margins = sorted(_margin_of(plain, t) for t in UNLABELLED)
    threshold = (margins[2] + margins[3]) / 2  # between the third and fourth most doubtful
    model = train(
        TEXTS,
        LABELS,
        min_df=1,
        calibrate_folds=0,
        unlabelled=UNLABELLED,
        pseudo_margin=threshold,
        pseudo_by_share=False,  # no cap by label mix: exactly the texts above the margin
    )
    assert model.metrics["self_training"]["pseudo_labelled"] == 3
    none = train(TEXTS, LABELS, min_df=1, calibrate_folds=0, unlabelled=UNLABELLED, pseudo_margin=1e9)
    assert none.metrics["self_training"]["pseudo_labelled"] == 0
    assert np.array_equal(none.coef, plain.coef)


def test_pseudo_labels_keep_the_mix_of_the_confirmed_labels_taking_the_surest() -> None:
    # Decision values are the rows themselves (identity weights): margins 3, 2, 1, 0.5 for A and 2 for B.
    scores = sparse.csr_matrix(np.array([[3, 0], [2, 0], [1, 0], [0.5, 0], [0, 2]], dtype=np.float32))
    identity, zero = np.eye(2, dtype=np.float32), np.zeros(2, dtype=np.float32)
    rows, labels = _pseudo_labels(scores, identity, zero, ["A", "B"], 0.75)
    assert (rows.tolist(), labels.tolist()) == ([0, 1, 2, 4], ["A", "A", "A", "B"])
    # Confirmed labels half A: A keeps at most half of the 4 selected rows, its two of largest margin.
    rows, labels = _pseudo_labels(scores, identity, zero, ["A", "B"], 0.75, np.array(["A", "B"]))
    assert (rows.tolist(), labels.tolist()) == ([0, 1, 4], ["A", "A", "B"])


def test_near_duplicates_of_excluded_texts_never_join_training() -> None:
    held_out = ["搅拌站粉尘飞扬，空气污染严重"]  # cosine 0.91 with an unlabelled text
    model = train(
        TEXTS,
        LABELS,
        min_df=1,
        calibrate_folds=0,
        unlabelled=UNLABELLED,
        exclude=held_out,
        pseudo_margin=0.0,
        unlabelled_features=True,  # so that the excluded text's words would show in the vocabulary
    )
    info = model.metrics["self_training"]
    assert (info["unlabelled"], info["excluded_near_duplicates"], info["pseudo_labelled"]) == (6, 1, 5)
    assert "搅拌站" not in model.vectorizer.words.vocabulary + [
        model.vectorizer.body.feature_name(i) for i in range(model.vectorizer.body.n_features)
    ]


def test_near_duplicates_are_the_text_groups_rule() -> None:
    texts = [
        "A市魅力之城小区底层餐馆油烟扰民，晚上烧烤到凌晨两点",  # near-duplicate of the first other
        "A市 魅力之城 小区 底层 餐馆 油烟 扰民，晚上烧烤到凌晨！",  # same model_text form
        "A市经济学院强制学生外出实习",
        "",
    ]
    others = ["A市魅力之城小区底层餐馆油烟扰民，晚上烧烤到凌晨", "B市某小区停车费乱收"]
    assert near_duplicates(texts, others).tolist() == [True, True, False, False]
    assert near_duplicates(texts, []).tolist() == [False] * 4


def test_the_model_file_records_the_self_training(tmp_path: Path) -> None:
    model = train(TEXTS, LABELS, min_df=1, calibrate_folds=2, unlabelled=UNLABELLED, exclude=["无关的文本"])
    model.save(tmp_path / "m.joblib")
    loaded = Model.load(tmp_path / "m.joblib")
    assert loaded.metrics["self_training"] == {
        "unlabelled": 6,
        "excluded_near_duplicates": 0,
        "pseudo_labelled": model.metrics["self_training"]["pseudo_labelled"],
        "min_margin": PSEUDO_MIN_MARGIN,
        "weight": PSEUDO_WEIGHT,
        "rounds": 1,
        "by_share": True,
        "unlabelled_features": False,
    }
    assert model.training_size == len(TEXTS)
    assert loaded.predict(UNLABELLED) == model.predict(UNLABELLED)


def test_without_unlabelled_texts_nothing_is_recorded() -> None:
    assert "self_training" not in train(TEXTS, LABELS, min_df=1, calibrate_folds=0).metrics
