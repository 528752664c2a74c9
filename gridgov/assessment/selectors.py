"""Reads of assessment results, always through the viewer's scope.

An assessment belongs to a district; a viewer inside it (a town, a village) sees the month but
only the score rows of their own subtree — with the district-wide rank, which is the public
ranking (晾晒) the rows were placed in.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet

from gridgov.accounts.scope import Scope
from gridgov.cases.models import Case
from gridgov.common.errors import NotFound
from gridgov.regions.models import Level

from .models import (
    Assessment,
    EntryState,
    Indicator,
    IndicatorScore,
    ProcessEntry,
    RegionScore,
    Scheme,
    Status,
    WorkerScore,
)


def _visible(scope: Scope) -> Q:
    if not scope.path:
        return Q(pk__in=[])
    # The viewer sits inside the assessed district (path starts with it), or above it.
    codes = [c for c in scope.path.strip("/").split("/") if c]
    ancestors = ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]
    return Q(region__path__in=ancestors) | Q(region__path__startswith=scope.path)


def scheme_for(*, scope: Scope) -> Scheme | None:
    if not scope.path:
        return None
    return Scheme.objects.filter(_visible(scope), is_active=True).select_related("region").order_by("id").first()


def assessment_list(*, scope: Scope, published_only: bool = False) -> QuerySet[Assessment]:
    qs = Assessment.objects.filter(_visible(scope)).select_related("scheme", "region")
    if published_only:
        qs = qs.filter(status=Status.PUBLISHED)
    return qs.order_by("-month", "region__path")


def assessment_get(*, scope: Scope, pk: int, published_only: bool = False) -> Assessment:
    found = assessment_list(scope=scope, published_only=published_only).filter(pk=pk).first()
    if found is None:
        raise NotFound("考核不存在或不在您的辖区")
    return found


def latest_published(*, scope: Scope) -> Assessment | None:
    return assessment_list(scope=scope, published_only=True).first()


def region_scores(
    *, scope: Scope, assessment: Assessment, level: str = Level.COMMUNITY, within: str = ""
) -> QuerySet[RegionScore]:
    qs = scope.filter(RegionScore.objects.filter(assessment=assessment, level=level))
    if within:
        qs = qs.filter(region_path__startswith=within)
    return qs.select_related("region").order_by(F("rank").asc(nulls_last=True), "region_path")


def region_score_get(*, scope: Scope, assessment: Assessment, code: str) -> RegionScore:
    found = (
        scope.filter(RegionScore.objects.filter(assessment=assessment, region__code=code))
        .select_related("region")
        .first()
    )
    if found is None:
        raise NotFound("该区域没有考核结果或不在您的辖区")
    return found


def indicator_scores(*, region_score: RegionScore) -> QuerySet[IndicatorScore]:
    return region_score.indicator_scores.defer("records").order_by("group", "sort")


def indicator_score_get(*, region_score: RegionScore, code: str) -> IndicatorScore:
    found = region_score.indicator_scores.filter(indicator_code=code).first()
    if found is None:
        raise NotFound("指标不存在")
    return found


def drill_records(*, scope: Scope, score: IndicatorScore) -> tuple[str, QuerySet[Any], set[int], dict[str, Any]]:
    """The records an indicator score counted — exactly those ids, nothing recomputed — kept
    inside the viewer's scope."""
    rec = score.records or {}
    model = str(rec.get("model", ""))
    ids = [int(i) for i in rec.get("ids", [])]
    numerator = {int(i) for i in rec.get("numerator_ids", [])}
    detail = dict(rec.get("detail", {}))
    qs: QuerySet[Any]
    if model == "cases.case":
        qs = (
            scope.filter(Case.objects.filter(pk__in=ids))
            .select_related("category__parent", "region", "department")
            .order_by("reported_at", "id")
        )
    elif model == "registers.groupmembership":
        from gridgov.registers.models import GroupMembership

        qs = scope.filter(GroupMembership.objects.filter(pk__in=ids)).select_related("person").order_by("id")
    elif model == "assessment.processentry":
        qs = (
            scope.filter(ProcessEntry.objects.filter(pk__in=ids))
            .select_related("region", "indicator", "submitted_by")
            .prefetch_related("attachments")
            .order_by("region_path")
        )
    else:
        qs = Case.objects.none()
    return model, qs, numerator, detail


def worker_scores(*, scope: Scope, assessment: Assessment) -> QuerySet[WorkerScore]:
    return scope.filter(WorkerScore.objects.filter(assessment=assessment)).order_by(
        F("rank").asc(nulls_last=True), "region_path"
    )


def process_indicators(*, scheme: Scheme) -> QuerySet[Indicator]:
    return scheme.indicators.filter(group="process", is_active=True).order_by("sort", "code")


def process_entries(*, scope: Scope, scheme: Scheme, month: Any, state: str = "") -> QuerySet[ProcessEntry]:
    qs = scope.filter(ProcessEntry.objects.filter(indicator__scheme=scheme, month=month))
    if state and state in EntryState.values:
        qs = qs.filter(state=state)
    return qs.select_related("region", "indicator", "submitted_by", "reviewed_by").prefetch_related("attachments")


def process_entry_get(*, scope: Scope, pk: int) -> ProcessEntry:
    found = scope.filter(ProcessEntry.objects.filter(pk=pk)).select_related("indicator__scheme__region").first()
    if found is None:
        raise NotFound("自评记录不存在或不在您的辖区")
    return found
