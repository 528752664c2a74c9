"""xlsx templates, imports and exports for the registers.

Import is all-or-nothing: every row goes through the same service a form uses, each inside its
own savepoint so one bad row does not hide the next; if any row failed, the whole transaction is
rolled back and the caller gets a row-numbered error report. A person is never duplicated: the
services refuse a registered ID number (a moved-out person is moved in instead).

Export respects scope and masking: ID and phone numbers are masked unless a role that may reveal
asks for the full numbers with a reason; every export is audited (who, what, how many, why).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zipfile import BadZipFile

from django.db import models, transaction
from django.http import HttpRequest
from django.utils.translation import gettext_noop
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from gridgov.accounts.scope import Scope
from gridgov.common.audit import audit_record
from gridgov.common.errors import DomainError, PermissionRefused, ValidationFailed

from . import codes, permissions, selectors, services
from .models import HouseholdKind, Person
from .services.entities import ENTITIES

if TYPE_CHECKING:
    from gridgov.accounts.models import User

MAX_IMPORT_ROWS = 5000
MAX_EXPORT_ROWS = 50_000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    choices: Any = None  # TextChoices or list of (code, label)
    note: str = ""


PEOPLE_COLUMNS: list[Column] = [
    Column("house_code", "房屋编码", True, note="房屋详情页显示的编码"),
    Column("household_number", "户号", note="同一房屋、同一户号的行登记为一户；已有的户号则加入该户"),
    Column("household_kind", "户类别", choices=HouseholdKind),
    Column("relation", "与户主关系", True, choices=codes.Relation),
    Column("name", "姓名", True),
    Column("doc_type", "证件类型", choices=codes.DocumentType, note="默认 111 居民身份证"),
    Column("id_number", "证件号码", True),
    Column("gender", "性别", choices=codes.Gender, note="居民身份证可不填，由号码推出"),
    Column("birth_date", "出生日期", note="YYYY-MM-DD；居民身份证可不填"),
    Column("ethnicity", "民族", choices=codes.ETHNICITIES),
    Column("population_type", "人口类别", True, choices=codes.PopulationType),
    Column("phone", "联系电话"),
    Column("hukou_address", "户籍地详址"),
    Column("occupation", "职业"),
    Column("workplace", "服务处所"),
    Column("hukou_consistency", "人户一致标识", choices=codes.HukouConsistency),
    Column("inflow_reason", "流入原因", choices=codes.InflowReason),
    Column("residence_type", "住所类型", choices=codes.ResidenceType),
    Column("nationality", "国籍（地区）", note="境外人员填写 GB/T 2659 三字母代码"),
    Column("foreign_name", "外文姓名"),
    Column("moved_in_on", "入住日期", note="YYYY-MM-DD，默认今天"),
]


def _entity_columns(entity: str) -> list[Column]:
    spec = ENTITIES[entity]
    cols = [Column("region_code", "微网格代码", note="与经纬度二选一")]
    for name in spec.fields:
        if name == "geometry":
            continue
        f: Any = spec.model._meta.get_field(name)
        required = not f.blank and not f.has_default() and not isinstance(f, models.BooleanField)
        cols.append(Column(name, str(f.verbose_name), required, choices=f.choices or None))
    cols += [Column("lng", "经度"), Column("lat", "纬度")]
    return cols


REGISTERS: dict[str, str] = {"people": gettext_noop("实有人口"), **{k: s.label for k, s in ENTITIES.items()}}


def columns_for(register: str) -> list[Column]:
    if register == "people":
        return PEOPLE_COLUMNS
    if register in ENTITIES:
        return _entity_columns(register)
    raise ValidationFailed(f"未知登记类别 {register!r}", field="register")


def _choice_pairs(choices: Any) -> list[tuple[str, str]]:
    if choices is None:
        return []
    if isinstance(choices, list):
        return [(str(c), str(label)) for c, label in choices]
    return [(str(c), str(label)) for c, label in choices.choices]


HEADER_FILL = PatternFill("solid", fgColor="FBE7E7")


def template_workbook(register: str) -> bytes:
    cols = columns_for(register)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = REGISTERS[register]
    for i, col in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=i, value=col.header + ("*" if col.required else ""))
        cell.font = Font(bold=True, color="B8322A" if col.required else "1D2B3A")
        if col.required:
            cell.fill = HEADER_FILL
        ws.column_dimensions[cell.column_letter].width = max(12, len(col.header) * 2 + 4)
    guide = wb.create_sheet("填写说明")
    guide.append(["列", "必填", "说明", "可填代码（代码或名称均可）"])
    for col in cols:
        pairs = "；".join(f"{c} {label}" for c, label in _choice_pairs(col.choices))
        guide.append([col.header, "是" if col.required else "", col.note, pairs])
    guide.column_dimensions["C"].width = 50
    guide.column_dimensions["D"].width = 90
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportReport:
    register: str
    rows: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "register_key": self.register,
            "rows": self.rows,
            "created": self.created,
            "ok": self.ok,
            "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in self.errors],
        }


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return str(value)
    if value is None:
        return ""
    return str(value).strip()


def _code(value: Any, choices: Any) -> Any:
    """Accept '02', '户主' or '02 户主' for a coded column."""
    if not isinstance(value, str) or not value or choices is None:
        return value
    pairs = _choice_pairs(choices)
    head = value.split()[0]
    for code, label in pairs:
        if value in (code, label) or head == code:
            return code
    return value


def read_rows(register: str, content: bytes) -> tuple[list[Column], list[tuple[int, dict[str, Any]]]]:
    cols = columns_for(register)
    by_header = {c.header: c for c in cols}
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ValidationFailed("无法读取文件：请上传由模板填写的 .xlsx 文件", field="file") from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise ValidationFailed("文件是空的", field="file")
    mapping: dict[int, Column] = {}
    unknown = []
    for i, title in enumerate(header):
        text = str(title or "").strip().rstrip("*")
        if not text:
            continue
        if text in by_header:
            mapping[i] = by_header[text]
        else:
            unknown.append(text)
    missing = [c.header for c in cols if c.required and c not in mapping.values()]
    if missing or unknown:
        msgs = [f"缺少必填列：{'、'.join(missing)}"] if missing else []
        msgs += [f"无法识别的列：{'、'.join(unknown)}"] if unknown else []
        raise ValidationFailed("表头与模板不一致：" + "；".join(msgs), field="file", rule="registers.import_header")
    out: list[tuple[int, dict[str, Any]]] = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v in (None, "") for v in values):
            continue
        data = {
            col.key: _code(_cell(values[i] if i < len(values) else None), col.choices) for i, col in mapping.items()
        }
        out.append((number, data))
        if len(out) > MAX_IMPORT_ROWS:
            raise ValidationFailed(f"一次最多导入{MAX_IMPORT_ROWS}行，请分批导入", field="file")
    wb.close()
    return cols, out


def import_workbook(*, actor: User, register: str, content: bytes, request: HttpRequest | None = None) -> ImportReport:
    scope = Scope.for_user(actor)
    if not permissions.can_write(scope):
        raise PermissionRefused("您的角色不能导入登记数据", rule="registers.write")
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed("文件不能超过10MB", field="file")
    cols, rows = read_rows(register, content)
    report = ImportReport(register=register, rows=len(rows))
    if not rows:
        report.errors.append(RowError(1, "", "文件中没有数据行"))
        return report
    headers = {c.key: c.header for c in cols}
    with transaction.atomic():
        if register == "people":
            _import_people(actor, scope, rows, headers, report)
        else:
            _import_entities(actor, register, rows, headers, report)
        if report.errors:
            transaction.set_rollback(True)
            report.created = 0
        else:
            audit_record(
                actor=actor,
                action="registers.imported",
                detail={"register": register, "rows": report.rows, "created": report.created},
                request=request,
                region_path=scope.path or "",
            )
    report.errors.sort(key=lambda e: (e.row, e.column))
    return report


def _report(
    report: ImportReport, row: int, exc: DomainError, headers: dict[str, str], prefix_map: dict[str, int] | None = None
) -> None:
    if not exc.errors:
        report.errors.append(RowError(row, "", exc.message))
        return
    for key, messages in exc.errors.items():
        target_row, name = row, key
        if prefix_map and key.startswith("members."):
            _, index, *rest = key.split(".", 2)
            target_row = prefix_map.get(index, row)
            name = rest[0] if rest else ""
        column = headers.get(name, "" if name in ("members", "__all__") else name)
        for message in messages:
            report.errors.append(RowError(target_row, column, message))


def _import_people(
    actor: User, scope: Scope, rows: list[tuple[int, dict[str, Any]]], headers: dict[str, str], report: ImportReport
) -> None:
    groups: OrderedDict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = OrderedDict()
    for number, data in rows:
        groups.setdefault((str(data.get("house_code") or ""), str(data.get("household_number") or "")), []).append(
            (number, data)
        )
    for (house_code, household_number), members in groups.items():
        first_row = members[0][0]
        if not house_code:
            for number, _ in members:
                report.errors.append(RowError(number, headers["house_code"], "请填写房屋编码"))
            continue
        house = selectors.house_by_code(scope=scope, code=house_code)
        if house is None:
            for number, _ in members:
                report.errors.append(
                    RowError(number, headers["house_code"], f"房屋编码 {house_code} 不存在或不在您的辖区内")
                )
            continue
        person_rows = []
        for number, data in members:
            person = {
                k: v
                for k, v in data.items()
                if k not in ("house_code", "household_number", "household_kind") and v != ""
            }
            person_rows.append((number, person))
        kinds = {str(d.get("household_kind") or HouseholdKind.RESIDENT) for _, d in members}
        existing = house.households.filter(number=household_number).first() if household_number else None
        try:
            with transaction.atomic():
                if existing is not None:
                    for number, person in person_rows:
                        try:
                            with transaction.atomic():
                                services.person_register(actor=actor, house=house, household=existing, data=person)
                                report.created += 1
                        except DomainError as exc:
                            _report(report, number, exc, headers)
                else:
                    if len(kinds) > 1:
                        report.errors.append(RowError(first_row, headers["household_kind"], "同一户的户类别应一致"))
                        continue
                    services.household_register(
                        actor=actor,
                        house=house,
                        kind=kinds.pop(),
                        number=household_number,
                        members=[p for _, p in person_rows],
                    )
                    report.created += len(person_rows)
        except DomainError as exc:
            _report(report, first_row, exc, headers, prefix_map={str(i): n for i, (n, _) in enumerate(person_rows)})


def _import_entities(
    actor: User, register: str, rows: list[tuple[int, dict[str, Any]]], headers: dict[str, str], report: ImportReport
) -> None:
    for number, data in rows:
        payload = {k: v for k, v in data.items() if v != ""}
        try:
            with transaction.atomic():
                services.entity_create(actor=actor, entity=register, data=payload)
                report.created += 1
        except DomainError as exc:
            _report(report, number, exc, headers)


# --- export ------------------------------------------------------------------------------------
def _label(choices: Any, value: Any) -> str:
    for code, label in _choice_pairs(choices):
        if code == value:
            return f"{code} {label}"
    return "" if value in (None, "") else str(value)


def export_workbook(
    *,
    actor: User,
    register: str,
    rows: Iterable[Any],
    filters: dict[str, Any],
    reveal: bool = False,
    reason: str = "",
    request: HttpRequest | None = None,
) -> bytes:
    """Write the selected rows (already scoped by the caller's selector) to xlsx and audit it."""
    scope = Scope.for_user(actor)
    reason = (reason or "").strip()
    if reveal:
        if register != "people":
            raise ValidationFailed("该登记类别没有需要脱敏的信息", field="reveal")
        if not permissions.can_reveal(scope):
            raise PermissionRefused("您的角色不能导出完整证件号码和电话", rule="registers.reveal")
        if len(reason) < 4:
            raise ValidationFailed("导出完整号码须说明原因（至少4个字）", field="reason")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(REGISTERS.get(register, register))
    count = 0
    with transaction.atomic():
        if register == "people":
            ws.append(
                [
                    "姓名",
                    "性别",
                    "出生日期",
                    "证件类型",
                    "证件号码",
                    "联系电话",
                    "人口类别",
                    "状态",
                    "所属网格",
                    "房屋编码",
                    "现住址",
                    "与户主关系",
                    "入住日期",
                    "迁出日期",
                ]
            )
            for p in rows:
                if count >= MAX_EXPORT_ROWS:
                    break
                ws.append(_person_row(p, reveal))
                count += 1
        else:
            spec = ENTITIES[register]
            names = [n for n in spec.fields if n != "geometry"]
            fields: list[Any] = [spec.model._meta.get_field(n) for n in names]
            ws.append(["所属网格", *[str(f.verbose_name) for f in fields], "经度", "纬度"])
            for obj in rows:
                if count >= MAX_EXPORT_ROWS:
                    break
                values = [
                    _label(f.choices, getattr(obj, f.name)) if f.choices else _plain(getattr(obj, f.name))
                    for f in fields
                ]
                ws.append([obj.region.name, *values, obj.lng, obj.lat])
                count += 1
        audit_record(
            actor=actor,
            action="registers.exported_unmasked" if reveal else "registers.exported",
            reason=reason,
            detail={"register": register, "rows": count, "filters": filters, "masked": not reveal},
            request=request,
            region_path=scope.path or "",
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _person_row(p: Person, reveal: bool) -> list[Any]:
    house = p.house
    return [
        p.name,
        p.get_gender_display(),
        p.birth_date.isoformat() if p.birth_date else "",
        p.get_doc_type_display(),
        p.id_number if reveal else p.id_masked,
        p.phone if reveal else p.phone_masked,
        p.get_population_type_display(),
        p.get_status_display(),
        p.region.name,
        house.code if house else "",
        str(house) if house else "",
        p.get_relation_display(),
        p.moved_in_on.isoformat() if p.moved_in_on else "",
        p.moved_out_on.isoformat() if p.moved_out_on else "",
    ]


def export_people_queryset(qs: Any, *, reveal: bool) -> Any:
    """Masked exports never load the sealed columns (nothing to decrypt, nothing to leak)."""
    if reveal:
        return qs
    return qs.defer("id_number", "phone")
