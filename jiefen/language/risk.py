"""Risk flags for a petition, each with the words that raised it.

``assess(text, ...)`` returns a ``RiskReport``: the flags ``[(code, level, words)]``, the overall level
(the highest flag) and a suggested urgency. The flags are a triage aid for the clerk, never a decision: each one
shows the words that raised it so a person can judge at a glance.

=============================  ============  ===========================================================
code                           level         raised by
=============================  ============  ===========================================================
``self_harm``                  high          跳楼, 自杀, 喝农药, 不想活了 … (a negation "不是要自杀" still counts:
                                             people say it while meaning it)
``violence``                   high          threats: 报复, 同归于尽, 砍, 弄死, 炸 …
``escalation``                 medium/high   进京/赴京/到北京上访 (high), 集体上访, 越级上访, 找媒体曝光 (medium)
``group``                      medium/high   ≥ 5 people from extraction (≥ 50: high), 集体, 群体, 几十户, 全体业主
``vulnerable``                 low           老人, 残疾, 孕妇, 儿童, 低保, 重病 …
``repeat``                     medium/high   the caller's count of earlier petitions on the same matter (≥ 2 / ≥ 5)
``wage_arrears_festival``      high          wage arrears words within 45 days before to 15 days after
                                             the Spring Festival (case date from the caller), or with 过年/年关
``emergency``                  critical      something that needs 110/119/120 now: violence under way, a fire or
                                             gas leak, a medical emergency, a suicide threat — as judged by
                                             ``language.emergency``, which shows the citizen the numbers
=============================  ============  ===========================================================

False positives are kept down by matching whole expressions, not characters: 火车站 is not a fire, 消防通道
and 火灾隐患 are a safety problem to fix, not a fire; 砍树 is not a threat; 自杀式 in a figure of speech is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from jiefen.language import emergency
from jiefen.language.extract import Entity, extract

LEVELS = ("none", "low", "medium", "high", "critical")
URGENCY = {"none": "normal", "low": "normal", "medium": "priority", "high": "urgent", "critical": "emergency"}

# Lunar New Year's Day (正月初一), from the published calendar.
SPRING_FESTIVAL = {
    2015: dt.date(2015, 2, 19),
    2016: dt.date(2016, 2, 8),
    2017: dt.date(2017, 1, 28),
    2018: dt.date(2018, 2, 16),
    2019: dt.date(2019, 2, 5),
    2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
    2031: dt.date(2031, 1, 23),
    2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31),
    2034: dt.date(2034, 2, 19),
    2035: dt.date(2035, 2, 8),
}
FESTIVAL_BEFORE_DAYS = 45
FESTIVAL_AFTER_DAYS = 15


@dataclass(frozen=True, slots=True)
class Flag:
    code: str
    level: str
    words: tuple[str, ...]

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its arguments: the dataclass's own state methods look up its fields for every flag.
        return Flag, (self.code, self.level, self.words)


@dataclass(frozen=True, slots=True)
class RiskReport:
    flags: list[Flag] = field(default_factory=list)
    level: str = "none"
    urgency: str = "normal"

    def __reduce__(self) -> tuple[Any, ...]:
        return RiskReport, (self.flags, self.level, self.urgency)  # (see ``Flag``)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.flags]

    def flag(self, code: str) -> Flag | None:
        return next((f for f in self.flags if f.code == code), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "level": self.level,
            "urgency": self.urgency,
            "flags": [{"code": f.code, "level": f.level, "words": list(f.words)} for f in self.flags],
        }


def _re(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives))


_SELF_HARM = _re(
    r"跳楼",
    r"跳河",
    r"跳江",
    r"跳桥",
    r"自杀",
    r"自尽",
    r"(?<!减)轻生(?!产)",
    r"寻死",
    r"割腕",
    r"(?<!三)上吊",
    r"喝农药",
    r"喝药自",
    r"服毒",
    r"吞安眠药",
    r"不想活了?",
    r"活不下去了?",
    r"以死明志",
    r"一死了之",
    r"死给你们看",
    r"自焚",
    r"寻短见",
)
_VIOLENCE = _re(
    r"报复",
    r"同归于尽",
    r"砍(?:人|死|伤|杀)",
    r"拿刀",
    r"持刀",
    r"动刀",
    r"杀了(?:他|她|你|他们)",
    r"杀人(?!门)",
    r"弄死",
    r"打死(?:你|他|她|人)",
    r"炸(?:掉|死)",
    r"放火烧",
    r"血债血偿",
    r"(?:跟|和|与)[^，。！]{0,4}拼命",
    r"鱼死网破",
    r"以命相搏",
    r"搞死",
)
_ESCALATION_HIGH = _re(
    r"进京", r"赴京", r"(?:到|去|上)北京(?:去)?(?:上访|告状|反映)", r"上访到北京", r"北京上访"
)
_ESCALATION = _re(
    r"集体上访",
    r"越级上访",
    r"(?:到|去)省(?:里|城|政府)(?:上访|告状)",
    r"(?:找|向)媒体曝光",
    r"网上曝光",
    r"拉横幅",
    r"堵路",
    r"围堵",
    r"静坐",
)
_GROUP = _re(
    r"集体",
    r"群体",
    r"[几数上]十(?:户|人|名|位|家)",
    r"[几数上]百(?:户|人|名|位|家)",
    r"全体(?:业主|村民|居民|员工|职工|工人)",
    r"联名",
    r"众多(?:业主|村民|居民|群众)",
    r"大批",
)
_VULNERABLE = _re(
    r"老人",
    r"老年人",
    r"孤寡",
    r"空巢",
    r"残疾",
    r"残障",
    r"瘫痪",
    r"孕妇",
    r"怀孕",
    r"儿童",
    r"婴儿",
    r"幼儿",
    r"未成年",
    r"低保",
    r"五保",
    r"特困",
    r"重病",
    r"癌症",
    r"绝症",
    r"尿毒症",
    r"白血病",
)
_WAGE = _re(
    r"欠薪",
    r"讨薪",
    r"拖欠(?:[\u4e00-\u9fff]{0,6})(?:工资|工钱|劳务费|薪水)",
    r"(?:工资|工钱)(?:[\u4e00-\u9fff]{0,4})(?:没|未|不)(?:发|给|结|付)",
    r"血汗钱",
    r"农民工工资",
)
_FESTIVAL_WORDS = _re(r"春节", r"过年", r"年关", r"年底", r"回家过年")


def _found(pattern: re.Pattern[str], text: str) -> list[str]:
    return list(dict.fromkeys(m.group() for m in pattern.finditer(text)))


def near_spring_festival(day: dt.date) -> bool:
    """Whether ``day`` falls between 45 days before and 15 days after a Spring Festival."""
    for year in (day.year, day.year + 1):
        festival = SPRING_FESTIVAL.get(year)
        if festival and -FESTIVAL_AFTER_DAYS <= (festival - day).days <= FESTIVAL_BEFORE_DAYS:
            return True
    return False


def assess(
    text: str,
    *,
    case_date: dt.date | None = None,
    previous_count: int = 0,
    entities: list[Entity] | None = None,
) -> RiskReport:
    """Risk flags for one (normalised) text.

    ``case_date``: when the case was received (for the Spring Festival wage-arrears rule).
    ``previous_count``: the number of earlier petitions by this person on the same matter (from the caller).
    ``entities``: the output of ``extract.extract`` on the same text, if the caller already has it.
    """
    flags: list[Flag] = []
    if entities is None:
        entities = extract(text, types=("people",))

    self_harm = _found(_SELF_HARM, text)
    if self_harm:
        flags.append(Flag("self_harm", "high", tuple(self_harm)))
    violence = _found(_VIOLENCE, text)
    if violence:
        flags.append(Flag("violence", "high", tuple(violence)))

    escalation_high = _found(_ESCALATION_HIGH, text)
    escalation = _found(_ESCALATION, text)
    if escalation_high or escalation:
        flags.append(
            Flag("escalation", "high" if escalation_high else "medium", tuple(escalation_high + escalation))
        )

    group_words = _found(_GROUP, text)
    people = [e for e in entities if e.type == "people" and isinstance(e.value, int) and e.value >= 5]
    if people or group_words:
        largest = max((int(e.value) for e in people), default=0)
        level = "high" if largest >= 50 else "medium"
        flags.append(Flag("group", level, tuple(group_words + [e.text for e in people])))

    vulnerable = _found(_VULNERABLE, text)
    if vulnerable:
        flags.append(Flag("vulnerable", "low", tuple(vulnerable)))

    wage = _found(_WAGE, text)
    if wage:
        festival_words = _found(_FESTIVAL_WORDS, text)
        if (case_date is not None and near_spring_festival(case_date)) or festival_words:
            flags.append(Flag("wage_arrears_festival", "high", tuple(wage + festival_words)))

    # (the detector that shows the citizen 110/119/120 at the door: one judgement, seen by both)
    emergencies = emergency.detect(text)
    if emergencies:
        flags.append(Flag("emergency", "critical", tuple(dict.fromkeys(e.evidence for e in emergencies))))

    return with_repeats(_report(flags), previous_count)


def _report(flags: list[Flag]) -> RiskReport:
    level = max((f.level for f in flags), key=LEVELS.index, default="none")
    return RiskReport(flags=flags, level=level, urgency=URGENCY[level])


# The flags shown after the repeat flag, in their order (the others come before it).
_AFTER_REPEAT = ("wage_arrears_festival", "emergency")


def with_repeats(report: RiskReport, previous_count: int) -> RiskReport:
    """``report`` with the repeat flag for ``previous_count`` earlier petitions, without reading the text
    again: how ``assess`` adds it, and how the import adds it to a report read in its second process."""
    repeat = _repeat_flag(previous_count)
    if repeat is None:
        return report
    flags = [f for f in report.flags if f.code != "repeat"]
    at = next((i for i, f in enumerate(flags) if f.code in _AFTER_REPEAT), len(flags))
    return _report([*flags[:at], repeat, *flags[at:]])


def _repeat_flag(previous_count: int) -> Flag | None:
    if previous_count < 2:
        return None
    return Flag("repeat", "high" if previous_count >= 5 else "medium", (f"{previous_count}次",))
