"""Reads for accounts, always through the viewer's scope."""

from __future__ import annotations

from django.db.models import Case, Q, QuerySet, Value, When

from gridgov.regions.models import Region

from .models import Department, Duty, TeamMembership, User
from .scope import Scope

# "1+3+N": the grid leader first, then full-time and part-time workers, then liaisons.
DUTY_ORDER = [Duty.GRID_LEADER, Duty.FULL_TIME, Duty.PART_TIME, Duty.DEPARTMENT_LIAISON, Duty.MICROGRID_WORKER]


def user_list(*, scope: Scope, q: str = "", role: str = "") -> QuerySet[User]:
    if scope.is_empty:
        return User.objects.none()
    qs = User.objects.filter(
        Q(jurisdiction__path__startswith=scope.path) | Q(department__region__path__startswith=scope.path)
    ).select_related("jurisdiction", "department")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    if role:
        qs = qs.filter(role=role)
    return qs.order_by("username")


def department_list(*, scope: Scope) -> QuerySet[Department]:
    """Departments serving any part of the viewer's jurisdiction: those inside it, and the
    district-wide ones above it whose mandate covers it."""
    if scope.is_empty or scope.path is None:
        return Department.objects.none()
    ancestors = [c for c in scope.path.strip("/").split("/") if c]
    return (
        Department.objects.filter(Q(region__path__startswith=scope.path) | Q(region__code__in=ancestors))
        .select_related("region")
        .order_by("code")
    )


def team_for_region(*, scope: Scope, region: Region) -> QuerySet[TeamMembership]:
    if not scope.covers(region.path):
        return TeamMembership.objects.none()
    rank = Case(*(When(duty=duty, then=Value(i)) for i, duty in enumerate(DUTY_ORDER)), default=Value(len(DUTY_ORDER)))
    return (
        TeamMembership.objects.filter(region=region)
        .select_related("user")
        .annotate(rank=rank)
        .order_by("rank", "user__username")
    )


def operators_for_region(*, scope: Scope, region: Region) -> QuerySet[User]:
    """Centre operators, leaders and mediators seated at exactly this node."""
    if not scope.covers(region.path):
        return User.objects.none()
    return (
        User.objects.filter(jurisdiction=region, is_active=True)
        .exclude(memberships__region=region)
        .order_by("role", "username")
    )
