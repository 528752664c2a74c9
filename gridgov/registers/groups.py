"""Special groups (特殊人群) and key youth (重点青少年): each group's own fields, its risk scale,
and the default visit frequencies (走访频次) that `VisitRule` rows override.

Field lists follow the data items implementations transcribe from GB/T 31000 (standards.md §1.4),
trimmed to what a grid worker collects; codes come from `codes`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import models

from gridgov.common.errors import ValidationFailed

from . import codes
from .codes import AttentionLevel, GroupKind


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: str  # "code" | "date" | "bool" | "text"
    choices: type[models.TextChoices] | None = None
    required: bool = False
    max_length: int = 120


GROUP_FIELDS: dict[str, list[FieldSpec]] = {
    GroupKind.RELEASED: [
        FieldSpec("crime_category", "原罪名", "code", codes.CrimeCategory, required=True),
        FieldSpec("sentence", "原判刑期", "text", max_length=40),
        FieldSpec("prison", "服刑场所", "text"),
        FieldSpec("release_date", "释放日期", "date", required=True),
        FieldSpec("is_recidivist", "是否累犯", "bool"),
        FieldSpec("handover", "衔接情况", "code", codes.Handover),
        FieldSpec("handover_date", "衔接日期", "date"),
        FieldSpec("placement", "安置情况", "code", codes.Placement),
        FieldSpec("reoffended", "是否重新犯罪", "bool"),
    ],
    GroupKind.CORRECTION: [
        FieldSpec("correction_no", "社区矫正人员编号", "text", max_length=40),
        FieldSpec("correction_category", "矫正类别", "code", codes.CorrectionCategory, required=True),
        FieldSpec("crime", "具体罪名", "text", max_length=60),
        FieldSpec("start_date", "矫正开始日期", "date", required=True),
        FieldSpec("end_date", "矫正结束日期", "date", required=True),
        FieldSpec("receive_mode", "接收方式", "code", codes.ReceiveMode),
        FieldSpec("has_team", "是否建立矫正小组", "bool"),
        FieldSpec("lost_supervision", "是否脱管", "bool"),
    ],
    GroupKind.MENTAL: [
        FieldSpec("diagnosis", "目前诊断类型", "code", codes.Diagnosis, required=True),
        FieldSpec("treatment", "治疗情况", "code", codes.Treatment),
        FieldSpec("first_onset", "初次发病日期", "date"),
        FieldSpec("incident_history", "有无肇祸史", "bool"),
        FieldSpec("guardian_name", "监护人姓名", "text", max_length=30),
        FieldSpec("subsistence", "是否纳入低保", "bool"),
        FieldSpec("hospital", "治疗医院名称", "text"),
    ],
    GroupKind.DRUG: [
        FieldSpec("control_status", "管控情况", "code", codes.DrugControl, required=True),
        FieldSpec("first_found", "初次发现日期", "date"),
        FieldSpec("criminal_record", "是否有犯罪史", "bool"),
        FieldSpec("controller_name", "管控人姓名", "text", max_length=30),
    ],
    GroupKind.HIV: [
        FieldSpec("infection_route", "感染途径", "code", codes.InfectionRoute, required=True),
        FieldSpec("admission", "收治情况", "code", codes.Admission),
        FieldSpec("criminal_record", "是否有犯罪史", "bool"),
        FieldSpec("institution", "收治机构名称", "text"),
    ],
    GroupKind.YOUTH: [
        FieldSpec("youth_type", "人员类型", "code", codes.YouthType, required=True),
        FieldSpec("family_situation", "家庭情况", "code", codes.FamilySituation),
        FieldSpec("guardian_name", "监护人姓名", "text", max_length=30),
        FieldSpec("guardian_relation", "与监护人关系", "text", max_length=20),
        FieldSpec("help_measure", "帮扶手段", "code", codes.HelpMeasure),
        FieldSpec("offended", "是否违法犯罪", "bool"),
    ],
}

# The group's own risk scale, where GB/T 31000 has one.
RISK_TABLES: dict[str, type[models.TextChoices]] = {
    GroupKind.RELEASED: codes.ReleaseRiskType,
    GroupKind.MENTAL: codes.MentalRiskGrade,
}

# Days between visits. High attention: every week; 严重精神障碍 follows the national basic
# public-health follow-up rhythm (unstable: two weeks, basically stable: a month, stable: a quarter).
DEFAULT_INTERVALS: dict[str, dict[str, int]] = {
    GroupKind.RELEASED: {AttentionLevel.HIGH: 7, AttentionLevel.MEDIUM: 30, AttentionLevel.LOW: 90},
    GroupKind.CORRECTION: {AttentionLevel.HIGH: 7, AttentionLevel.MEDIUM: 15, AttentionLevel.LOW: 30},
    GroupKind.MENTAL: {AttentionLevel.HIGH: 14, AttentionLevel.MEDIUM: 30, AttentionLevel.LOW: 90},
    GroupKind.DRUG: {AttentionLevel.HIGH: 7, AttentionLevel.MEDIUM: 30, AttentionLevel.LOW: 90},
    GroupKind.HIV: {AttentionLevel.HIGH: 7, AttentionLevel.MEDIUM: 30, AttentionLevel.LOW: 90},
    GroupKind.YOUTH: {AttentionLevel.HIGH: 7, AttentionLevel.MEDIUM: 30, AttentionLevel.LOW: 60},
}


def clean_details(kind: str, raw: dict[str, Any] | None, *, prefix: str = "details.") -> dict[str, Any]:
    """Validate and normalise a group's own fields; unknown keys are refused, not dropped."""
    specs = {s.name: s for s in GROUP_FIELDS[kind]}
    raw = dict(raw or {})
    errors: dict[str, list[str]] = {}
    for key in raw:
        if key not in specs:
            errors.setdefault(f"{prefix}{key}", []).append("该人群没有此项信息")
    out: dict[str, Any] = {}
    for spec in specs.values():
        value = raw.get(spec.name)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            if spec.required:
                errors.setdefault(f"{prefix}{spec.name}", []).append(f"请填写{spec.label}")
            continue
        key = f"{prefix}{spec.name}"
        if spec.kind == "code":
            assert spec.choices is not None
            if str(value) not in spec.choices.values:
                errors.setdefault(key, []).append(f"{spec.label}代码 {value!r} 不在代码表中")
                continue
            out[spec.name] = str(value)
        elif spec.kind == "date":
            if isinstance(value, dt.datetime):
                value = value.date()
            if isinstance(value, dt.date):
                out[spec.name] = value.isoformat()
                continue
            try:
                out[spec.name] = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                errors.setdefault(key, []).append(f"{spec.label}应为日期（YYYY-MM-DD）")
        elif spec.kind == "bool":
            if isinstance(value, bool):
                out[spec.name] = value
            elif str(value).lower() in {"1", "true", "yes", "on", "是"}:
                out[spec.name] = True
            elif str(value).lower() in {"0", "false", "no", "off", "否"}:
                out[spec.name] = False
            else:
                errors.setdefault(key, []).append(f"{spec.label}应为“是”或“否”")
        else:
            text = str(value)
            if len(text) > spec.max_length:
                errors.setdefault(key, []).append(f"{spec.label}不能超过{spec.max_length}个字")
                continue
            out[spec.name] = text
    if kind == GroupKind.CORRECTION and not errors and out["end_date"] < out["start_date"]:
        errors[f"{prefix}end_date"] = ["矫正结束日期不能早于开始日期"]
    if errors:
        raise ValidationFailed("专项信息有误", errors=errors)
    return out


def details_display(kind: str, details: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for spec in GROUP_FIELDS.get(kind, []):
        if spec.name not in details:
            continue
        value = details[spec.name]
        if spec.kind == "code" and spec.choices is not None:
            shown = codes.label_of(spec.choices, value)
        elif spec.kind == "bool":
            shown = "是" if value else "否"
        else:
            shown = str(value)
        rows.append((spec.label, shown))
    return rows


def risk_label(kind: str, code: str) -> str:
    table = RISK_TABLES.get(kind)
    return codes.label_of(table, code) if table else code
