"""/api/v1/dashboard — the command centre's data (figures, child regions with warning levels,
trend, case markers), each within the caller's jurisdiction and read from the rollups."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from gridgov.accounts.scope import Scope
from gridgov.common import clock

from . import selectors

router = Router(tags=["dashboard"])


class RegionQuery(Schema):
    region: str = ""


def _region(request: HttpRequest, q: RegionQuery) -> tuple[Scope, Any]:
    scope = Scope.for_user(request.user)  # type: ignore[arg-type]
    return scope, selectors.region_for(scope=scope, code=q.region.strip())


@router.get("/summary", url_name="dashboard_summary", summary="指挥中心概况：关键数字、下级区域预警等级、近 30 天趋势")
def summary(request: HttpRequest, q: Query[RegionQuery]) -> dict[str, Any]:
    _scope, region = _region(request, q)
    now = clock.now()
    return {
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "as_of": now.isoformat(),
        "figures": selectors.figures(region=region, now=now).as_dict(),
        "children": [
            {
                "code": c.region.code,
                "name": c.region.name,
                "open": c.open,
                "red": c.red,
                "yellow": c.yellow,
                "level": c.level,
                "month_reported": c.month_reported,
                "month_closed": c.month_closed,
            }
            for c in selectors.children(region=region, now=now)
        ],
        "trend": selectors.trend(region=region, now=now),
    }


@router.get("/markers", url_name="dashboard_markers", summary="在办案件点位（超期在前）")
def markers(request: HttpRequest, q: Query[RegionQuery]) -> dict[str, Any]:
    _scope, region = _region(request, q)
    return {"markers": selectors.markers(region=region, now=clock.now())}
