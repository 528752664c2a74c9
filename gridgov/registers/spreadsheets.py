"""xlsx templates, imports and exports for the registers.

Import is all-or-nothing: every row is checked by the same rules a form uses, and every problem
of every row comes back in a row-numbered report; if any row failed, nothing is written. People go
through the registers' batch service (`services.people_import`: the checks of
`household_register`/`person_register`, then set-based writes); other registers go row by row
through their service, each inside its own savepoint so one bad row does not hide the next. A
person is never duplicated: a registered ID number is refused (a moved-out person is moved in).

The workbook is opened with openpyxl in read-only mode, but the sheet's rows are parsed here
(`sheet_rows`, expat callbacks): openpyxl's per-cell objects cost more than the import's checks.

Export respects scope and masking: ID and phone numbers are masked unless a role that may reveal
asks for the full numbers with a reason; every export is audited (who, what, how many, why).
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from xml.parsers import expat
from zipfile import BadZipFile

from django.db import models, transaction
from django.http import HttpRequest
from django.utils.translation import gettext_noop
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.utils.exceptions import InvalidFileException

from gridgov.accounts.scope import Scope
from gridgov.common.audit import audit_record
from gridgov.common.errors import DomainError, PermissionRefused, ValidationFailed

from . import codes, permissions, services
from .models import HouseholdKind, Person
from .services.entities import ENTITIES

if TYPE_CHECKING:
    from gridgov.accounts.models import User

MAX_IMPORT_ROWS = 5000  # registers imported row by row (places, organisations, …)
MAX_PEOPLE_IMPORT_ROWS = 50_000  # residents go through the batch service
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
    # Seconds per phase (parse, validate, seal, write) for benchmarks; not part of the answer.
    timings: dict[str, float] = field(default_factory=dict)

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
    if type(value) is str:
        return value.strip()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return str(value)
    if value is None:
        return ""
    return str(value).strip()


class _Codes:
    """Accept '02', '户主' or '02 户主' for a coded column: the first code (in the code table's
    order) that equals the value, whose label equals it, or that equals its first word."""

    def __init__(self, choices: Any) -> None:
        self.rank: dict[str, tuple[int, str]] = {}
        self.by_code: dict[str, tuple[int, str]] = {}
        for i, (code, label) in enumerate(_choice_pairs(choices)):
            self.rank.setdefault(code, (i, code))
            self.rank.setdefault(label, (i, code))
            self.by_code.setdefault(code, (i, code))
        self.seen: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value
        known = self.seen.get(value)
        if known is None:
            matches = [m for m in (self.rank.get(value), self.by_code.get(value.split()[0])) if m is not None]
            known = min(matches)[1] if matches else value
            if len(self.seen) < 1000:
                self.seen[value] = known
        return known


def _code(value: Any, choices: Any) -> Any:
    """Accept '02', '户主' or '02 户主' for a coded column."""
    if choices is None:
        return value
    return _Codes(choices)(value)


_MAIN_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # strict OOXML
)


def _tags(name: str) -> frozenset[str]:
    return frozenset(f"{ns} {name}" for ns in _MAIN_NS)


_ROW, _CELL, _VALUE, _TEXT, _INLINE, _PHONETIC = (_tags(n) for n in ("row", "c", "v", "t", "is", "rPh"))
_COLUMN_INDEX: dict[str, int] = {}


def _column(ref: str) -> int:
    letters = ref.rstrip("0123456789")
    index = _COLUMN_INDEX.get(letters)
    if index is None:
        index = 0
        for ch in letters:
            index = index * 26 + ord(ch) - 64
        _COLUMN_INDEX[letters] = index
    return index


def _refuse_dtd(*_args: Any) -> None:
    raise ValueError("a worksheet has no DTD")


class _SheetReader:
    """expat callbacks that turn a worksheet's XML into rows of cell values."""

    def __init__(self, wb: Any) -> None:
        ws = wb.worksheets[0]
        self.open = ws._get_source
        self.shared: list[Any] = ws._shared_strings
        self.date_styles: set[int] = wb._date_formats
        self.timedelta_styles: set[int] = wb._timedelta_formats
        self.epoch = wb.epoch
        self.done: list[tuple[int, list[Any]]] = []
        self.number = 0
        self.values: list[Any] = []
        self.column = 0
        self.kind = "n"
        self.style: str | None = None
        self.raw = ""
        self.parts: list[str] = []  # a cell's inline text
        self.text: list[str] | None = None  # where character data goes, if anywhere
        self.inline = self.phonetic = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name in _CELL:
            ref = attrs.get("r")
            self.column = _column(ref) if ref else self.column + 1
            self.kind = attrs.get("t", "n")
            self.style = attrs.get("s")
            self.raw = ""
            self.inline = False
        elif name in _VALUE:
            self.text = []
        elif name in _TEXT:
            if self.inline and not self.phonetic:
                self.text = self.parts
        elif name in _INLINE:
            self.inline = True
            self.parts = []
        elif name in _PHONETIC:
            self.phonetic = True
        elif name in _ROW:
            r = attrs.get("r")
            self.number = int(float(r)) if r else self.number + 1
            self.values = []
            self.column = 0

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def end(self, name: str) -> None:
        if name in _CELL:
            values = self.values
            if self.column > len(values) + 1:
                values.extend([None] * (self.column - 1 - len(values)))
            values.append(self._value())
        elif name in _VALUE:
            self.raw = "".join(self.text or ())
            self.text = None
        elif name in _TEXT:
            self.text = None
        elif name in _PHONETIC:
            self.phonetic = False
        elif name in _ROW:
            self.done.append((self.number, self.values))

    def _value(self) -> Any:
        kind, raw = self.kind, self.raw
        if kind == "inlineStr":
            return "".join(self.parts) if self.inline else None
        if not raw:
            return None
        if kind == "s":
            return self.shared[int(raw)]
        if kind == "n":
            value: Any = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
            style = int(self.style) if self.style else 0
            if style in self.date_styles:
                try:
                    return from_excel(value, self.epoch, timedelta=style in self.timedelta_styles)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return value
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            return from_ISO8601(raw)
        return raw  # "str" (a formula's text result), "e" (an error such as #N/A)


def sheet_rows(wb: Any) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values from column A) of the first sheet of a workbook opened with
    `load_workbook(read_only=True, data_only=True)`: the values `iter_rows(values_only=True)`
    gives (shared and inline strings, numbers, dates by number format, booleans, cached formula
    results), parsed with expat callbacks instead of a cell object per cell — four times faster.
    Rows without cells are skipped; a row's list ends at its last cell.
    `tests/registers/test_import_batch.py` checks it against openpyxl."""
    reader = _SheetReader(wb)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.chars
    with reader.open() as src:
        while chunk := src.read(1 << 16):
            parser.Parse(chunk, False)
            if reader.done:
                yield from reader.done
                reader.done = []
        parser.Parse(b"", True)
    yield from reader.done


def read_rows(register: str, content: bytes) -> tuple[list[Column], list[tuple[int, dict[str, Any]]]]:
    cols = columns_for(register)
    limit = MAX_PEOPLE_IMPORT_ROWS if register == "people" else MAX_IMPORT_ROWS
    by_header = {c.header: c for c in cols}
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        rows = sheet_rows(wb)
        first = next(rows, None)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError, IndexError, expat.ExpatError) as exc:
        raise ValidationFailed("无法读取文件：请上传由模板填写的 .xlsx 文件", field="file") from exc
    header = first[1] if first is not None and first[0] == 1 else None
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
    readers = [(i, col.key, _Codes(col.choices) if col.choices is not None else None) for i, col in mapping.items()]
    out: list[tuple[int, dict[str, Any]]] = []
    try:
        for number, values in rows:
            if not any(values) and all(v is None or v == "" for v in values):  # 0 and False are values
                continue
            width = len(values)
            data = {}
            for i, key, code in readers:
                value = values[i] if i < width else None
                if value is None:
                    data[key] = ""
                    continue
                value = _cell(value)
                data[key] = code(value) if code is not None else value
            out.append((number, data))
            if len(out) > limit:
                raise ValidationFailed(f"一次最多导入{limit}行，请分批导入", field="file")
    except (KeyError, ValueError, IndexError, expat.ExpatError) as exc:
        raise ValidationFailed("无法读取文件：请上传由模板填写的 .xlsx 文件", field="file") from exc
    finally:
        wb.close()
    return cols, out


def import_workbook(*, actor: User, register: str, content: bytes, request: HttpRequest | None = None) -> ImportReport:
    scope = Scope.for_user(actor)
    if not permissions.can_write(scope):
        raise PermissionRefused("您的角色不能导入登记数据", rule="registers.write")
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed("文件不能超过10MB", field="file")
    started = time.perf_counter()
    cols, rows = read_rows(register, content)
    report = ImportReport(register=register, rows=len(rows), timings={"parse": time.perf_counter() - started})
    if not rows:
        report.errors.append(RowError(1, "", "文件中没有数据行"))
        return report
    headers = {c.key: c.header for c in cols}
    with transaction.atomic():
        if register == "people":
            _import_people(actor, rows, headers, report)
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


def _report(report: ImportReport, row: int, exc: DomainError, headers: dict[str, str]) -> None:
    """Row errors of a service refusal: `rows.<line>.<field>` keys (the batch service) carry
    their own line; other keys are fields of `row`."""
    if not exc.errors:
        report.errors.append(RowError(row, "", exc.message))
        return
    for key, messages in exc.errors.items():
        target_row, name = row, key
        if key.startswith("rows."):
            _, line, name = key.split(".", 2)
            target_row = int(line)
        column = headers.get(name, "" if name in ("members", "__all__") else name)
        for message in messages:
            report.errors.append(RowError(target_row, column, message))


def _import_people(
    actor: User, rows: list[tuple[int, dict[str, Any]]], headers: dict[str, str], report: ImportReport
) -> None:
    try:
        report.created = services.people_import(actor=actor, rows=rows, timings=report.timings)
    except DomainError as exc:
        _report(report, rows[0][0], exc, headers)


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
