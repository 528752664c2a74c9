"""12345 / 110 work orders → cases, idempotent by the external order number.

The first delivery of an order creates the case (source 12345 or 110) through
cases.services.case_report and records external_system + external_id → case (unique). A
re-delivery with the same content changes nothing; one with changed content (a supplement, an
urge) adds an internal timeline note to the case. Status and replies travel back through the
outbox when the case changes state (signals.py, clients.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from gridgov.cases import config
from gridgov.cases import services as case_services
from gridgov.cases.models import Case, CaseCategory, Source, Urgency
from gridgov.cases.routing import suggest_category
from gridgov.common import clock
from gridgov.common.errors import DomainError, PermissionRefused, ValidationFailed
from gridgov.regions.models import Level, Region

from ..models import ExternalOrder, ExternalSystem, HotlineChannel
from ..notes import integration_note

FALLBACK_CATEGORY = "9999"
URGENCY_NAMES = {"一般": Urgency.NORMAL, "紧急": Urgency.URGENT, "特急": Urgency.CRITICAL}
SOURCES = {ExternalSystem.HOTLINE_12345: Source.HOTLINE_12345, ExternalSystem.POLICE_110: Source.POLICE_110}
MAX_IMPORT_ROWS = 5000

# xlsx header (Chinese, as the hotline platform exports it) → order field.
COLUMNS: dict[str, str] = {
    "工单编号": "order_no",
    "标题": "title",
    "诉求内容": "content",
    "事件类别编码": "category_code",
    "事件类别": "category",
    "紧急程度": "urgency",
    "地址": "address",
    "纬度": "lat",
    "经度": "lng",
    "网格编码": "grid_code",
    "来电人": "caller_name",
    "来电号码": "caller_phone",
}


@dataclass
class OrderInput:
    order_no: str
    content: str
    title: str = ""
    category_code: str = ""
    category: str = ""
    urgency: str = Urgency.NORMAL
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    grid_code: str = ""
    caller_name: str = ""
    caller_phone: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        canonical = {k: v for k, v in self.__dict__.items() if k != "raw"}
        return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class OrderResult:
    result: str  # created | updated | unchanged
    order: ExternalOrder
    case: Case


def _str(data: dict[str, Any], name: str, limit: int, errors: dict[str, list[str]]) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into a spreadsheet cell
    if not isinstance(value, (str, int)):
        errors[name] = ["应为文本"]
        return ""
    text = str(value).strip()
    if len(text) > limit:
        errors[name] = [f"不能超过 {limit} 字"]
    return text


def _float(data: dict[str, Any], name: str, errors: dict[str, list[str]]) -> float | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors[name] = ["应为数字"]
        return None
    if number != number:
        errors[name] = ["应为数字"]
        return None
    return number


def parse_order(data: Any) -> OrderInput:
    """Validate one order (a JSON object or a spreadsheet row) or raise ValidationFailed."""
    if not isinstance(data, dict):
        raise ValidationFailed("工单应为 JSON 对象", rule="hotline.order.shape")
    errors: dict[str, list[str]] = {}
    order_no = _str(data, "order_no", 64, errors)
    if not order_no and "order_no" not in errors:
        errors["order_no"] = ["缺少工单编号"]
    content = _str(data, "content", 3800, errors)
    if len(content) < case_services.DESCRIPTION_MIN and "content" not in errors:
        errors["content"] = [f"诉求内容至少 {case_services.DESCRIPTION_MIN} 个字"]
    urgency_raw = _str(data, "urgency", 16, errors) or Urgency.NORMAL
    urgency = URGENCY_NAMES.get(urgency_raw, urgency_raw)
    if urgency not in Urgency.values:
        errors["urgency"] = ["紧急程度应为 一般/紧急/特急（normal/urgent/critical）"]
    lat, lng = _float(data, "lat", errors), _float(data, "lng", errors)
    grid_code = _str(data, "grid_code", 24, errors)
    address = _str(data, "address", 200, errors)
    if (lat is None) != (lng is None):
        errors["location"] = ["经纬度须同时提供"]
    elif lat is None and not grid_code:
        errors["location"] = ["须提供经纬度（lat/lng）或网格编码（grid_code）"]
    order = OrderInput(
        order_no=order_no,
        content=content,
        title=_str(data, "title", 200, errors),
        category_code=_str(data, "category_code", 8, errors),
        category=_str(data, "category", 100, errors),
        urgency=urgency,
        address=address,
        lat=lat,
        lng=lng,
        grid_code=grid_code,
        caller_name=_str(data, "caller_name", 50, errors),
        caller_phone=_str(data, "caller_phone", 20, errors),
        raw={k: v for k, v in data.items() if isinstance(k, str)},
    )
    if errors:
        raise ValidationFailed("工单内容有误", errors=errors)
    return order


def _category(order: OrderInput) -> CaseCategory:
    if order.category_code:
        # The category table from the process cache (cases.config), as intake reads it.
        snap = config.snapshot()
        cat = snap.category_by_code(order.category_code)
        if cat is None or not cat.is_active or not snap.is_leaf(cat.pk):
            raise ValidationFailed(f"事件类别编码 {order.category_code} 不存在或不是小类", field="category_code")
        return cat  # type: ignore[no-any-return]
    # The hotline's own classification differs from ours: classify its label and the content.
    suggestions = suggest_category(f"{order.category} {order.title} {order.content}", k=1)
    if suggestions and not suggestions[0].category.children.exists():
        return suggestions[0].category
    return CaseCategory.objects.get(code=FALLBACK_CATEGORY)


def _place(order: OrderInput, channel: HotlineChannel) -> Region:
    if order.lat is not None and order.lng is not None:
        located = case_services.locate_point(order.lat, order.lng)
        if located is None:
            raise ValidationFailed(case_services.LOCATION_OUTSIDE, field="location")
        place = located
    else:
        found = Region.objects.filter(code=order.grid_code, level__in=[Level.GRID, Level.MICROGRID]).first()
        if found is None:
            raise ValidationFailed(f"网格编码 {order.grid_code} 不存在", field="grid_code")
        place = found
    if not place.path.startswith(channel.jurisdiction.path):
        raise PermissionRefused(
            f"工单位置不在「{channel.name}」的辖区（{channel.jurisdiction.name}）内", rule="hotline.jurisdiction"
        )
    return place


def _description(order: OrderInput, system: str) -> str:
    head = f"【{system} 工单 {order.order_no}】" + (order.title or "")
    return f"{head}\n{order.content}"


@transaction.atomic
def order_upsert(*, channel: HotlineChannel, order: OrderInput, now: dt.datetime | None = None) -> OrderResult:
    now = now or clock.now()
    if not channel.is_active:
        raise PermissionRefused("该接入已停用", rule="hotline.inactive")
    # The lock serialises deliveries of one order: two at once never create two cases.
    existing = (
        ExternalOrder.objects.select_for_update()
        .select_related("case")
        .filter(system=channel.system, external_id=order.order_no)
        .first()
    )
    fingerprint = order.fingerprint()
    if existing is not None:
        changed = existing.payload_sha256 != fingerprint
        existing.deliveries += 1
        existing.updated_at = now
        if changed:
            integration_note(
                case=existing.case,
                unit=str(ExternalSystem(channel.system).label),
                text=f"工单 {order.order_no} 更新：{order.title}\n{order.content}".strip()[:2000],
                detail={"order_no": order.order_no, "urgency": order.urgency, "delivery": existing.deliveries},
                now=now,
            )
            existing.payload_sha256 = fingerprint
        existing.save(update_fields=["deliveries", "updated_at", "payload_sha256"])
        return OrderResult("updated" if changed else "unchanged", existing, existing.case)
    place = _place(order, channel)
    category = _category(order)
    has_point = order.lat is not None
    case = case_services.case_report(
        actor=None,
        source=SOURCES[ExternalSystem(channel.system)],
        category=category,
        description=_description(order, channel.system),
        urgency=order.urgency,
        lat=order.lat if has_point else None,
        lng=order.lng if has_point else None,
        region=None if has_point else place,
        address=order.address or ("" if has_point else place.name),
        reporter_name=order.caller_name,
        reporter_phone=order.caller_phone,
        now=now,
    )
    try:
        with transaction.atomic():
            mapping = ExternalOrder.objects.create(
                system=channel.system,
                external_id=order.order_no,
                channel=channel,
                case=case,
                payload_sha256=fingerprint,
                received_at=now,
                updated_at=now,
            )
    except IntegrityError:
        # Another delivery of the same order won the race (no row to lock yet); ours rolls back.
        raise case_services.InvalidTransition(
            f"工单 {order.order_no} 正在被另一请求处理，请重试", rule="hotline.order.race"
        ) from None
    return OrderResult("created", mapping, case)


# --- batch delivery (machine feeds) ---------------------------------------------------------------------------

MAX_BATCH_ORDERS = 500


@dataclass(frozen=True)
class BatchItem:
    index: int
    order_no: str
    result: str  # created | updated | unchanged | refused
    case_number: str = ""
    status: int = 200
    error: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "order_no": self.order_no, "result": self.result}
        if self.case_number:
            out["case_number"] = self.case_number
        if self.error is not None:
            out["status"] = self.status
            out["error"] = self.error
        return out


def orders_receive(*, channel: HotlineChannel, items: Any, now: dt.datetime | None = None) -> list[BatchItem]:
    """Many orders in one delivery (a feed catching up, a platform pushing every few seconds).

    Each order is handled exactly as a single delivery (`order_upsert`: its own transaction,
    idempotent by order number) so one bad order never holds back the others; the answer says per
    order what happened, and a feed re-sends only the refused ones. Configuration (categories,
    centres, regions) is read once for the whole batch (cases.config). An order number twice in
    one batch: the second is refused."""
    from gridgov.cases import config

    if not isinstance(items, list):
        raise ValidationFailed("批量工单应为 JSON 数组", rule="hotline.batch.shape")
    if not items:
        raise ValidationFailed("批量工单为空", rule="hotline.batch.empty")
    if len(items) > MAX_BATCH_ORDERS:
        raise ValidationFailed(f"一次最多 {MAX_BATCH_ORDERS} 张工单", rule="hotline.batch.size")
    out: list[BatchItem] = []
    seen: dict[str, int] = {}
    with config.use(config.snapshot()):
        for index, data in enumerate(items):
            order_no = str(data.get("order_no", ""))[:64] if isinstance(data, dict) else ""
            try:
                order = parse_order(data)
                if order.order_no in seen:
                    raise ValidationFailed(
                        f"与第 {seen[order.order_no]} 张工单编号重复", field="order_no", rule="hotline.batch.duplicate"
                    )
                seen[order.order_no] = index
                result = order_upsert(channel=channel, order=order, now=now)
            except DomainError as exc:
                out.append(BatchItem(index, order_no, "refused", status=exc.status, error=exc.as_dict()))
                continue
            out.append(BatchItem(index, order.order_no, result.result, case_number=result.case.number))
    return out


# --- xlsx batch import -------------------------------------------------------------------------------------


@dataclass
class RowError:
    row: int
    messages: list[str]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    pass


def _messages(exc: DomainError) -> list[str]:
    labels = {v: k for k, v in COLUMNS.items()}
    out = [f"{labels.get(f, f)}：{m}" for f, msgs in exc.errors.items() for m in msgs]
    return out or [exc.message]


def read_xlsx(content: bytes) -> list[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a non-xlsx upload
        raise ValidationFailed("文件不是有效的 xlsx 表格", field="file") from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise ValidationFailed("表格为空", field="file")
    names = [str(h).strip() if h is not None else "" for h in header]
    fields = [COLUMNS.get(n, n if n in COLUMNS.values() else "") for n in names]
    if "order_no" not in fields or "content" not in fields:
        raise ValidationFailed("表头须包含「工单编号」和「诉求内容」", field="file")
    out: list[tuple[int, dict[str, Any]]] = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v in (None, "") for v in values):
            continue
        out.append((number, {f: v for f, v in zip(fields, values, strict=False) if f}))
        if len(out) > MAX_IMPORT_ROWS:
            raise ValidationFailed(f"一次最多导入 {MAX_IMPORT_ROWS} 行", field="file")
    wb.close()
    return out


def orders_import_xlsx(*, channel: HotlineChannel, content: bytes, now: dt.datetime | None = None) -> ImportReport:
    """All or nothing: every row is validated and applied in one transaction; any row error rolls
    everything back and the report names each bad row by its spreadsheet row number."""
    now = now or clock.now()
    rows = read_xlsx(content)
    report = ImportReport()
    seen: dict[str, int] = {}
    try:
        with transaction.atomic():
            for number, data in rows:
                try:
                    order = parse_order(data)
                    if order.order_no in seen:
                        raise ValidationFailed(f"与第 {seen[order.order_no]} 行工单编号重复", field="order_no")
                    seen[order.order_no] = number
                    with transaction.atomic():
                        result = order_upsert(channel=channel, order=order, now=now)
                except DomainError as exc:
                    report.errors.append(RowError(number, _messages(exc)))
                    continue
                setattr(report, result.result, getattr(report, result.result) + 1)
            if report.errors:
                raise _Rollback
    except _Rollback:
        report.created = report.updated = report.unchanged = 0
    return report
