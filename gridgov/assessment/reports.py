"""The monthly report of a region (月度考核通报): key figures, the region's own indicator card,
the ranking of its towns or villages with 红黄黑榜, and a bar chart — as xlsx (openpyxl) or PDF
(reportlab, with its built-in CID font STSong-Light for Chinese, so no font file is needed)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from gridgov.accounts.scope import Scope
from gridgov.common.errors import NotFound
from gridgov.dashboard.models import RegionDayStat
from gridgov.regions.models import Level, Region

from . import selectors, services
from .models import Assessment, IndicatorScore, RegionScore

COLOUR_LABEL = {"red": "红榜", "yellow": "黄榜", "black": "黑榜", "": ""}


@dataclass
class ReportData:
    assessment: Assessment
    region: Region
    own: RegionScore | None
    lines: list[IndicatorScore]
    ranking: list[RegionScore]
    ranking_level: str
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.region.name}{self.assessment.month:%Y年%m月}平安考核通报"


def report_region(*, scope: Scope, assessment: Assessment, code: str) -> Region:
    if code:
        region = Region.objects.filter(code=code).first()
    else:
        region = Region.objects.filter(pk=scope.region_id).first() if scope.region_id else None
    if region is None or not scope.covers(region.path) or not region.path.startswith(assessment.region.path):
        raise NotFound("区域不存在或不在您的辖区", field="region")
    if region.level not in (Level.DISTRICT, Level.STREET, Level.COMMUNITY):
        raise NotFound("月度报告按区、镇街、村社区出具", field="region")
    return region


def build(*, scope: Scope, assessment: Assessment, region: Region) -> ReportData:
    own = RegionScore.objects.filter(assessment=assessment, region=region).first()
    lines = list(selectors.indicator_scores(region_score=own)) if own else []
    if region.level == Level.DISTRICT:
        level, within = Level.STREET, region.path
    elif region.level == Level.STREET:
        level, within = Level.COMMUNITY, region.path
    else:
        level, within = Level.COMMUNITY, region.path
    ranking = list(selectors.region_scores(scope=scope, assessment=assessment, level=level, within=within))
    start, end = services.month_window(assessment.month)
    last_day = (end - dt.timedelta(days=1)).date()
    sums = RegionDayStat.objects.filter(region_path=region.path, day__gte=start.date(), day__lte=last_day).aggregate(
        reported=Sum("reported"),
        closed=Sum("closed"),
        closed_on_time=Sum("closed_on_time"),
        rated=Sum("rated"),
        satisfied=Sum("satisfied"),
        settled=Sum("settled_on_spot"),
    )
    n = {k: int(v or 0) for k, v in sums.items()}
    figures = {
        "上报案件": n["reported"],
        "办结案件": n["closed"],
        "按期结案率": f"{100.0 * n['closed_on_time'] / n['closed']:.1f}%" if n["closed"] else "—",
        "满意率": f"{100.0 * n['satisfied'] / n['rated']:.1f}%" if n["rated"] else "—",
        "就地化解": n["settled"],
    }
    if own is not None:
        figures["综合得分"] = own.total if own.total is not None else "—"
        figures["全区排名"] = f"{own.rank} / {own.rank_of}" if own.ranked and own.rank else "未参与排名"
        if own.list_colour:
            figures["榜单"] = COLOUR_LABEL[own.list_colour]
    return ReportData(assessment, region, own, lines, ranking, level, figures)


def _value(line: IndicatorScore) -> str:
    if line.value is None:
        return "—"
    return f"{line.value:g}{line.unit if line.unit in ('%',) else ''}"


def _ranking_rows(data: ReportData) -> list[list[Any]]:
    return [
        [
            r.rank or "—",
            r.region_name,
            r.parent_name,
            r.total if r.total is not None else "—",
            round(r.outcome_score, 2),
            round(r.process_score, 2),
            COLOUR_LABEL[r.list_colour],
            r.note,
        ]
        for r in data.ranking
    ]


RANK_HEAD = ["排名", "名称", "上级", "综合得分", "结果指标得分", "过程指标得分", "榜单", "说明"]
LINE_HEAD = ["编号", "指标", "类别", "数值", "分子", "分母/样本", "得分", "满分", "说明"]


def _line_rows(data: ReportData) -> list[list[Any]]:
    return [
        [
            ln.indicator_code,
            ln.indicator_name,
            "结果" if ln.group == "outcome" else "过程",
            _value(ln),
            f"{ln.numerator:g}",
            f"{ln.denominator:g}",
            f"{ln.score:.2f}（中性）" if ln.neutral else round(ln.score, 2),
            ln.weight,
            ln.note,
        ]
        for ln in data.lines
    ]


def to_xlsx(data: ReportData) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "概况"
    bold = Font(bold=True)
    ws.append([data.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(
        [
            f"数据截止 {timezone.localtime(data.assessment.as_of):%Y-%m-%d %H:%M}，状态：{data.assessment.get_status_display()}"
        ]
    )
    ws.append([])
    for k, v in data.figures.items():
        ws.append([k, v])
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 18

    lines = wb.create_sheet("指标明细")
    lines.append(LINE_HEAD)
    for row in _line_rows(data):
        lines.append(row)
    for cell in lines[1]:
        cell.font = bold
    lines.column_dimensions["B"].width = 16
    lines.column_dimensions["I"].width = 30

    rank = wb.create_sheet("排名")
    rank.append(RANK_HEAD)
    fills = {"红榜": "FDE7E6", "黄榜": "FFF3D6", "黑榜": "D9D9D9"}
    for row in _ranking_rows(data):
        rank.append(row)
        if row[6] in fills:
            for cell in rank[rank.max_row]:
                cell.fill = PatternFill("solid", fgColor=fills[row[6]])
    for cell in rank[1]:
        cell.font = bold
    rank.column_dimensions["B"].width = 22
    rank.column_dimensions["C"].width = 16
    rank.column_dimensions["H"].width = 30
    if len(data.ranking) > 0:
        chart = BarChart()
        chart.title = "综合得分"
        chart.y_axis.title = "分"
        chart.height, chart.width = 9, 24
        n = min(len(data.ranking), 40)
        values = Reference(rank, min_col=4, min_row=1, max_row=n + 1)
        names = Reference(rank, min_col=2, min_row=2, max_row=n + 1)
        chart.add_data(values, titles_from_data=True)
        chart.set_categories(names)
        rank.add_chart(chart, "J2")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


FONT = "STSong-Light"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def to_pdf(data: ReportData) -> bytes:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_font()
    title = ParagraphStyle("t", fontName=FONT, fontSize=16, leading=22, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=FONT, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("b", fontName=FONT, fontSize=9, leading=12)
    small = ParagraphStyle("s", fontName=FONT, fontSize=7.5, leading=9.5)

    def table(rows: list[list[Any]], widths: list[float], highlight: dict[int, Any] | None = None) -> Table:
        cells = [[Paragraph(str(c), small) for c in r] for r in rows]
        t = Table(cells, colWidths=widths, repeatRows=1)
        style = [
            ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#B8C2CC")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EDF3")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
        for row_index, colour in (highlight or {}).items():
            style.append(("BACKGROUND", (0, row_index), (-1, row_index), colour))
        t.setStyle(TableStyle(style))
        return t

    numbers = iter("一二三四五")
    story: list[Any] = [
        Paragraph(data.title, title),
        Paragraph(
            f"数据截止 {timezone.localtime(data.assessment.as_of):%Y-%m-%d %H:%M} · 状态：{data.assessment.get_status_display()}"
            f" · 考核方案：{data.assessment.scheme.name}",
            body,
        ),
        Spacer(1, 4 * mm),
        Paragraph(f"{next(numbers)}、主要数据", h2),
        table([["项目", "数值"], *[[k, v] for k, v in data.figures.items()]], [50 * mm, 50 * mm]),
    ]
    if data.lines:
        story += [
            Paragraph(f"{next(numbers)}、指标得分", h2),
            table(
                [LINE_HEAD, *_line_rows(data)],
                [11 * mm, 22 * mm, 10 * mm, 18 * mm, 14 * mm, 16 * mm, 14 * mm, 11 * mm, 64 * mm],
            ),
        ]
    if data.ranking:
        chart_rows = [r for r in data.ranking if r.total is not None][:30]
        drawing = Drawing(180 * mm, 70 * mm)
        bars = VerticalBarChart()
        bars.x, bars.y, bars.width, bars.height = 12 * mm, 18 * mm, 165 * mm, 46 * mm
        bars.data = [[r.total or 0 for r in chart_rows]]
        bars.valueAxis.valueMin, bars.valueAxis.valueMax = 0, 100
        bars.categoryAxis.categoryNames = [r.region_name[:6] for r in chart_rows]
        bars.categoryAxis.labels.fontName = FONT
        bars.categoryAxis.labels.fontSize = 6
        bars.categoryAxis.labels.angle = 45
        bars.categoryAxis.labels.boxAnchor = "ne"
        bars.valueAxis.labels.fontSize = 7
        bars.bars[0].fillColor = colors.HexColor("#2F6FB3")
        for i, r in enumerate(chart_rows):
            if r.list_colour == "red":
                bars.bars[(0, i)].fillColor = colors.HexColor("#CF3A3A")
            elif r.list_colour == "black":
                bars.bars[(0, i)].fillColor = colors.HexColor("#333333")
            elif r.list_colour == "yellow":
                bars.bars[(0, i)].fillColor = colors.HexColor("#D99A1E")
        drawing.add(bars)
        drawing.add(String(12 * mm, 66 * mm, "综合得分（红：红榜 黄：黄榜 黑：黑榜）", fontName=FONT, fontSize=8))
        label = "镇街" if data.ranking_level == Level.STREET else "村（社区）"
        fills = {
            "red": colors.HexColor("#FDE7E6"),
            "yellow": colors.HexColor("#FFF3D6"),
            "black": colors.HexColor("#D9D9D9"),
        }
        highlight = {i + 1: fills[r.list_colour] for i, r in enumerate(data.ranking) if r.list_colour in fills}
        story += [
            Paragraph(f"{next(numbers)}、{label}排名", h2),
            drawing,
            table(
                [RANK_HEAD, *_ranking_rows(data)],
                [11 * mm, 34 * mm, 24 * mm, 16 * mm, 18 * mm, 18 * mm, 12 * mm, 47 * mm],
                highlight,
            ),
        ]
    rules = data.assessment.rules
    story += [
        Spacer(1, 3 * mm),
        Paragraph(
            f"榜单规则：综合得分 ≥ {rules.get('red_min_score')} 且名次在前 {rules.get('red_top_n') or '不限'} 名列入红榜；"
            f"低于 {rules.get('black_below')} 分列入黑榜；低于 {rules.get('yellow_below')} 分列入黄榜。"
            f"样本不足的指标按同级平均计分（中性），实际计分权重低于 {float(rules.get('min_scored_share', 0)) * 100:.0f}% 的不参与排名。",
            small,
        ),
    ]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm,
        title=data.title, author="gridgov",
    )  # fmt: skip
    doc.build(story)
    return buf.getvalue()
