from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from jiefen.language.io import read_labelled, read_table
from jiefen.language.text import (
    CharNgramTfidf,
    char_ngrams,
    count_matrix,
    decode_key,
    join_tokens,
    model_text,
    ngram_keys,
    normalize,
    to_halfwidth,
    words,
)

from .conftest import require_data


def test_it_strips_scraped_whitespace_and_full_width_forms() -> None:
    assert (
        normalize("\n\t\t\t\t\t\n\t\t\t\t\tＡ３区 联丰路１２号，噪音扰民！\n") == "A3区联丰路12号，噪音扰民！"
    )


def test_it_keeps_spaces_between_latin_words_only() -> None:
    assert normalize("LIST  PUB 酒吧 在 五一大道") == "LIST PUB酒吧在五一大道"


def test_to_halfwidth_keeps_chinese_punctuation() -> None:
    assert to_halfwidth("１２３ＡＢ，。！") == "123AB，。！"


def test_join_tokens_rebuilds_segmented_text() -> None:
    assert join_tokens("投诉 市 A1 区苑 物业 违规 收 停车费") == "投诉市A1区苑物业违规收停车费"


def test_char_ngrams_do_not_cross_whitespace() -> None:
    assert char_ngrams("ab cd", 1, 2) == ["a", "b", "ab", "c", "d", "cd"]
    assert char_ngrams("魅力之城", 2, 3) == ["魅力", "力之", "之城", "魅力之", "力之城"]


def test_words_uses_jieba() -> None:
    assert words("A市经济学院强制学生外出实习") == ["A", "市", "经济", "学院", "强制", "学生", "外出", "实习"]


def test_ngram_keys_are_exact_and_decodable() -> None:
    docs, keys = ngram_keys(["油烟扰民", "ab"], n_max=3)
    grams = sorted((int(d), decode_key(int(k))) for d, k in zip(docs, keys, strict=True))
    assert grams == sorted(
        [(0, g) for g in ["油", "烟", "扰", "民", "油烟", "烟扰", "扰民", "油烟扰", "烟扰民"]]
        + [(1, "a"), (1, "b"), (1, "ab")]
    )


def test_model_text_drops_punctuation_and_lowercases() -> None:
    assert model_text("Ａ市，魅力之城！ OK") == "a市魅力之城ok"


def test_char_ngram_tfidf_rows_are_unit_length_and_unknown_grams_ignored() -> None:
    vec = CharNgramTfidf(min_df=1).fit(["油烟扰民", "噪音扰民", "油烟直排"])
    matrix = vec.transform(["油烟扰民严重", "完全无关"])
    assert np.isclose(np.sqrt(matrix[0].multiply(matrix[0]).sum()), 1.0)
    assert matrix[1].nnz == 0
    names = {vec.feature_name(c) for c in matrix[0].indices}
    assert "油烟扰" in names and "严" not in names


def test_read_table_reads_csv_with_bom_and_gb18030(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes("\ufefftext,label\n你好,甲\n\n".encode())
    (tmp_path / "b.csv").write_bytes("text, label \n世界,乙\n".encode("gb18030"))
    assert list(read_table(tmp_path / "a.csv")) == [{"text": "你好", "label": "甲"}]
    assert list(read_table(tmp_path / "b.csv")) == [{"text": "世界", "label": "乙"}]


def test_read_table_tsv_does_not_treat_quotes_specially(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text('甲\t他说"你好\n乙\t第二行\n', encoding="utf-8")
    rows = list(read_table(tmp_path / "a.txt", fieldnames=["label", "text"]))
    assert rows == [{"label": "甲", "text": '他说"你好'}, {"label": "乙", "text": "第二行"}]


def test_read_table_jsonl_and_xlsx(tmp_path: Path) -> None:
    import openpyxl

    (tmp_path / "a.jsonl").write_text(json.dumps({"t": "x", "l": 1}) + "\n\n", encoding="utf-8")
    assert list(read_table(tmp_path / "a.jsonl")) == [{"t": "x", "l": 1}]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([" 留言详情 ", "一级标签"])
    ws.append(["\n\t\t噪音 扰民", "环境保护"])
    ws.append([None, None])
    ws.append(["缺标签", None])
    wb.save(tmp_path / "a.xlsx")
    assert read_labelled(tmp_path / "a.xlsx", text_column="留言详情", label_column="一级标签") == [
        ("噪音扰民", "环境保护")
    ]


def test_read_table_rejects_unknown_formats(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        read_table(tmp_path / "a.pdf")


def test_read_labelled_names_the_missing_column(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("text,label\nx,y\n", encoding="utf-8")
    with pytest.raises(KeyError, match="正文"):
        read_labelled(tmp_path / "a.csv", text_column="正文", label_column="label")


def test_read_real_files_of_every_kind() -> None:
    data = require_data()
    val = read_labelled(
        data / "附件2_raw_subsets" / "val.txt",
        text_column="text",
        label_column="label",
        fieldnames=["label", "text"],
    )
    assert len(val) == 1818
    assert val[0][1] == "商贸旅游" and val[0][0].startswith("D12市砖厂协会和商品砼协会违规操控市场价格")
    recovered = read_labelled(
        data / "derived" / "附件2_raw_recovered_subset.csv",
        text_column=["留言主题", "留言详情", "text_concat"],
        label_column="一级标签",
    )
    assert len(recovered) == 2737
    assert recovered[0] == (
        "A市西湖建筑集团占道施工有安全隐患A3区大道西行便道，未管所路口至加油站路段，人行道包括路灯杆，被圈西湖建筑集团"
        "燕子山安置房项目施工围墙内。每天尤其上下班期间这条路上人流车流极多，安全隐患非常大。强烈请求文明城市A市，"
        "尽快整改这个极不文明的路段。",
        "城乡建设",
    )


def test_count_matrix_equals_scipys_summed_coo_matrix() -> None:
    """``count_matrix`` builds what scipy builds from (doc, col) pairs with ``sum_duplicates``: the same
    canonical rows (sorted columns, summed repeats, empty rows where a text found nothing)."""
    from scipy import sparse

    rng = np.random.default_rng(3)
    docs = np.sort(rng.integers(0, 50, size=3000))
    docs = docs[(docs != 7) & (docs != 49)]  # two texts with nothing, one of them the last
    cols = rng.integers(0, 40, size=len(docs))
    built = count_matrix(docs, cols, (50, 40))
    expected = sparse.csr_matrix((np.ones(len(docs), dtype=np.float32), (docs, cols)), shape=(50, 40))
    expected.sum_duplicates()
    assert built.dtype == np.float32 and built.has_canonical_format
    for part in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(built, part), getattr(expected, part))
    empty = count_matrix(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), (3, 5))
    assert empty.shape == (3, 5) and empty.nnz == 0 and len(empty.indptr) == 4
