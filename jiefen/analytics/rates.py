"""The three rates (三率), the on-time rate, the average handling time and the overall score, computed from
rollup counters. Plain functions of numbers, so each definition is tested on hand-built cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from jiefen.analytics.models import COUNTERS

# Shown on the dashboard next to each figure; they state exactly what the code below computes.
DEFINITIONS = {
    "response": _(
        "响应率 = 按时签收的交办件 ÷ 期内签收时限到期的交办件。签收时限在期内按时结束（单位签收）计为按时；"
        "期内超期（被标红）或超时后才签收计为未按时，每个时限只计一次。"
    ),
    "resolution": _(
        "解决率 = 评价为“已解决”的件数 ÷ 期内评价件数。“部分解决”不计入分子；回访期满未评价的件不计入分母，单独列出。"
    ),
    "satisfaction": _(
        "满意率 = （满意 + 基本满意）÷ 期内评价件数。回访期满未评价的件不计入分母，单独列出为“未评价办结”。"
    ),
    "on_time": _("按时办结率 = 按时答复的件数 ÷ 期内办理时限到期的件数（计法同响应率）。"),
    "handling": _("平均办理时长 = 期内答复件从受理到答复的时间之和 ÷ 期内答复件数（自然日）。"),
    "score": _("综合得分 = 各率按管理员设置的权重加权平均；某率无数据时不计入，其余权重按比例放大。"),
}


@dataclass(frozen=True)
class Weights:
    response: float = 0.2
    resolution: float = 0.4
    satisfaction: float = 0.4
    on_time: float = 0.0


@dataclass(frozen=True)
class Rates:
    counts: dict[str, int]
    response: float | None
    resolution: float | None
    satisfaction: float | None
    on_time: float | None
    avg_handling_days: float | None
    score: float | None


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNTERS, 0)


def rates_of(counts: Mapping[str, int], weights: Weights | None = None) -> Rates:
    """The rates of a sum of rollup counters; a rate with nothing in its denominator is None, not 0."""
    c = {**empty_counts(), **{k: int(v or 0) for k, v in counts.items() if k in COUNTERS}}
    response = _ratio(c["response_met"], c["response_due"])
    resolution = _ratio(c["resolved"], c["rated"])
    satisfaction = _ratio(c["satisfied"] + c["basically"], c["rated"])
    on_time = _ratio(c["handling_met"], c["handling_due"])
    avg = c["handling_seconds"] / c["replied"] / 86400 if c["replied"] else None
    w = weights or Weights()
    parts = [
        (response, w.response),
        (resolution, w.resolution),
        (satisfaction, w.satisfaction),
        (on_time, w.on_time),
    ]
    total_weight = sum(weight for value, weight in parts if value is not None and weight > 0)
    score = (
        sum(value * weight for value, weight in parts if value is not None and weight > 0) / total_weight
        if total_weight
        else None
    )
    return Rates(c, response, resolution, satisfaction, on_time, avg, score)
