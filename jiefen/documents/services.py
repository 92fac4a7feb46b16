"""Issuing documents from the admins' templates, and rendering them as DOCX and PDF."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.template import Context, Template
from django.utils import timezone

from jiefen.cases.events import new_event
from jiefen.cases.models import Case, CaseEvent, EventKind
from jiefen.documents.defaults import DEFAULT_TEMPLATES
from jiefen.documents.models import DocumentKind, DocumentTemplate, IssuedDocument

_NUMBER_TAG = {
    DocumentKind.ACCEPTANCE_NOTICE: "受",
    DocumentKind.DECLINE_NOTICE: "不受",
    DocumentKind.TRANSFER_NOTICE: "转",
    DocumentKind.REPLY: "复",
}


def _day(value: Any) -> str:
    return f"{timezone.localtime(value):%Y年%m月%d日}" if value else ""


def context_for(case: Case, **extra: Any) -> dict[str, Any]:
    """What a template may use: the case's facts plus what the issuing step adds (reason, authority …)."""
    petitioner = case.petitioner
    name = "匿名信访人" if case.is_anonymous or petitioner is None else petitioner.name
    return {
        "petitioner_name": name or "信访人",
        "receipt_number": case.receipt_number,
        "title": case.title,
        "channel": case.get_channel_display(),
        "received_date": _day(case.received_at),
        "today": _day(timezone.now()),
        "office": settings.OFFICE_NAME,
        **extra,
    }


def _template(kind: str) -> tuple[str, str, str]:
    stored = DocumentTemplate.objects.filter(kind=kind).first()
    if stored is not None:
        return stored.title, stored.letterhead or settings.OFFICE_NAME, stored.body
    title, body = DEFAULT_TEMPLATES[kind]
    return title, settings.OFFICE_NAME, body


def issue(*, case: Case, kind: str, actor: Any, events: list[CaseEvent], **extra: Any) -> IssuedDocument:
    """Render and keep a document for ``case``; its event goes into ``events`` (written by the caller in the
    same transaction). The petitioner sees the event and can download the document."""
    title, letterhead, body = _template(kind)
    text = Template(body).render(Context(context_for(case, **extra), autoescape=False))
    document = IssuedDocument.objects.create(
        case=case,
        kind=kind,
        number=f"{case.receipt_number}-{_NUMBER_TAG[DocumentKind(kind)]}",
        title=title,
        letterhead=letterhead,
        text=text,
        issued_by=actor if getattr(actor, "pk", None) else None,
    )
    events.append(
        new_event(
            case=case,
            kind=EventKind.NOTICE_ISSUED,
            actor=actor,
            note=title,
            data={"document": document.pk, "kind": kind, "number": document.number},
            is_public=True,
        )
    )
    return document


def to_docx(document: IssuedDocument) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "SimSun")
    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = head.add_run(document.letterhead)
    run.font.size, run.font.bold, run.font.color.rgb = Pt(22), True, RGBColor(0xC0, 0x00, 0x00)
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title_run = heading.add_run(document.title)
    title_run.font.size, title_run.font.bold = Pt(18), True
    number = doc.add_paragraph(document.number)
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for line in document.paragraphs:
        doc.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_pdf(document: IssuedDocument) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    # A CID font built into every PDF reader: no font file to ship or download.
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    base = ParagraphStyle(
        "body", fontName="STSong-Light", fontSize=13, leading=22, wordWrap="CJK", firstLineIndent=26
    )
    head = ParagraphStyle(
        "head",
        parent=base,
        fontSize=22,
        leading=30,
        alignment=1,
        textColor=HexColor("#C00000"),
        firstLineIndent=0,
    )
    title = ParagraphStyle("title", parent=base, fontSize=17, leading=26, alignment=1, firstLineIndent=0)
    centre = ParagraphStyle("centre", parent=base, alignment=1, firstLineIndent=0)
    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=28 * mm,
        rightMargin=26 * mm,
        topMargin=30 * mm,
        bottomMargin=30 * mm,
        title=document.title,
    )
    story = [
        Paragraph(escape(document.letterhead), head),
        Spacer(1, 6 * mm),
        Paragraph(escape(document.title), title),
        Paragraph(escape(document.number), centre),
        Spacer(1, 6 * mm),
    ]
    story += [Paragraph(escape(line), base) for line in document.paragraphs]
    pdf.build(story)
    return out.getvalue()
