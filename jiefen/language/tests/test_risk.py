from __future__ import annotations

import datetime as dt

from jiefen.language.risk import Flag, assess, near_spring_festival, with_repeats

from .conftest import message


def flags(text: str, **kwargs: object) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(f.code, f.level, f.words) for f in assess(text, **kwargs).flags]  # type: ignore[arg-type]


def test_a_plain_complaint_has_no_flags() -> None:
    report = assess("小区门口的路灯坏了一个月，晚上出行不便，请尽快维修。")
    assert (report.flags, report.level, report.urgency) == ([], "none", "normal")


def test_self_harm_is_flagged_even_when_negated() -> None:
    assert flags("我不是要自杀，只是想讨个说法") == [("self_harm", "high", ("自杀",))]


def test_an_immediate_suicide_threat_is_an_emergency() -> None:
    report = assess("我现在就站在楼顶，再不解决我就跳楼")
    assert report.codes == ["self_harm", "emergency"]
    assert report.flag("emergency").words == ("我就跳楼",)  # type: ignore[union-attr]
    assert (report.level, report.urgency) == ("critical", "emergency")


def test_the_emergency_flag_is_the_intake_detectors_judgement() -> None:
    """One judgement: the flag the clerk sees is raised exactly where the citizen is shown 110/119/120."""
    from jiefen.language.emergency import detect

    for text in (
        "我母亲现在呼吸困难",
        "楼里着火了，有人被烧伤，现在昏迷不醒",
        "我不是要自杀",
        "小区存在火灾隐患",
    ):
        flag = assess(text).flag("emergency")
        assert (flag.words if flag else ()) == tuple(e.evidence for e in detect(text))
    assert assess("楼里着火了，有人被烧伤，现在昏迷不醒").flag("emergency") == Flag(
        "emergency", "critical", ("着火了", "昏迷不醒")
    )


def test_fire_words_are_not_fooled_by_station_or_fire_lanes() -> None:
    assert flags("火车站广场的消防通道被占用，存在火灾隐患") == []
    assert flags("小区一旦发生火灾后果不堪设想") == []
    assert flags("快来人！3栋着火了，浓烟很大") == [("emergency", "critical", ("着火了",))]


def test_violence_in_progress_is_an_emergency_and_a_threat_is_high() -> None:
    assert flags("他们正在殴打我父亲，快报警") == [("emergency", "critical", ("正在殴打我",))]
    assert flags("再不赔钱我就跟他们同归于尽") == [("violence", "high", ("同归于尽",))]
    assert flags("物业砍树不打招呼") == []


def test_escalation_and_group_size() -> None:
    assert flags("30多名工人准备集体上访，不行就进京") == [
        ("escalation", "high", ("进京", "集体上访")),
        ("group", "medium", ("集体", "30多名工人")),
    ]
    assert flags("我们三个人去问过") == []


def test_vulnerable_people_and_repeats() -> None:
    assert flags("家里有残疾老人", previous_count=5) == [
        ("vulnerable", "low", ("残疾", "老人")),
        ("repeat", "high", ("5次",)),
    ]
    assert flags("家里有残疾老人", previous_count=1) == [("vulnerable", "low", ("残疾", "老人"))]


def test_the_repeat_flag_comes_after_the_others_and_before_wages_and_emergencies() -> None:
    """The import adds a person's earlier petitions to a report read elsewhere (``with_repeats``): the flag
    goes in the same place, and a count already there is replaced."""
    text = "包工头拖欠我们工资两个月了，家里有残疾老人，我现在就站在楼顶，再不解决我就跳楼"
    day = dt.date(2020, 1, 5)
    report = assess(text, case_date=day, previous_count=5)
    assert report.codes == ["self_harm", "vulnerable", "repeat", "wage_arrears_festival", "emergency"]
    assert report.flag("repeat") == Flag("repeat", "high", ("5次",))
    assert with_repeats(assess(text, case_date=day), 5) == report
    assert with_repeats(report, 2).flag("repeat") == Flag("repeat", "medium", ("2次",))
    assert with_repeats(report, 2).codes == report.codes
    assert assess("家里有残疾老人", previous_count=2).codes == ["vulnerable", "repeat"]
    assert with_repeats(assess("小区门口的路灯坏了一个月"), 1).flags == []


def test_wage_arrears_near_spring_festival() -> None:
    text = "包工头拖欠我们工资两个月了"
    assert flags(text, case_date=dt.date(2020, 1, 5)) == [
        ("wage_arrears_festival", "high", ("拖欠我们工资",))
    ]
    assert flags(text, case_date=dt.date(2020, 7, 5)) == []
    assert near_spring_festival(dt.date(2019, 12, 12)) and not near_spring_festival(dt.date(2019, 11, 1))


def test_real_message_with_threats_from_property_staff() -> None:
    report = assess(message("238830"))
    assert [(f.code, f.level, f.words) for f in report.flags] == [
        ("violence", "high", ("搞死", "打死你")),
        ("group", "medium", ("全体业主",)),
    ]
    assert report.urgency == "urgent"


def test_real_message_with_vulnerable_residents() -> None:
    assert flags(message("275468")) == [("vulnerable", "low", ("老人", "残疾"))]


def test_real_safety_complaint_about_fire_risk_is_no_emergency() -> None:
    report = assess(message("191440"))
    assert "emergency" not in report.codes
