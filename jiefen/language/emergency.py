"""Spotting petitions that need the police, the fire brigade or an ambulance now (110 / 119 / 120).

Plain Python, no Django: a handful of patterns over the text. It errs towards flagging: a false alarm costs a
clerk a glance, a missed one may cost a life. Negations that plainly defuse a pattern ("不是着火", "我不是要自杀")
are skipped. The risk flags (``language.risk``) take their emergency flag from here: the citizen shown the
numbers and the clerk shown the flag see one judgement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jiefen.language.patterns import GatedPattern

POLICE, FIRE, MEDICAL, SUICIDE = "violence", "fire", "medical", "suicide"

# kind → the number to call
NUMBERS: dict[str, str] = {POLICE: "110", FIRE: "119", MEDICAL: "120", SUICIDE: "110"}

# Each pattern wants a sign that the thing is happening now ("正在", "着火了", "昏迷不醒") or a threat in the
# first person: petitions often mention a past fire or a hazard ("存在火灾隐患"), which is not an emergency.
_NOW = r"(正在|现在|此刻|还在|一直在|刚才|刚刚|突然)"
_S = r"[^。！!？?\n]"
# Each pattern with the characters one of which every match of it contains: a text with none is not scanned
# (``language.patterns.GatedPattern``).
_PATTERNS: dict[str, list[tuple[str, str]]] = {
    POLICE: [
        (
            _NOW
            + _S
            + r"{0,8}(打人|殴打|砍人|持刀|行凶|打架|斗殴|抢劫|绑架|砸门|打我|打孩子|打起来|围攻|被打伤|被砍伤|被捅伤)",
            "打殴砍持行斗抢绑砸围捅",
        ),
        (r"(持刀|拿刀|举刀|拿着刀|持械)" + _S + r"{0,6}(砍|捅|威胁|追|伤人|闯|砸)", "刀械"),
        (r"扬言要?(杀|砍|捅|弄死|炸)", "扬"),
        (r"(救命[！!啊]|救救我(?!们))", "救"),
    ],
    FIRE: [
        (r"(着火了|起火了|失火了|烧起来了|燃起来了|冒烟了)", "火烧燃烟"),
        (_NOW + _S + r"{0,6}(着火|起火|失火|燃烧|冒烟|爆炸|火势蔓延)", "火燃烟炸"),
        (r"(煤气|燃气|天然气)" + _S + r"{0,4}(泄漏|泄露|漏气)" + _S + r"{0,8}(味道|很重|赶紧|快|马上)", "气"),
    ],
    MEDICAL: [
        (r"(昏迷不醒|叫不醒|没有呼吸了|没呼吸了|心脏骤停|抽搐不止|口吐白沫|大出血|流血不止)", "醒吸停搐沫血"),
        (
            _NOW
            + _S
            + r"{0,6}(昏迷|晕倒|晕过去|不省人事|倒地|呼吸困难|心脏病发作|心脏病犯了|抽搐|生命垂危|奄奄一息|急需抢救)",
            "昏晕省倒吸心搐危息救",
        ),
        (r"(触电|中毒|溺水|落水)了", "电毒水"),
        (_NOW + _S + r"{0,6}(触电|中毒|溺水|落水)", "电毒水"),
    ],
    SUICIDE: [
        (
            r"(我|我们|他|她|工友们?|家属)"
            + _S
            + r"{0,10}(要|就|准备|想|打算|去)"
            + _S
            + r"{0,6}(跳楼|跳河|跳桥|喝农药|服毒|割腕|上吊|自杀|自尽|轻生|寻死)",
            "跳药毒腕吊杀尽生死",
        ),
        (r"(不想活了|活不下去了|以死相逼|死给你们看|一死了之)", "活死"),
    ],
}
_COMPILED = {
    kind: [GatedPattern(pattern, needles) for pattern, needles in patterns]
    for kind, patterns in _PATTERNS.items()
}
# A match right after one of these (within a few characters) is not an emergency: "不是着火", "没有打人"; what
# might happen ("万一起火", "担心发生火灾") is a hazard to report, not an emergency under way.
_NEGATION = re.compile(
    r"(不是|没有|并非|未|不会|防止|预防|以防|避免|消防通道|消防设施|火灾隐患|万一|如果|一旦|假如|担心|害怕|怕)"
    r"[^。！!？?\n]{0,3}$"
)
# A negation between the subject or the sign of "now" and the act: "我不是要自杀", "正在调查，没有打人".
_NEGATED_INSIDE = re.compile(r"不是|没有|并非|不会|不想|不打算|不准备")


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


def _first_hit(pattern: GatedPattern, text: str, kind: str) -> str:
    for match in pattern.finditer(text):
        before = text[max(0, match.start() - 6) : match.start()]
        # (inside: before the act, the pattern's last group — "没有呼吸了" is itself the act)
        lead = text[match.start() : match.start(match.lastindex or 0)]
        if _NEGATION.search(before) or _NEGATED_INSIDE.search(lead):
            continue
        return match.group(0)
    return ""


def numbers_for(found: list[Emergency]) -> list[str]:
    """The numbers to show, each once, in the usual order."""
    wanted = {e.number for e in found}
    return [n for n in ("110", "119", "120") if n in wanted]
