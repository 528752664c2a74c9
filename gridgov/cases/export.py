"""xlsx export of a (scoped, filtered) case list. Reporter identities are masked; every export is
audited with the filter that produced it."""

from __future__ import annotations

import io
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from gridgov.common import clock
from gridgov.common.audit import audit_record
from gridgov.common.masking import mask_name, mask_phone

from . import sla
from .models import Case, Source, State, Urgency

MAX_ROWS = 50_000
COLUMNS = [
    ("案卷编号", 24),
    ("状态", 10),
    ("时限状态", 8),
    ("大类", 12),
    ("小类", 16),
    ("紧急程度", 8),
    ("来源", 12),
    ("问题描述", 50),
    ("地址", 30),
    ("所在网格", 26),
    ("承办中心", 18),
    ("主办单位", 24),
    ("上报人", 10),
    ("联系电话", 14),
    ("上报时间", 18),
    ("签收时限", 18),
    ("签收时间", 18),
    ("办结时限", 18),
    ("反馈时间", 18),
    ("结案时间", 18),
    ("满意度", 8),
    ("督办", 6),
]


def _t(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def export_xlsx(
    *, qs: QuerySet[Case], actor: Any, request: HttpRequest | None = None, filters: dict[str, Any]
) -> bytes:
    now = clock.now()
    wb = Workbook(write_only=False)
    ws = wb.active
    assert ws is not None
    ws.title = "案卷"
    ws.append([c for c, _ in COLUMNS])
    for i, (_, width) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B8322A")
    ws.freeze_panes = "A2"
    rows = 0
    colour_label = sla.COLOUR_LABELS
    for case in qs.select_related("category__parent", "region", "center", "department", "reporter")[:MAX_ROWS]:
        colour = sla.colour(case.deadline, case.warn_at, now) if case.is_open else ""
        parent = case.category.parent
        ws.append(
            [
                case.number,
                str(State(case.state).label),
                colour_label.get(colour, ""),
                parent.name if parent else case.category.name,
                case.category.name,
                str(Urgency(case.urgency).label),
                str(Source(case.source).label),
                case.description,
                case.address,
                case.region.name,
                case.center.name,
                case.department.name if case.department else "",
                case.reporter.label if case.reporter else mask_name(case.reporter_name),
                mask_phone(case.reporter_phone),
                _t(case.reported_at),
                _t(case.sign_deadline),
                _t(case.signed_at),
                _t(case.handle_deadline),
                _t(case.handled_at),
                _t(case.closed_at),
                case.satisfaction or "",
                "是" if case.supervised else "",
            ]
        )
        rows += 1
    out = io.BytesIO()
    wb.save(out)
    audit_record(
        actor=actor,
        action="cases.export",
        detail={"rows": rows, "filters": {k: str(v) for k, v in filters.items() if v not in (None, "")}},
        request=request,
    )
    return out.getvalue()
