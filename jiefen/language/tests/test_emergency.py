"""The emergency detector on sentences as people write them."""

from __future__ import annotations

from pathlib import Path

import pytest

from jiefen.language.emergency import detect, numbers_for


@pytest.mark.parametrize(
    ("text", "kinds", "numbers"),
    [
        ("我老公喝了酒正在打我，孩子也被打了，快来人", ["violence"], ["110"]),
        ("楼下两伙人现在还在打架斗殴，有人拿着刀追人", ["violence"], ["110"]),
        ("邻居扬言要砍死我们全家，刚才拿刀在门口砸门", ["violence"], ["110"]),
        ("3号楼5层着火了，浓烟很大，楼道里还有老人", ["fire"], ["119"]),
        ("小区地下室天然气泄漏，味道很重，请赶紧派人", ["fire"], ["119"]),
        ("我父亲在家里突然晕倒，叫不醒，没有呼吸了", ["medical"], ["120"]),
        ("工地上有工人触电，现在昏迷不醒", ["medical"], ["120"]),
        ("包工头欠了我们半年工资，再不给我就从楼顶跳楼", ["suicide"], ["110"]),
        ("我实在活不下去了，房子被强拆，准备喝农药一死了之", ["suicide"], ["110"]),
        ("讨薪无果，工友们说要去区政府门口以死相逼", ["suicide"], ["110"]),
        ("楼里着火了，有人被烧伤，现在昏迷不醒", ["fire", "medical"], ["119", "120"]),
        ("他们要去跳楼！不是在威胁，是生活所迫", ["suicide"], ["110"]),
        ("我母亲现在呼吸困难，嘴唇发紫，请派救护车", ["medical"], ["120"]),
        ("老人摔倒后没有呼吸了", ["medical"], ["120"]),
        ("工地门口一伙人正在围攻保安，已经有人被打伤", ["violence"], ["110"]),
    ],
)
def test_it_flags_emergencies(text: str, kinds: list[str], numbers: list[str]) -> None:
    found = detect(text)
    assert [e.kind for e in found] == kinds
    assert numbers_for(found) == numbers


@pytest.mark.parametrize(
    "text",
    [
        "小区楼下车辆乱停，堵住了消防通道，存在火灾隐患，物业不管",
        "建议在小区增加灭火器等消防设施，预防火灾",
        "夜间施工噪音扰民，严重影响休息",
        "农民工工资被拖欠半年，请求帮助追讨",
        "咨询医保报销比例和异地就医备案的办理流程",
        "楼道里堆满杂物，万一起火后果不堪设想，我们不是说已经着火了，是担心",
        "请政府一定要救救我们老百姓",
        "本人因车祸住院，出院后右腿残疾，生活困难申请救助",
        "只有人身触电后才会跳闸，不符合国家标准",
        "我不是要自杀，只是想讨个说法",
        "保安正在调查，没有打人",
        "",
    ],
)
def test_it_leaves_ordinary_petitions_alone(text: str) -> None:
    assert detect(text) == []


TEDDY = Path("/work/shared/data/teddy2020/full/附件3.xlsx")


@pytest.mark.data
@pytest.mark.skipif(not TEDDY.exists(), reason="the teddy2020 data is not present")
def test_few_real_online_messages_are_flagged() -> None:
    """On 4,326 real messages of an online petition board (none an emergency call), a handful are flagged:
    a fire in progress, a threat of suicide, a person in a coma. Far more would drown the real alarms."""
    from openpyxl import load_workbook

    book = load_workbook(TEDDY, read_only=True)
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = next(rows)
    texts = [f"{r[header.index('留言主题')]}\n{r[header.index('留言详情')]}" for r in rows]
    book.close()
    flagged = [t for t in texts if detect(t)]
    assert len(texts) == 4326
    assert 1 <= len(flagged) <= 15
