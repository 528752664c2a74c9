"""Printable documents, generated server-side with reportlab and its built-in CID font
STSong-Light (no font file to ship or download): the hazard assignment sheet (隐患整改交办单),
the area sheet (片区隐患交办单) and, for the mediation app, the people's mediation agreement
(人民调解协议书)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

FONT = "STSong-Light"


def register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def styles() -> dict[str, Any]:
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    register_font()
    base = ParagraphStyle("base", fontName=FONT, fontSize=11, leading=17, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=6),
        "sub": ParagraphStyle("sub", parent=base, fontSize=10, leading=14, alignment=TA_CENTER, spaceAfter=10),
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=13),
        "h": ParagraphStyle("h", parent=base, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4),
    }


def esc(text: Any) -> str:
    from xml.sax.saxutils import escape

    return escape(str(text or "")).replace("\n", "<br/>")


def local(value: dt.datetime | dt.date | None, fmt: str = "%Y年%m月%d日") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return value.strftime(fmt)


def render(story: Sequence[Any], *, title: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    buf = io.BytesIO()

    def footer(canvas: Any, doc: Any) -> None:  # STSong-Light has no U+00B7: plain separators only
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="gridgov",
    )
    doc.build(list(story), onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def table(rows: list[list[Any]], widths: list[float], *, header: bool = False) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    t = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 10),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")))
    else:
        style.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f7")))
    t.setStyle(TableStyle(style))
    return t


def hazard_sheet(hazard: Any, *, issued_by: str, now: dt.datetime) -> bytes:
    """隐患整改交办单 for one hazard: the finding and its four implementations, with signatures."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer

    s = styles()
    p = lambda text: Paragraph(esc(text), s["base"])  # noqa: E731
    dept = hazard.responsible_department.name if hazard.responsible_department_id else ""
    rows = [
        [p("隐患编号"), p(hazard.number), p("专项整治"), p(hazard.campaign.name)],
        [p("检查对象"), p(hazard.inspection.unit_name), p("所在网格"), p(hazard.region.name)],
        [p("地址"), p(hazard.inspection.address), p("隐患等级"), p(hazard.get_level_display())],
        [p("发现时间"), p(local(hazard.found_at, "%Y-%m-%d %H:%M")), p("当前状态"), p(hazard.get_state_display())],
        [p("检查项"), p(hazard.item.text if hazard.item_id else ""), p("挂牌整治"), p("是" if hazard.listed else "否")],
    ]
    four = [
        [p("隐患描述"), p(hazard.description)],
        [p("整改目标"), p(hazard.target or "（待落实）")],
        [p("整改措施"), p(hazard.measures or "（待落实）")],
        [p("整改责任人"), p("，".join(x for x in (hazard.responsible, dept) if x) or "（待落实）")],
        [p("整改期限"), p(local(hazard.deadline) or "（待落实）")],
    ]
    if hazard.listed:
        four.append([p("挂牌督办"), p(f"责任人：{hazard.listed_owner}；要求：{hazard.listed_note}")])
    story = [
        Paragraph("隐患整改交办单", s["title"]),
        Paragraph(esc(f"{issued_by}　　交办日期：{local(now)}"), s["sub"]),
        table(rows, [24 * mm, 61 * mm, 24 * mm, 61 * mm]),
        Spacer(1, 4 * mm),
        Paragraph("四落实（整改目标、整改措施、责任人、整改期限）", s["h"]),
        table(four, [30 * mm, 140 * mm]),
        Spacer(1, 6 * mm),
        Paragraph(
            "请责任单位按上述要求于整改期限内完成整改，并将整改情况及照片反馈网格员，经复查合格后销号。逾期未完成的，将予以挂牌督办。",
            s["base"],
        ),
        Spacer(1, 14 * mm),
        table(
            [
                [p("交办单位（盖章）"), p(""), p("责任单位签收"), p("")],
                [p("交办人"), p(issued_by), p("签收日期"), p("")],
            ],
            [32 * mm, 53 * mm, 32 * mm, 53 * mm],
        ),
    ]
    return render(story, title=f"隐患整改交办单 {hazard.number}")


def area_sheet(*, campaign: Any, region: Any, hazards: Sequence[Any], issued_by: str, now: dt.datetime) -> bytes:
    """片区隐患交办单: the open hazards of a campaign in one area, for its responsible leaders."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer

    s = styles()
    today = timezone.localdate(now)
    p = lambda text: Paragraph(esc(text), s["small"])  # noqa: E731
    rows: list[list[Any]] = [[p(h) for h in ("编号", "检查对象", "隐患", "状态", "责任人", "期限")]]
    for h in hazards:
        overdue = h.is_overdue(today)
        rows.append(
            [
                p(h.number),
                p(h.inspection.unit_name),
                p(h.description),
                p(h.get_state_display() + ("（逾期）" if overdue else "") + ("（挂牌）" if h.listed else "")),
                p(h.responsible),
                p(local(h.deadline, "%Y-%m-%d")),
            ]
        )
    overdue_n = sum(1 for h in hazards if h.is_overdue(today))
    story = [
        Paragraph("片区隐患整改交办单", s["title"]),
        Paragraph(esc(f"{campaign.name}（{region.name}）　交办日期：{local(now)}"), s["sub"]),
        Paragraph(
            esc(f"截至{local(now)}，本片区尚有未销号隐患 {len(hazards)} 处，其中逾期 {overdue_n} 处。"), s["base"]
        ),
        Spacer(1, 3 * mm),
        table(rows, [25 * mm, 28 * mm, 49 * mm, 24 * mm, 22 * mm, 22 * mm], header=True)
        if hazards
        else Paragraph("本片区没有未销号隐患。", s["base"]),
        Spacer(1, 12 * mm),
        table(
            [
                [p("交办单位（盖章）"), p(issued_by), p("责任单位签收"), p("")],
                [p("交办日期"), p(local(now)), p("签收日期"), p("")],
            ],
            [32 * mm, 53 * mm, 32 * mm, 53 * mm],
        ),
    ]
    return render(story, title=f"片区隐患交办单 {region.name}")


def agreement(dispute: Any, *, parties: Sequence[Any], now: dt.datetime) -> bytes:
    """人民调解协议书 (人民调解法 art. 29: parties, the dispute, the agreed terms, performance)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer

    s = styles()
    p = lambda text: Paragraph(esc(text), s["base"])  # noqa: E731
    party_rows = [
        [
            p(x.get_role_display()),
            p(x.name),
            p(x.id_masked or "—"),
            p(x.address or "—"),
        ]
        for x in parties
    ]
    story: list[Any] = [
        Paragraph("人民调解协议书", s["title"]),
        Paragraph(esc(dispute.agreement_no), s["sub"]),
        table(
            [[p("当事人"), p("姓名/名称"), p("证件号码"), p("住址")], *party_rows],
            [24 * mm, 36 * mm, 50 * mm, 60 * mm],
            header=True,
        ),
        Paragraph("纠纷主要事实、争议事项", s["h"]),
        p(f"纠纷类型：{dispute.kind_label}。{dispute.description}"),
        Paragraph("经调解，自愿达成如下协议", s["h"]),
        p(dispute.agreement),
        Paragraph("履行方式、时限", s["h"]),
        p(dispute.performance_term),
        Spacer(1, 4 * mm),
        Paragraph(
            "本协议书自各方当事人签名（盖章或按指印）、人民调解员签名并加盖人民调解委员会印章之日起生效。"
            "本协议书一式三份，当事人各执一份，调解组织留存一份。"
            "当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。",
            s["small"],
        ),
        Spacer(1, 12 * mm),
    ]
    signs = [[p(f"{x.get_role_display()}（签名）："), p("")] for x in parties]
    signs.append([p("人民调解员（签名）："), p(dispute.mediator.label if dispute.mediator_id else "")])
    signs.append([p("调解组织（盖章）："), p(dispute.centre.name)])
    signs.append([p("日期："), p(local(dispute.concluded_at or now))])
    story.append(table(signs, [50 * mm, 120 * mm]))
    if dispute.judicial_ref:
        story += [
            Spacer(1, 6 * mm),
            p(f"司法确认：{dispute.judicial_court} {dispute.judicial_ref}（{local(dispute.judicial_on)}）"),
        ]
    return render(story, title=f"人民调解协议书 {dispute.agreement_no}")
