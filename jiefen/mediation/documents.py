"""Mediation documents: filling in the admins' templates, and drawing the text as DOCX and PDF.

Templates hold ``{{ name }}`` fields. Only the names in ``FIELDS`` are filled; anything else is left as it is,
so a typo in a template shows up in the document rather than vanishing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

FIELDS = (
    "number",
    "title",
    "parties",
    "facts",
    "mediator",
    "committee",
    "session_time",
    "session_place",
    "participants",
    "minutes",
    "terms",
    "performance_due",
    "confirmation_notice",
    "date",
)
_FIELD = re.compile(r"\{\{\s*(\w+)\s*\}\}")

# 人民调解法 Art. 33: the parties may jointly apply to a court for confirmation within 30 days of the agreement
# taking effect.
CONFIRMATION_NOTICE = (
    "司法确认告知：本协议自各方当事人签字之日起生效，具有法律约束力。双方当事人认为有必要的，"
    "可以自本协议生效之日起三十日内共同向人民法院申请司法确认（《中华人民共和国人民调解法》第三十三条）；"
    "人民法院依法确认调解协议有效，一方拒绝履行或者未全部履行的，对方当事人可以向人民法院申请强制执行。"
)


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with every known ``{{ field }}`` replaced by its value."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return values.get(name, match.group(0)) if name in FIELDS else match.group(0)

    return _FIELD.sub(replace, template)


def unknown_fields(template: str) -> list[str]:
    """Field names in ``template`` that ``fill`` does not know, for the admin form to refuse."""
    return sorted({name for name in _FIELD.findall(template) if name not in FIELDS})


def to_docx(title: str, body: str) -> bytes:
    """The document as Word (.docx): the title centred, then one paragraph per line."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "SimSun"
    normal.font.size = Pt(12)
    # East Asian text takes its font from eastAsia, not from the Latin name.
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(title)
    run.bold = True
    run.font.size = Pt(18)
    for line in body.splitlines():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


_FONT = "STSong-Light"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if _FONT not in pdfmetrics.getRegisteredFontNames():
        # A CID font built into every PDF reader: no font file to ship or download.
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))


def to_pdf(title: str, body: str) -> bytes:
    """The document as PDF (A4), Chinese set in the reader's built-in Song typeface."""
    from xml.sax.saxutils import escape

    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    _register_font()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=25 * mm,
        title=title,
    )
    text = ParagraphStyle("body", fontName=_FONT, fontSize=12, leading=20, wordWrap="CJK")
    head = ParagraphStyle("title", parent=text, fontSize=18, leading=28, alignment=TA_CENTER)
    story: list[object] = [Paragraph(escape(title), head), Spacer(1, 6 * mm)]
    for line in body.splitlines():
        story.append(Paragraph(escape(line) or "&nbsp;", text))
    doc.build(story)  # type: ignore[arg-type]
    return out.getvalue()
