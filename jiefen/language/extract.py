"""Information extraction from petition text, with character spans and types.

``extract(text)`` returns ``Entity`` records sorted by position. Offsets index the text *as passed*; callers
that normalise first (recommended: ``text.normalize``) must store the normalised text with the offsets.

Types and their ``value``:

=============  ==================================================  =========================================
type           matches                                             value
=============  ==================================================  =========================================
district       A3区, 西湖区, D12市, A7县 (市 only for letter codes)  the matched name
street         桂花坪街道, 洋湖街道, 泉塘镇, 黄花乡                    the matched name
community      云塘社区, 新开村                                     the matched name
compound       魅力之城小区, 景蓉华苑, 上海花园, 高升家园              the matched name
building       G2栋, 13栋, 3号楼, 二幢                             "G2", "13", "3", "2"
unit           2单元                                              "2"
room           320 (after a building/unit), 1502室                "320"
property       美顺物业, A市程明物业管理有限公司                       the matched name
company        西湖建筑集团, 某某有限公司                              the matched name
school         A市经济学院, C1区云塘学校, 红星二小                     the matched name
hospital       E7县人民医院, 某镇卫生院                               the matched name
phone          13812345678, 0731-84567890, 84567890 after 电话     digits only, e.g. "073184567890"
id_number      18-digit resident ID with a valid checksum          upper-cased number
money          3000元, 1.5万元, 三万元, 8万多元                      ``float`` yuan (approximate: 多/余)
people         30多名工人, 几十人, 5户                               ``int`` lower bound; ``approx`` in extra
date           2019年5月, 5月3日, 2019-05-03, 去年                  ISO-like "2019-05", "--05-03", "2018"
=============  ==================================================  =========================================

Names are found by their suffix (小区, 街道, 学院 …) and a backward walk over the characters before it
that stops at words that cannot be part of a name (的, 在, 我们, punctuation, a road or a higher place
level). This is a heuristic: an office improves it by passing its own gazetteer (``known_places``), which is
matched first and exactly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jiefen.language.patterns import GatedPattern

# ---------------------------------------------------------------------------------------------- numerals

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000}
CN_NUM_CHARS = "".join(_CN_DIGITS) + "".join(_CN_UNITS) + "".join(_CN_BIG)


def cn_to_number(text: str) -> float:
    """Chinese or mixed numerals → number: "三万" 30000, "一千二百五十" 1250, "十五" 15, "2.5万" 25000,
    "二〇一九" 2019 (digit by digit when there is no unit character). Raises ``ValueError`` if not a number.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty numeral")
    try:
        return float(text.replace(",", ""))
    except ValueError:
        pass
    if all(c in _CN_DIGITS for c in text):
        return float("".join(str(_CN_DIGITS[c]) for c in text))
    total = 0.0
    section = 0.0
    number = 0.0
    i = 0
    while i < len(text):
        char = text[i]
        arabic = re.match(r"\d+(?:\.\d+)?", text[i:])
        if arabic:
            number = float(arabic.group())
            i += arabic.end()
            continue
        if char in _CN_DIGITS:
            number = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            section += (number or 1) * _CN_UNITS[char]
            number = 0
        elif char in _CN_BIG:
            total = (total + section + number) * _CN_BIG[char] if char == "亿" else total
            if char != "亿":
                total += (section + number) * _CN_BIG[char]
            section = number = 0
        else:
            raise ValueError(f"not a numeral: {text!r}")
        i += 1
    return total + section + number


# ---------------------------------------------------------------------------------------------- entities


@dataclass(frozen=True, slots=True)
class Entity:
    type: str
    text: str
    start: int
    end: int
    value: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "value": self.value,
            **({"extra": self.extra} if self.extra else {}),
        }


PLACE_TYPES = ("district", "street", "community", "compound", "building", "unit", "room")
ORG_TYPES = ("property", "company", "school", "hospital")

_NUM = rf"(?:\d+(?:\.\d+)?|[{CN_NUM_CHARS}]+)"

# Characters that end a backward walk for a name: function words, pronouns, verbs of location, punctuation.
_STOP_CHARS = set(
    "的了在于是和与及或对把被从向给为我你他她它们这那该本此其每各也都就还又很太最更已将要会能让使由以因所而但"
    "却如若到至往朝沿住近旁边里内外个些等请问说称据反映投诉举报咨询希望关年月日且班"
) | set(" \t\n，。、；：？！（）()[]【】《》“”‘’\"',.;:?!·-—/")
_PLACE_LEVEL_END = re.compile(r"(?:[区县市省镇乡村]|街道|社区|路|街|大道|巷|号)$")


# Endings of what stands before 小区/公寓/物业 when it is not a name ("进入小区", "不交物业").
_NOT_NAME_END = (
    "进入",
    "保证",
    "整个",
    "非",
    "变",
    "回",
    "出",
    "各",
    "全",
    "住",
    "入",
    "进",
    "近",
    "周边",
    "附近",
    "别的",
    "其他",
    "其它",
    "个",
    "交",
    "找",
    "协调",
    "没有",
    "不",
    "次",
    "后",
    "建设",
    "商业",
    "业主",
)


def _walk_back(
    text: str, end: int, *, max_len: int, stop_at_place: bool, min_len: int = 2, stop_digits: bool = False
) -> int | None:
    """Start index of the name that ends at ``end`` (exclusive), or None when fewer than ``min_len`` chars
    or when the words before the suffix read as a verb phrase, not a name."""
    if text[:end].endswith(_NOT_NAME_END):
        return None
    start = end
    while start > 0 and end - start < max_len:
        char = text[start - 1]
        if char in _STOP_CHARS or (stop_digits and char.isdigit()):
            break
        if stop_at_place and start < end and _PLACE_LEVEL_END.search(text[max(0, start - 3) : start]):
            break
        start -= 1
    return start if end - start >= min_len else None


_DISTRICT_RE = re.compile(r"(?<![A-Za-z0-9])([A-Z]\d{1,2}[区县市]|[A-Z]市)")
_CJK_DISTRICT_RE = re.compile(r"([\u4e00-\u9fff]{2,4}?)(区|县)(?![长委政级域别块间内外域])")
_NOT_DISTRICT_PREFIX = (
    "小",
    "城",
    "社",
    "园",
    "校",
    "景",
    "宿舍",
    "住宅",
    "生活",
    "商业",
    "开发",
    "老城",
    "市",
    "地",
    "辖",
    "山",
    "风景",
    "保护",
    "学",
    "片",
    "试验",
    "示范",
    "工业",
    "经济",
    "新",
)
_STREET_RE = GatedPattern(r"街道|(?<![城乡村市])镇(?![政长委])|(?<![城下农])乡(?![镇村下亲])", "街镇乡")
_COMMUNITY_RE = GatedPattern(r"社区(?![工医卫服])|(?<![农乡山渔])村(?![民委里级组干])", "社村")
_COMPOUND_RE = re.compile(r"小区|花园|家园|新村|山庄|公寓|华府|华庭|名苑|雅苑|华苑|嘉园|公馆|(?<![a-zA-Z])苑")
_BUILDING_RE = GatedPattern(
    rf"(?<![A-Za-z0-9])([A-Za-z]?\d+|[A-Za-z]|[{CN_NUM_CHARS}]+)(栋|幢|号楼|座)", "栋幢楼座"
)
_UNIT_RE = GatedPattern(rf"(\d+|[{CN_NUM_CHARS}]+)单元", "单")
_ROOM_RE = re.compile(r"(\d{3,4})(?:室|房|号房)?(?!\d|[元万米平年月日号%])")
_ROOM_EXPLICIT_RE = GatedPattern(r"(?<!\d)(\d{3,4})(室|号房)", "室房")

_PROPERTY_RE = re.compile(r"物业(?:管理|服务)?(?:有限责任公司|股份有限公司|有限公司|分公司|公司)?")
_COMPANY_RE = re.compile(r"(?:有限责任公司|股份有限公司|有限公司|分公司|公司|集团)")
_SCHOOL_RE = re.compile(
    r"(?:职业技术学院|大学|学院|中学|小学|学校|幼儿园|[一二三四五六七八九十]小|[一二三四五六七八九十]中)"
)
_HOSPITAL_RE = re.compile(r"(?:医院|卫生院|卫生服务中心|诊所)")
_ORG_SKIP_PREFIX = ("物业", "小区", "该", "本", "此", "贵", "哪", "什么", "这", "所", "多", "新", "原")

_MOBILE_RE = re.compile(r"(?<![\d])(?:\+?86[- ]?)?(1[3-9]\d[- ]?\d{4}[- ]?\d{4})(?!\d)")
_LANDLINE_RE = re.compile(r"(?<![\d-])(0\d{2,3})[- ]?(\d{7,8})(?![\d-])")
_LOCAL_PHONE_RE = re.compile(r"(?:电话|手机|联系方式|热线|座机|号码)[^\d]{0,6}(?<!\d)([2-9]\d{6,7})(?!\d)")
_ID_RE = re.compile(r"(?<![\dA-Za-z])(\d{17}[\dXx])(?![\dA-Za-z])")

_MONEY_RE = GatedPattern(
    rf"({_NUM}(?:[{CN_NUM_CHARS}]|\d)*)(多|余|来)?(亿元|万元|千元|百元|万块|元钱|元|块钱|亿|万)(?![\u4e00-\u9fff]*?人)",
    "亿万元块",
)
_MONEY_UNIT = {
    "亿元": 1e8,
    "亿": 1e8,
    "万元": 1e4,
    "万块": 1e4,
    "万": 1e4,
    "千元": 1e3,
    "百元": 100.0,
    "元": 1.0,
    "元钱": 1.0,
    "块钱": 1.0,
}
_PEOPLE_RE = re.compile(
    rf"(几|数|上|近)?({_NUM}|几)(多|余|来|几)?(名|个|位|户|人)"
    r"(?:(?:[\u4e00-\u9fff]{0,3}?)(人|工人|农民工|村民|居民|业主|家长|学生|老人|员工|职工|群众|住户|商户|户))?"
)
_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"), "ymd"),
    (
        re.compile(
            rf"(?<![\d{CN_NUM_CHARS}])(\d{{4}}|[零〇○一二三四五六七八九]{{4}})年(\d{{1,2}}|[{CN_NUM_CHARS}]{{1,3}})月"
            rf"(?:(\d{{1,2}}|[{CN_NUM_CHARS}]{{1,3}})[日号])?"
        ),
        "ymd",
    ),
    (re.compile(r"(?<![\d年])(\d{4})年(?![\d月])"), "y"),
    (
        re.compile(
            rf"(?<![\d年{CN_NUM_CHARS}])(\d{{1,2}}|[一二三四五六七八九十]{{1,3}})月(\d{{1,2}}|[{CN_NUM_CHARS}]{{1,3}})[日号]"
        ),
        "md",
    ),
]
_RELATIVE_DATES = {
    "前年": ("year", -2),
    "去年": ("year", -1),
    "今年": ("year", 0),
    "明年": ("year", 1),
    "上个月": ("month", -1),
    "上月": ("month", -1),
    "本月": ("month", 0),
    "这个月": ("month", 0),
    "前天": ("day", -2),
    "昨天": ("day", -1),
    "今天": ("day", 0),
    "明天": ("day", 1),
}
_RELATIVE_RE = re.compile("|".join(sorted(_RELATIVE_DATES, key=len, reverse=True)))


def valid_id_number(number: str) -> bool:
    """GB 11643-1999 check: 17 digits, a valid birth date, and the ISO 7064 MOD 11-2 check character."""
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], weights, strict=True)) % 11]
    if number[17].upper() != check:
        return False
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= birth <= dt.date.today()


def _num(text: str) -> float | None:
    try:
        return cn_to_number(text)
    except ValueError:
        return None


class Extractor:
    """Configured extractor. ``known_places`` (name → type) are matched first, exactly, e.g. the office's
    streets and communities from its unit tree; ``today`` resolves relative dates (去年) — pass the case's
    receipt date, not the wall clock, when re-processing old cases."""

    def __init__(self, known_places: dict[str, str] | None = None):
        self.known_places = dict(known_places or {})
        names = sorted(self.known_places, key=len, reverse=True)
        self._known_re = re.compile("|".join(map(re.escape, names))) if names else None

    # -- places --------------------------------------------------------------------------------------
    def _places(self, text: str) -> list[Entity]:
        found: list[Entity] = []
        if self._known_re:
            for m in self._known_re.finditer(text):
                found.append(Entity(self.known_places[m.group()], m.group(), m.start(), m.end(), m.group()))
        for m in _DISTRICT_RE.finditer(text):
            found.append(Entity("district", m.group(), m.start(), m.end(), m.group()))
        for m in _CJK_DISTRICT_RE.finditer(text):
            start = _walk_back(text, m.start(2), max_len=4, stop_at_place=True)
            if start is None:
                continue
            name = text[start : m.end()]
            if (
                name[:-1].endswith(_NOT_DISTRICT_PREFIX)
                or any(c in name for c in "小社园校楼厂")
                or len(name) > 4
            ):
                continue
            found.append(Entity("district", name, start, m.end(), name))
        for etype, pattern, max_len in (
            ("street", _STREET_RE, 5),
            ("community", _COMMUNITY_RE, 5),
            ("compound", _COMPOUND_RE, 6),
        ):
            for m in pattern.finditer(text):
                start = _walk_back(
                    text, m.start(), max_len=max_len, stop_at_place=True, min_len=2, stop_digits=True
                )
                if start is None:
                    continue
                name = text[start : m.end()]
                if etype == "community" and name.endswith("村") and len(name) < 3:
                    continue
                found.append(Entity(etype, name, start, m.end(), name))
        last_end = -10
        for m in _BUILDING_RE.finditer(text):
            value = m.group(1)
            number = _num(value) if not value[0].isalpha() else None
            found.append(
                Entity(
                    "building", m.group(), m.start(), m.end(), value if number is None else str(int(number))
                )
            )
            last_end = m.end()
            unit = _UNIT_RE.match(text, m.end())
            if unit:
                unit_value = _num(unit.group(1))
                found.append(
                    Entity(
                        "unit",
                        unit.group(),
                        unit.start(),
                        unit.end(),
                        str(int(unit_value)) if unit_value is not None else unit.group(1),
                    )
                )
                last_end = unit.end()
            room = _ROOM_RE.match(text, last_end)
            if room:
                found.append(Entity("room", room.group(), room.start(), room.end(), room.group(1)))
        taken = {(e.start, e.end) for e in found if e.type == "room"}
        for m in _ROOM_EXPLICIT_RE.finditer(text):
            if not any(s <= m.start() < e for s, e in taken):
                found.append(Entity("room", m.group(), m.start(), m.end(), m.group(1)))
        standalone_units = {e.start for e in found if e.type == "unit"}
        for m in _UNIT_RE.finditer(text):
            if m.start() not in standalone_units:
                value = _num(m.group(1))
                found.append(
                    Entity(
                        "unit",
                        m.group(),
                        m.start(),
                        m.end(),
                        str(int(value)) if value is not None else m.group(1),
                    )
                )
        return found

    # -- organisations -------------------------------------------------------------------------------
    def _orgs(self, text: str) -> list[Entity]:
        found: list[Entity] = []
        property_spans: list[tuple[int, int]] = []
        for m in _PROPERTY_RE.finditer(text):
            start = _walk_back(text, m.start(), max_len=10, stop_at_place=False, min_len=2)
            if start is None:
                continue
            name = text[start : m.end()]
            if name.startswith(_ORG_SKIP_PREFIX):
                continue
            property_spans.append((start, m.end()))
            found.append(Entity("property", name, start, m.end(), name))
        for etype, pattern in (("company", _COMPANY_RE), ("school", _SCHOOL_RE), ("hospital", _HOSPITAL_RE)):
            for m in pattern.finditer(text):
                if any(s <= m.start() < e for s, e in property_spans):
                    continue
                start = _walk_back(text, m.start(), max_len=12, stop_at_place=False, min_len=2)
                if start is None:
                    continue
                name = text[start : m.end()]
                if name.startswith(_ORG_SKIP_PREFIX):
                    continue
                found.append(Entity(etype, name, start, m.end(), name))
        return found

    # -- contacts --------------------------------------------------------------------------------------
    @staticmethod
    def _contacts(text: str) -> list[Entity]:
        found: list[Entity] = []
        for m in _ID_RE.finditer(text):
            if valid_id_number(m.group(1)):
                found.append(Entity("id_number", m.group(1), m.start(1), m.end(1), m.group(1).upper()))
        ids = [(e.start, e.end) for e in found]
        for m in _MOBILE_RE.finditer(text):
            if not any(s <= m.start() < e for s, e in ids):
                found.append(
                    Entity(
                        "phone",
                        m.group(),
                        m.start(),
                        m.end(),
                        re.sub(r"\D", "", m.group(1)),
                        {"kind": "mobile"},
                    )
                )
        for m in _LANDLINE_RE.finditer(text):
            if not any(s <= m.start() < e for s, e in ids) and text[m.start() : m.start() + 2] != "00":
                found.append(
                    Entity(
                        "phone", m.group(), m.start(), m.end(), m.group(1) + m.group(2), {"kind": "landline"}
                    )
                )
        taken = [(e.start, e.end) for e in found]
        for m in _LOCAL_PHONE_RE.finditer(text):
            if not any(s <= m.start(1) < e for s, e in taken):
                found.append(
                    Entity("phone", m.group(1), m.start(1), m.end(1), m.group(1), {"kind": "landline"})
                )
        return found

    # -- quantities --------------------------------------------------------------------------------------
    @staticmethod
    def _quantities(text: str, taken: list[tuple[int, int]]) -> list[Entity]:
        found: list[Entity] = []
        for m in _MONEY_RE.finditer(text):
            if any(s <= m.start() < e for s, e in taken):
                continue
            unit = m.group(3)
            # "万"/"亿" alone are money only before 元-less contexts like 补偿3万; require a money word nearby.
            if unit in {"万", "亿"} and not re.search(
                r"[钱款费资金价赔补偿欠借贷]", text[max(0, m.start() - 8) : m.end() + 2]
            ):
                continue
            number = _num(m.group(1))
            if number is None:
                continue
            value = number * _MONEY_UNIT[unit]
            extra = {"approx": True} if m.group(2) else {}
            found.append(Entity("money", m.group(), m.start(), m.end(), round(value, 2), extra))
        money_spans = [(e.start, e.end) for e in found]
        for m in _PEOPLE_RE.finditer(text):
            if any(s <= m.start() < e for s, e in [*taken, *money_spans]):
                continue
            measure, noun = m.group(4), m.group(5)
            if measure == "个" and not noun:
                continue
            if measure == "人" and text[m.end() : m.end() + 1] in {"次", "民", "员", "士", "大", "口"}:
                continue
            if measure == "名" and not noun:
                continue
            prefix, number_text, suffix = m.group(1), m.group(2), m.group(3)
            approx = bool(prefix or suffix or number_text == "几")
            if number_text == "几":
                value = 2
            elif number_text.startswith("几"):
                value = int(_num("二" + number_text[1:]) or 0)  # 几十 → at least 20
            else:
                number = _num(number_text)
                if number is None or number != int(number):
                    continue
                value = int(number)
            if prefix in {"几", "数"} and value in (10, 100, 1000):
                value *= 2
            if value <= 0:
                continue
            found.append(
                Entity(
                    "people",
                    m.group(),
                    m.start(),
                    m.end(),
                    value,
                    {"approx": approx, "unit": "户" if measure == "户" or noun == "户" else "人"},
                )
            )
        return found

    @staticmethod
    def _dates(text: str, today: dt.date | None) -> list[Entity]:
        found: list[Entity] = []
        spans: list[tuple[int, int]] = []
        for pattern, kind in _DATE_PATTERNS:
            for m in pattern.finditer(text):
                if any(s <= m.start() < e for s, e in spans):
                    continue
                parts = [_num(g) if g else None for g in m.groups()]
                if kind == "ymd":
                    year, month, day = (int(p) if p is not None else None for p in parts)
                    if year is None or not 1900 <= year <= 2100 or month is None or not 1 <= month <= 12:
                        continue
                    if day is not None and not 1 <= day <= 31:
                        continue
                    value = f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day else "")
                elif kind == "y":
                    year = int(parts[0] or 0)
                    if not 1950 <= year <= 2100:
                        continue
                    value = f"{year:04d}"
                else:
                    month, day = (int(p) if p is not None else 0 for p in parts)
                    if not (1 <= month <= 12 and 1 <= day <= 31):
                        continue
                    value = f"--{month:02d}-{day:02d}"
                spans.append((m.start(), m.end()))
                found.append(Entity("date", m.group(), m.start(), m.end(), value))
        for m in _RELATIVE_RE.finditer(text):
            unit, offset = _RELATIVE_DATES[m.group()]
            relative: str | None = None
            if today is not None:
                if unit == "year":
                    relative = f"{today.year + offset:04d}"
                elif unit == "month":
                    month_index = today.year * 12 + today.month - 1 + offset
                    relative = f"{month_index // 12:04d}-{month_index % 12 + 1:02d}"
                else:
                    relative = (today + dt.timedelta(days=offset)).isoformat()
            found.append(Entity("date", m.group(), m.start(), m.end(), relative, {"relative": True}))
        return found

    def extract(
        self, text: str, *, today: dt.date | None = None, types: Iterable[str] | None = None
    ) -> list[Entity]:
        """All entities in ``text`` sorted by start; ``types`` limits the output to the named types."""
        contacts = self._contacts(text)
        dates = self._dates(text, today)
        taken = [(e.start, e.end) for e in contacts + dates]
        places = [e for e in self._places(text) if not any(s <= e.start < t for s, t in taken)]
        place_spans = [(e.start, e.end) for e in places if e.type in {"building", "unit", "room"}]
        entities = contacts + dates + places + self._orgs(text) + self._quantities(text, taken + place_spans)
        entities = _dedupe(_shorten_names(entities))
        if types is not None:
            wanted = set(types)
            entities = [e for e in entities if e.type in wanted]
        return sorted(entities, key=lambda e: (e.start, -e.end, e.type))


def _shorten_names(entities: list[Entity]) -> list[Entity]:
    """A walked-back name that ends with a shorter name of the same type found elsewhere in the text
    ("工人文化宫雅园小区" when "雅园小区" is also there) took in words before the name: cut it to the shorter."""
    names: dict[str, set[str]] = {}
    for e in entities:
        if e.type in ("compound", "street", "community", *ORG_TYPES):
            names.setdefault(e.type, set()).add(e.text)
    out = []
    for e in entities:
        shorter = [
            n for n in names.get(e.type, ()) if len(n) >= 3 and len(n) < len(e.text) and e.text.endswith(n)
        ]
        if shorter:
            name = max(shorter, key=len)
            e = Entity(e.type, name, e.end - len(name), e.end, name, e.extra)
        out.append(e)
    return out


def _dedupe(entities: list[Entity]) -> list[Entity]:
    """Keep one entity per (type, span); drop same-type entities nested in a longer one."""
    unique = {(e.type, e.start, e.end): e for e in entities}
    kept: list[Entity] = []
    for e in sorted(unique.values(), key=lambda e: (e.start, -(e.end - e.start))):
        if any(k.type == e.type and k.start <= e.start and e.end <= k.end and k is not e for k in kept):
            continue
        kept.append(e)
    return kept


_default = Extractor()


def extract(text: str, *, today: dt.date | None = None, types: Iterable[str] | None = None) -> list[Entity]:
    """Entities of ``text`` with the default extractor (no gazetteer). See ``Extractor``."""
    return _default.extract(text, today=today, types=types)


def values(entities: Iterable[Entity], etype: str) -> list[Any]:
    return [e.value for e in entities if e.type == etype]


# ---------------------------------------------------------------------------------------------- masking


def mask_phone(number: str) -> str:
    """13812345678 → 138****5678; a landline keeps its area code and last 4 digits."""
    digits = re.sub(r"\D", "", number)
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    keep = 4 if digits.startswith("0") and len(digits) >= 11 else 3 if digits.startswith("0") else 0
    return digits[:keep] + "*" * (len(digits) - keep - 4) + digits[-4:]


def mask_id_number(number: str) -> str:
    """430102199003071234 → 430102********1234 (region kept, birth date hidden)."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else "*" * len(number)


def mask(text: str) -> str:
    """``text`` with every phone number and valid ID number masked; any other 18-digit ID-shaped
    number is masked too, as a wrong checksum is usually a typo of a real number."""
    replacements = [
        (e.start, e.end, mask_phone(e.text) if e.type == "phone" else mask_id_number(e.value))
        for e in Extractor._contacts(text)
    ]
    for m in _ID_RE.finditer(text):
        if not any(s <= m.start(1) < e for s, e, _ in replacements):
            replacements.append((m.start(1), m.end(1), mask_id_number(m.group(1))))
    out = text
    for start, end, repl in sorted(replacements, reverse=True):
        out = out[:start] + repl + out[end:]
    return out


# Places specific enough that two cases naming them are about the same place (a district is not).
SPECIFIC_TYPES = ("street", "community", "compound", *ORG_TYPES)
_NAMED_PLACES = ("district", "street", "community", "compound")


def summary(entities: Sequence[Entity]) -> dict[str, Any]:
    """What a case stores of its entities: the names found by kind (each once, in order), the specific
    places, phone and ID numbers masked, amounts, numbers of people and dates; kinds with none left out."""

    def names(types: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(str(e.value) for e in entities if e.type in types))

    buildings = [e.text for e in entities if e.type in ("building", "unit", "room")]
    result = {
        "places": names(_NAMED_PLACES) + list(dict.fromkeys(buildings)),
        "organisations": names(ORG_TYPES),
        "specific_places": names(SPECIFIC_TYPES),
        "phones": list(dict.fromkeys(mask_phone(str(e.value)) for e in entities if e.type == "phone")),
        "id_numbers": list(
            dict.fromkeys(mask_id_number(str(e.value)) for e in entities if e.type == "id_number")
        ),
        "money": [e.text for e in entities if e.type == "money"],
        "people": [e.text for e in entities if e.type == "people"],
        "dates": list(dict.fromkeys(e.text for e in entities if e.type == "date")),
    }
    return {k: v for k, v in result.items() if v}
