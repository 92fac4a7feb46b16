"""The UI is written in Chinese and ships an English translation; the switcher in the top bar changes it."""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.test import Client

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES"


def test_the_login_page_is_chinese_by_default_and_english_after_switching(db: Any) -> None:
    client = Client()
    page = client.get("/login/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "<h1>工作人员登录</h1>" in page
    assert "用户名" in page
    assert '<button class="primary" type="submit">登录</button>' in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/login/"

    page = client.get("/login/").content.decode()
    assert '<html lang="en">' in page
    assert "<h1>Staff sign-in</h1>" in page
    assert "Username" in page
    assert '<button class="primary" type="submit">Sign in</button>' in page
    assert "工作人员登录" not in page

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    assert "<h1>工作人员登录</h1>" in client.get("/login/").content.decode()


def test_the_case_list_speaks_english_including_model_labels(
    client_for: Any, list_cases: Any, clerk: Any
) -> None:
    client = client_for(clerk)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/cases/").content.decode()
    assert "<h1>Cases</h1>" in page
    assert '<span class="status s-registered">Registered</span>' in page
    assert '<span class="status s-closed">Closed</span>' in page
    assert "Walk-in visit" in page
    assert "4 cases" in page


@dataclass
class PoEntry:
    msgid: str = ""
    plural: str = ""
    context: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    fuzzy: bool = False


def _unquote(line: str) -> str:
    return str(ast.literal_eval(line.strip()))


def _po_entries(text: str) -> list[PoEntry]:
    """The live entries of a .po file (obsolete ``#~`` ones left out), header excluded."""
    entries: list[PoEntry] = []
    for block in re.split(r"\n\s*\n", text):
        entry, target = PoEntry(), ""
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                entry.fuzzy = True
            elif line.startswith("#"):
                continue
            elif line.startswith("msgctxt "):
                entry.context, target = _unquote(line[8:]), "context"
            elif line.startswith("msgid_plural "):
                entry.plural, target = _unquote(line[13:]), "plural"
            elif line.startswith("msgid "):
                entry.msgid, target = _unquote(line[6:]), "msgid"
            elif line.startswith("msgstr"):
                entry.msgstrs.append(_unquote(line.split(" ", 1)[1]))
                target = "msgstr"
            elif line.startswith('"'):
                if target == "msgstr":
                    entry.msgstrs[-1] += _unquote(line)
                elif target == "context":
                    entry.context = (entry.context or "") + _unquote(line)
                else:
                    setattr(entry, target, getattr(entry, target) + _unquote(line))
        if entry.msgid:
            entries.append(entry)
    return entries


def test_every_chinese_string_has_an_english_translation_in_the_compiled_catalogue() -> None:
    entries = _po_entries((LOCALE / "django.po").read_text(encoding="utf-8"))
    assert len(entries) > 200
    assert [e.msgid for e in entries if e.fuzzy] == []
    assert [e.msgid for e in entries if not all(s.strip() for s in e.msgstrs)] == []
    with (LOCALE / "django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    # The .mo must be compiled from this .po: a string translated in the .po but not compiled is missing here.
    compiled = catalogue._catalog  # type: ignore[attr-defined]
    missing = []
    for e in entries:
        key: Any = e.msgid if e.context is None else f"{e.context}\x04{e.msgid}"
        if e.plural:
            key = (key, 0)
        if not compiled.get(key):
            missing.append(e.msgid)
    assert missing == []
