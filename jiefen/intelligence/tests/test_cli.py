"""``jiefen train``, ``classify``, ``similar`` and ``reindex`` end to end on small generated files."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jiefen.cases.intake import PersonInput
from jiefen.cli import main
from jiefen.intelligence.models import ModelKind, ModelVersion
from jiefen.language.classify import Model

pytestmark = pytest.mark.django_db

NOISE = "小区楼下餐馆油烟噪音扰民，深夜经营"
WAGES = "建筑公司拖欠农民工工资，包工头跑路"
ROADS = "道路破损积水，路灯不亮，希望维修"


def _rows(n: int) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for i in range(n):
        for text, label in ((NOISE, "环境保护"), (WAGES, "劳动和社会保障"), (ROADS, "交通运输")):
            rows.append({"编号": str(len(rows)), "留言详情": f"{text}{i}号", "一级标签": label})
    return rows


def test_train_writes_a_versioned_model_with_metrics_from_any_table_format(
    db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "labelled.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in _rows(20)), encoding="utf-8")
    target = tmp_path / "model.joblib"
    args = ["train", "--input", str(source), "--text-column", "留言详情", "--label-column", "一级标签"]
    assert main([*args, "--model", str(target)]) == 0
    model = Model.load(target)
    assert model.labels == ["交通运输", "劳动和社会保障", "环境保护"]
    assert model.metrics["accuracy"] == 1.0 and model.metrics["n"] > 0
    assert not ModelVersion.objects.exists()  # a file of one's own is not activated
    assert main(args) == 0
    version = ModelVersion.objects.get(kind=ModelKind.CLASSIFIER)
    assert (version.version, version.active, version.training_size) == (1, True, 60)
    assert version.metrics["macro_f1"] == 1.0
    assert "version 1 (active)" in capsys.readouterr().out


def test_train_refuses_a_file_without_the_column(
    db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "labelled.csv"
    source.write_text("text,label\n油烟,环境\n", encoding="utf-8")
    assert main(["train", "--input", str(source), "--text-column", "正文", "--label-column", "label"]) == 2
    assert "正文" in capsys.readouterr().err
    assert not ModelVersion.objects.exists()


def test_classify_adds_predicted_and_score_columns(db: Any, tmp_path: Path) -> None:
    source = tmp_path / "labelled.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["编号", "留言详情", "一级标签"])
        writer.writeheader()
        writer.writerows(_rows(20))
    model = tmp_path / "m.joblib"
    assert (
        main(
            [
                "train",
                "--input",
                str(source),
                "--text-column",
                "留言详情",
                "--label-column",
                "一级标签",
                "--model",
                str(model),
                "--no-eval",
            ]
        )
        == 0
    )
    unlabelled = tmp_path / "new.tsv"
    unlabelled.write_text("编号\t留言详情\n1\t楼下烧烤店油烟扰民\n2\t老板拖欠三个月工资\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    args = ["classify", "--model", str(model), "--input", str(unlabelled), "--text-column", "留言详情"]
    assert main([*args, "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [(r["编号"], r["predicted"]) for r in rows] == [("1", "环境保护"), ("2", "劳动和社会保障")]
    assert all(0 < float(r["score"]) <= 1 for r in rows)


def test_similar_lists_related_cases_after_reindex(
    make_case: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = [
        ("魅力之城小区油烟扰民", "魅力之城小区临街餐馆油烟直排，深夜噪音扰民。", "M1"),
        ("魅力之城小区烧烤油烟", "魅力之城小区楼下烧烤摊油烟熏人，营业到凌晨。", "M2"),
        ("公司拖欠工资", "西湖建筑集团拖欠30名工人工资15万元。", "W1"),
        ("学校强制实习", "A市经济学院强制学生外出实习。", "S1"),
        ("道路破损", "劳动东路路面破损积水。", "R1"),
    ]
    for i, (title, content, ext) in enumerate(texts):
        make_case(
            title=title,
            content=content,
            external_id=ext,
            external_source="test",
            petitioner=PersonInput(name=f"人{i}"),
        )
    assert main(["similar", "--external-id", "M1", "--top", "2", "--output", "-"]) == 2
    assert "jiefen reindex" in capsys.readouterr().err
    assert main(["reindex"]) == 0
    assert "indexed 5 cases with vectoriser version 1" in capsys.readouterr().out
    out = tmp_path / "similar.csv"
    assert main(["similar", "--external-id", "M1", "--top", "2", "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert list(rows[0]) == ["external_id", "receipt_number", "score", "reason"]
    assert len(rows) == 2
    assert rows[0]["external_id"] == "M2"
    assert "同一地点：魅力之城小区" in rows[0]["reason"]
    assert main(["similar", "--case", "NO-SUCH", "--output", "-"]) == 2


def test_reindex_compact_adds_the_cases_the_index_lacks_then_merges_its_log(
    make_case: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime as dt

    from jiefen.cases.models import Case

    for i, text in enumerate((NOISE, WAGES, ROADS)):
        make_case(title=text[:6], content=text, petitioner=PersonInput(name=f"人{i}"))
    assert main(["reindex"]) == 0
    lost = make_case(title="学校强制实习", content="A市经济学院强制学生外出实习。")  # (its append never ran)
    Case.objects.filter(pk=lost.pk).update(created_at=lost.created_at - dt.timedelta(hours=1))
    capsys.readouterr()
    assert main(["reindex", "--compact"]) == 0
    assert capsys.readouterr().out.strip() == "index caught up: 1 cases added; compacted: 4 cases"
