from __future__ import annotations

import datetime as dt

import pytest

from jiefen.language.extract import (
    Extractor,
    cn_to_number,
    extract,
    mask,
    mask_id_number,
    mask_phone,
    valid_id_number,
)

from .conftest import message

# A valid ID number (checksum X) and one with a wrong check digit.
VALID_ID = "11010519491231002X"
BAD_ID = "110105194912310021"


def found(text: str, *types: str) -> list[tuple[str, str, object]]:
    return [(e.type, e.text, e.value) for e in extract(text, types=types or None)]


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("三万", 30000),
        ("一千二百五十", 1250),
        ("十五", 15),
        ("2.5万", 25000),
        ("二〇一九", 2019),
        ("两百", 200),
        ("一亿二千万", 120_000_000),
    ],
)
def test_cn_to_number(numeral: str, value: float) -> None:
    assert cn_to_number(numeral) == value


def test_it_validates_id_checksums_and_birth_dates() -> None:
    assert valid_id_number(VALID_ID)
    assert not valid_id_number(BAD_ID)
    assert not valid_id_number("110105194913310023")  # month 13


def test_it_finds_phones_and_valid_ids_with_spans() -> None:
    text = f"我的电话13812345678，座机0731-84567890，身份证{VALID_ID}，另一个{BAD_ID}"
    entities = extract(text, types=("phone", "id_number"))
    assert [(e.type, e.value, text[e.start : e.end]) for e in entities] == [
        ("phone", "13812345678", "13812345678"),
        ("phone", "073184567890", "0731-84567890"),
        ("id_number", VALID_ID, VALID_ID),
    ]


def test_it_masks_phones_and_ids() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0731-84567890") == "0731****7890"
    assert mask_id_number(VALID_ID) == "110105********002X"
    assert mask(f"电话13812345678身份证{VALID_ID}错号{BAD_ID}") == (
        "电话138****5678身份证110105********002X错号110105********0021"
    )


def test_it_finds_places_from_district_to_room() -> None:
    text = "我住在A市A5区井湾子街道楚莲社区魅力之城小区3栋2单元1502室，楼下餐馆油烟扰民"
    assert found(text, "district", "street", "community", "compound", "building", "unit", "room") == [
        ("district", "A市", "A市"),
        ("district", "A5区", "A5区"),
        ("street", "井湾子街道", "井湾子街道"),
        ("community", "楚莲社区", "楚莲社区"),
        ("compound", "魅力之城小区", "魅力之城小区"),
        ("building", "3栋", "3"),
        ("unit", "2单元", "2"),
        ("room", "1502室", "1502"),
    ]


def test_it_finds_organisations() -> None:
    text = "A市程明物业管理有限公司和西湖建筑集团在A市经济学院旁施工，E7县人民医院的救护车进不来"
    assert found(text, "property", "company", "school", "hospital") == [
        ("property", "A市程明物业管理有限公司", "A市程明物业管理有限公司"),
        ("company", "西湖建筑集团", "西湖建筑集团"),
        ("school", "A市经济学院", "A市经济学院"),
        ("hospital", "E7县人民医院", "E7县人民医院"),
    ]


def test_it_finds_money_including_chinese_numerals() -> None:
    text = "拖欠工资三万元，另有押金5000元和1.5万元补偿，还借了8万多元"
    assert [(e.text, e.value, e.extra) for e in extract(text, types=("money",))] == [
        ("三万元", 30000.0, {}),
        ("5000元", 5000.0, {}),
        ("1.5万元", 15000.0, {}),
        ("8万多元", 80000.0, {"approx": True}),
    ]


def test_it_counts_people_with_lower_bounds() -> None:
    text = "30多名工人讨薪，几十人围在门口，涉及5户村民，还有一名老人"
    assert [(e.text, e.value, e.extra["approx"]) for e in extract(text, types=("people",))] == [
        ("30多名工人", 30, True),
        ("几十人", 20, True),
        ("5户村民", 5, False),
        ("一名老人", 1, False),
    ]


def test_it_reads_absolute_and_relative_dates() -> None:
    text = "2019年5月开始施工，5月3日停工，去年也这样，2019-06-01又投诉"
    entities = extract(text, types=("date",), today=dt.date(2020, 1, 10))
    assert [(e.text, e.value) for e in entities] == [
        ("2019年5月", "2019-05"),
        ("5月3日", "--05-03"),
        ("去年", "2019"),
        ("2019-06-01", "2019-06-01"),
    ]


def test_a_gazetteer_is_matched_first() -> None:
    extractor = Extractor(known_places={"桂花坪": "street"})
    assert [(e.type, e.text) for e in extractor.extract("桂花坪的路灯坏了", types=("street",))] == [
        ("street", "桂花坪")
    ]


def test_real_message_with_compound_building_and_date() -> None:
    text = message("275468")
    assert found(text, "compound", "building", "date") == [
        ("compound", "雅园小区", "雅园小区"),
        ("building", "C栋", "C"),
        ("compound", "雅园小区", "雅园小区"),
        ("building", "C栋", "C"),
        ("date", "2018年11月15日", "2018-11-15"),
    ]


def test_real_message_with_street_community_and_property() -> None:
    text = message("238830")
    assert found(text, "street", "community", "property", "date") == [
        ("street", "井湾子街道", "井湾子街道"),
        ("community", "楚莲社区", "楚莲社区"),
        ("property", "谋信物业", "谋信物业"),
        ("date", "今年", None),
        ("date", "6月18日", "--06-18"),
        ("date", "2019年6月22号", "2019-06-22"),
    ]


def test_real_message_with_money_and_people() -> None:
    assert found(message("200586"), "money") == [("money", "三千元", 3000.0)]
    assert found(message("197952"), "people") == [
        ("people", "11个商铺业主", 11),
        ("people", "11位商铺业主", 11),
    ]
