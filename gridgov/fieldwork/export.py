"""xlsx export of the field-work and mediation lists. Personal data is masked in every sheet; each
export is audited with the filter that produced it."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from gridgov.common import clock
from gridgov.common.audit import audit_record
from gridgov.common.masking import mask_name

from .models import Hazard, Inspection

MAX_ROWS = 50_000
RED = PatternFill("solid", fgColor="FDE2E1")


def t(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def d(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def xlsx_response(
    *,
    filename: str,
    title: str,
    columns: Sequence[tuple[str, int]],
    rows: Iterable[Sequence[Any]],
    request: HttpRequest,
    action: str,
    filters: dict[str, Any],
    red_rows: set[int] | None = None,
) -> HttpResponse:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    ws.append([c for c, _w in columns])
    for i, (_c, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
        ws.cell(row=1, column=i).font = Font(bold=True)
    ws.freeze_panes = "A2"
    n = 0
    for n, row in enumerate(rows, start=1):
        if n > MAX_ROWS:
            break
        ws.append(list(row))
        if red_rows and n in red_rows:
            for cell in ws[n + 1]:
                cell.fill = RED
    buf = io.BytesIO()
    wb.save(buf)
    audit_record(
        actor=request.user,
        action=action,
        detail={"rows": min(n, MAX_ROWS), "filters": {k: str(v) for k, v in filters.items() if v}},
        request=request,
    )
    stamp = timezone.localtime(clock.now()).strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.xlsx"'
    return response


HAZARD_COLUMNS = [
    ("隐患编号", 16),
    ("专项整治", 24),
    ("检查对象", 24),
    ("地址", 24),
    ("所在网格", 24),
    ("检查项", 20),
    ("隐患描述", 40),
    ("隐患等级", 10),
    ("状态", 12),
    ("逾期", 6),
    ("挂牌", 6),
    ("整改目标", 24),
    ("整改措施", 30),
    ("责任人", 14),
    ("责任部门", 20),
    ("整改期限", 12),
    ("发现时间", 18),
    ("整改完成", 18),
    ("销号时间", 18),
]


def hazard_rows(qs: Iterable[Hazard]) -> tuple[list[list[Any]], set[int]]:
    today = clock.today()
    rows, red = [], set()
    for i, h in enumerate(qs, start=1):
        overdue = h.is_overdue(today)
        if overdue:
            red.add(i)
        rows.append(
            [
                h.number,
                h.campaign.name,
                h.inspection.unit_name,
                h.inspection.address,
                h.region.name,
                h.item.text if h.item_id and h.item else "",
                h.description,
                h.get_level_display(),
                h.get_state_display(),
                "是" if overdue else "",
                "是" if h.listed else "",
                h.target,
                h.measures,
                mask_name(h.responsible) if h.responsible and len(h.responsible) <= 4 else h.responsible,
                h.responsible_department.name if h.responsible_department_id and h.responsible_department else "",
                d(h.deadline),
                t(h.found_at),
                t(h.rectified_at),
                t(h.signed_off_at),
            ]
        )
    return rows, red


INSPECTION_COLUMNS = [
    ("专项整治", 24),
    ("检查对象", 24),
    ("地址", 24),
    ("所在网格", 24),
    ("检查人/单位", 18),
    ("检查期限", 12),
    ("状态", 10),
    ("检查时间", 18),
    ("不合格项", 8),
    ("检查情况", 40),
]


def inspection_rows(qs: Iterable[Inspection]) -> list[list[Any]]:
    return [
        [
            i.campaign.name,
            i.unit_name,
            i.address,
            i.region.name,
            i.assignee_label,
            d(i.due_on),
            i.get_state_display(),
            t(i.inspected_at),
            sum(1 for r in i.results.all() if not r.passed),
            i.note,
        ]
        for i in qs
    ]
