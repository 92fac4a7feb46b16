"""Monthly and quarterly reports: XLSX with native Excel charts (openpyxl) and PDF with charts drawn by
reportlab.graphics, from the same dashboard figures. Every report handed out is audited as an export."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.http import HttpResponse

from jiefen.analytics.queries import Dashboard, Filters, dashboard
from jiefen.analytics.rates import Rates
from jiefen.audit.models import AuditAction
from jiefen.audit.services import record


@dataclass(frozen=True)
class ReportSpec:
    title: str
    slug: str
    start: date
    end: date


def period_of(period: str, value: str) -> ReportSpec:
    """``("month", "2026-03")`` or ``("quarter", "2026-1")`` → the report's dates; ValueError on bad input."""
    if period == "month":
        year, month = (int(x) for x in value.split("-"))
        start = date(year, month, 1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return ReportSpec(f"{year}年{month}月信访工作月报", f"report-{year}-{month:02d}", start, end)
    if period == "quarter":
        year, quarter = (int(x) for x in value.split("-"))
        if quarter not in (1, 2, 3, 4):
            raise ValueError("quarter is 1–4")
        start = date(year, 3 * quarter - 2, 1)
        end = (date(year, 3 * quarter, 1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return ReportSpec(f"{year}年第{quarter}季度信访工作报告", f"report-{year}-q{quarter}", start, end)
    raise ValueError("period is month or quarter")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _summary(r: Rates) -> list[tuple[str, str]]:
    c = r.counts
    return [
        ("受理量", str(c["received"])),
        ("交办量", str(c["dispatched"])),
        ("答复量", str(c["replied"])),
        ("办结量", str(c["closed"])),
        ("响应率", _pct(r.response)),
        ("解决率", _pct(r.resolution)),
        ("满意率", _pct(r.satisfaction)),
        ("按时办结率", _pct(r.on_time)),
        ("平均办理时长（天）", "—" if r.avg_handling_days is None else f"{r.avg_handling_days:.1f}"),
        ("综合得分", "—" if r.score is None else f"{r.score * 100:.1f}"),
        ("评价件数", str(c["rated"])),
        ("回访期满未评价办结", str(c["unrated_closed"])),
    ]


def xlsx_bytes(board: Dashboard, spec: ReportSpec) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "概况"
    ws.append([spec.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"{spec.start} 至 {spec.end}"])
    ws.append([])
    for row in _summary(board.totals):
        ws.append(list(row))
    ws.column_dimensions["A"].width = 22

    trend = wb.create_sheet("趋势")
    trend.append(["日期", "受理量", "答复量", "办结量"])
    for label, counts in board.series:
        trend.append([label, counts.get("received", 0), counts.get("replied", 0), counts.get("closed", 0)])
    n = len(board.series)
    if n:
        chart = LineChart()
        chart.title = "受理、答复、办结"
        chart.add_data(
            Reference(trend, min_col=2, max_col=4, min_row=1, max_row=n + 1), titles_from_data=True
        )
        chart.set_categories(Reference(trend, min_col=1, min_row=2, max_row=n + 1))
        chart.width, chart.height = 24, 10
        trend.add_chart(chart, "F2")

    for name, bars, metric in (
        ("分类", board.by_category, "received"),
        ("街道", board.by_street, "received"),
        ("渠道", board.by_channel, "received"),
        ("物业公司", board.by_property, "dispatched"),
    ):
        sheet = wb.create_sheet(name)
        sheet.append([name, "件数", "响应率", "解决率", "满意率"])
        for b in bars:
            sheet.append(
                [
                    b.label,
                    b.rates.counts[metric],
                    _pct(b.rates.response),
                    _pct(b.rates.resolution),
                    _pct(b.rates.satisfaction),
                ]
            )
        if bars:
            chart = BarChart()
            chart.type = "bar"
            chart.title = f"按{name}"
            chart.add_data(
                Reference(sheet, min_col=2, min_row=1, max_row=len(bars) + 1), titles_from_data=True
            )
            chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=len(bars) + 1))
            chart.width, chart.height = 18, 10
            sheet.add_chart(chart, "G2")
        sheet.column_dimensions["A"].width = 24

    rank = wb.create_sheet("单位排名")
    rank.append(["名次", "单位", "综合得分", "响应率", "解决率", "满意率", "评价件数"])
    for i, b in enumerate(board.ranking, start=1):
        rank.append(
            [i, b.label, round((b.rates.score or 0) * 100, 1), _pct(b.rates.response), _pct(b.rates.resolution),
             _pct(b.rates.satisfaction), b.rates.counts["rated"]]
        )  # fmt: skip
    rank.append([])
    rank.append(
        [f"件数少于 {board.min_cases} 的单位不参与排名：" + "、".join(b.label for b in board.left_out)]
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def pdf_bytes(board: Dashboard, spec: ReportSpec) -> bytes:
    from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    h1 = ParagraphStyle("h1", fontName=font, fontSize=18, leading=24, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)

    def table(rows: list[list[str]], widths: list[float]) -> Table:
        t = Table(rows, colWidths=widths)
        t.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 9),
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                ]
            )
        )
        return t

    def bars_drawing(labels: list[str], values: list[int], title: str, horizontal: bool) -> Drawing:
        d = Drawing(170 * mm, 70 * mm)
        chart: Any = HorizontalBarChart() if horizontal else VerticalBarChart()
        chart.x, chart.y = (35 * mm, 8 * mm) if horizontal else (12 * mm, 12 * mm)
        chart.width, chart.height = (125 * mm, 52 * mm) if horizontal else (150 * mm, 48 * mm)
        chart.data = [values or [0]]
        chart.categoryAxis.categoryNames = labels or [""]
        chart.categoryAxis.labels.fontName = font
        chart.categoryAxis.labels.fontSize = 7
        if not horizontal:
            chart.categoryAxis.labels.angle = 45
            chart.categoryAxis.labels.boxAnchor = "ne"
        chart.valueAxis.valueMin = 0
        chart.valueAxis.labels.fontSize = 7
        chart.bars[0].fillColor = colors.HexColor("#1f5fa8")
        d.add(chart)
        d.add(String(0, 66 * mm, title, fontName=font, fontSize=10))
        return d

    story: list[Any] = [
        Paragraph(spec.title, h1),
        Paragraph(f"{spec.start} 至 {spec.end}", body),
        Paragraph("一、总体情况", h2),
        table([["指标", "数值"], *[list(r) for r in _summary(board.totals)]], [70 * mm, 50 * mm]),
        Paragraph("二、受理量走势", h2),
        bars_drawing(
            [label[5:] for label, _c in board.series],
            [c.get("received", 0) for _l, c in board.series],
            "受理量",
            False,
        ),
        Paragraph("三、按分类", h2),
        bars_drawing(
            [b.label for b in board.by_category[:10]],
            [b.rates.counts["received"] for b in board.by_category[:10]],
            "受理量（前 10 类）",
            True,
        ),
        Paragraph("四、单位排名", h2),
        table(
            [["名次", "单位", "综合得分", "响应率", "解决率", "满意率"]]
            + [
                [
                    str(i),
                    b.label,
                    f"{(b.rates.score or 0) * 100:.1f}",
                    _pct(b.rates.response),
                    _pct(b.rates.resolution),
                    _pct(b.rates.satisfaction),
                ]
                for i, b in enumerate(board.ranking[:20], start=1)
            ],
            [14 * mm, 50 * mm, 22 * mm, 22 * mm, 22 * mm, 22 * mm],
        ),
        Spacer(1, 4 * mm),
        Paragraph(f"件数少于 {board.min_cases} 的单位不参与排名。", body),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=spec.title, leftMargin=18 * mm, rightMargin=18 * mm).build(
        story
    )
    return out.getvalue()


def response(*, user: Any, spec: ReportSpec, fmt: str) -> HttpResponse:
    board = dashboard(user, Filters(start=spec.start, end=spec.end))
    if fmt == "xlsx":
        body = xlsx_bytes(board, spec)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "pdf":
        body, content_type = pdf_bytes(board, spec), "application/pdf"
    else:
        from django.http import Http404

        raise Http404("xlsx or pdf")
    record(
        action=AuditAction.EXPORT, actor=user, object_type="report", data={"report": spec.slug, "format": fmt}
    )
    resp = HttpResponse(body, content_type=content_type)
    resp["Content-Disposition"] = f'attachment; filename="{spec.slug}.{fmt}"'
    return resp
