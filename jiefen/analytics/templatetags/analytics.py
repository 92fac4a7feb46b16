from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """0.8234 → "82.3%"; None (nothing to count) → "—"."""
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def score(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}"
