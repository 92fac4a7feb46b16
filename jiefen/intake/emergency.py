"""Spotting petitions that need the police, the fire brigade or an ambulance now (110 / 119 / 120).

Plain Python, no Django: a handful of patterns over the text. It errs towards flagging: a false alarm costs a
clerk a glance, a missed one may cost a life. Negations that plainly defuse a pattern ("不是着火") are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

POLICE, FIRE, MEDICAL, SUICIDE = "violence", "fire", "medical", "suicide"

# kind → the number to call
NUMBERS: dict[str, str] = {POLICE: "110", FIRE: "119", MEDICAL: "120", SUICIDE: "110"}

_PATTERNS: dict[str, list[str]] = {
    POLICE: [
        r"(正在|现在|此刻|还在|一直在)[^。！!？?\n]{0,8}(打人|殴打|砍人|持刀|行凶|打架|斗殴|抢劫|绑架|砸)",
        r"(持刀|拿刀|举刀|拿着刀|持械)[^。！!？?\n]{0,6}(砍|捅|威胁|追|伤人|闯)",
        r"(有人|他|他们)[^。！!？?\n]{0,6}(要杀|杀了我|要砍死|扬言杀|威胁杀)",
        r"(家暴|家庭暴力)[^。！!？?\n]{0,10}(正在|现在|还在|打我|被打)",
        r"(被打|被砍|被捅)[^。！!？?\n]{0,6}(救命|快来|流血)",
        r"救命",
    ],
    FIRE: [
        r"(着火|起火|失火|火灾|冒烟起火|烧起来|燃起来|大火)",
        r"(煤气|燃气|天然气)[^。！!？?\n]{0,6}(泄漏|泄露|爆炸|漏气)",
        r"爆炸",
    ],
    MEDICAL: [
        r"(昏迷|晕倒|晕过去|不省人事|没有呼吸|没呼吸|心脏骤停|抽搐不止|大出血|口吐白沫)",
        r"(受伤|伤者|病人|老人)[^。！!？?\n]{0,8}(急需|需要)[^。！!？?\n]{0,4}(救治|抢救|急救)",
        r"(中毒|溺水|触电)",
    ],
    SUICIDE: [
        r"(跳楼|跳河|跳桥|喝农药|服毒|割腕|上吊|自杀|自尽|轻生|寻死|不想活|活不下去|一死了之|以死相逼)",
        r"(死给你们看|去死|死在)[^。！!？?\n]{0,8}(门口|楼下|政府|你们)?",
    ],
}
_COMPILED = {kind: [re.compile(p) for p in patterns] for kind, patterns in _PATTERNS.items()}
# A match right after one of these (within a few characters) is not an emergency: "不是着火", "没有打人".
_NEGATION = re.compile(
    r"(不是|没有|并非|未|不会|防止|预防|以防|避免|消防通道|消防设施|火灾隐患)[^。！!？?\n]{0,3}$"
)
# Words about fire safety in general, not a fire now.
_FIRE_SAFETY = re.compile(r"(消防|火灾隐患|防火|灭火器|安全隐患)")


@dataclass(frozen=True)
class Emergency:
    kind: str
    number: str
    evidence: str


def detect(text: str) -> list[Emergency]:
    """The emergencies ``text`` describes, one per kind, in the order police, fire, medical, suicide."""
    found: list[Emergency] = []
    text = text or ""
    for kind, patterns in _COMPILED.items():
        for pattern in patterns:
            hit = _first_hit(pattern, text, kind)
            if hit:
                found.append(Emergency(kind=kind, number=NUMBERS[kind], evidence=hit))
                break
    return found


def _first_hit(pattern: re.Pattern[str], text: str, kind: str) -> str:
    for match in pattern.finditer(text):
        before = text[max(0, match.start() - 6) : match.start()]
        if _NEGATION.search(before):
            continue
        if (
            kind == FIRE
            and _FIRE_SAFETY.search(text[max(0, match.start() - 4) : match.end() + 2])
            and ("隐患" in text[max(0, match.start() - 4) : match.end() + 4])
        ):
            continue
        return match.group(0)
    return ""


def numbers_for(found: list[Emergency]) -> list[str]:
    """The numbers to show, each once, in the usual order."""
    wanted = {e.number for e in found}
    return [n for n in ("110", "119", "120") if n in wanted]
