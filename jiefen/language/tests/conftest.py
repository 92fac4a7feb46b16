"""Shared helpers for the language tests: the real data lives outside the repository and may be absent."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
DATA = REPO_ROOT.parent / "shared" / "data" / "teddy2020"


def require_data() -> Path:
    if not DATA.exists():
        pytest.skip(f"real data absent: {DATA}")
    return DATA


@cache
def _messages() -> dict[str, dict[str, Any]]:
    from jiefen.language.io import read_table

    rows: dict[str, dict[str, Any]] = {}
    for name in ("附件3.xlsx", "附件4.xlsx"):
        for row in read_table(DATA / "full" / name):
            rows[str(row["留言编号"])] = row
    return rows


def message(number: str) -> str:
    """Title + body of a real message of 附件3/附件4 by 留言编号, normalised (skips when data is absent)."""
    from jiefen.language.text import normalize

    require_data()
    row = _messages()[number]
    return normalize(f"{row['留言主题']} {row['留言详情']}")
