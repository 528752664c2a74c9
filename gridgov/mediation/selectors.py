"""Reads of mediation and petitions, always through the viewer's scope. Parties' identities are
masked in every list (`party_summary`); success rates are computed over concluded disputes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.cases.models import Case
from gridgov.common.errors import NotFound
from gridgov.common.masking import mask_name

from . import codes
from .models import (
    DISPUTE_SUCCESS_STATES,
    Dispute,
    DisputeParty,
    DisputeState,
    MediationCentre,
    Petition,
)


def dispute_queryset(*, scope: Scope) -> QuerySet[Dispute]:
    return scope.filter(Dispute.objects.all())


@dataclass
class DisputeFilters:
    state: str = ""
    kind: str = ""
    centre: int | None = None
    mediator: int | None = None
    level: str = ""
    q: str = ""
    mine: bool = False


def dispute_list(*, scope: Scope, f: DisputeFilters | None = None, user: User | None = None) -> QuerySet[Dispute]:
    f = f or DisputeFilters()
    qs = dispute_queryset(scope=scope)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.kind:
        qs = qs.filter(kind__startswith=f.kind)
    if f.centre:
        qs = qs.filter(centre_id=f.centre)
    if f.level:
        qs = qs.filter(centre__level=f.level)
    if f.mediator:
        qs = qs.filter(mediator_id=f.mediator)
    if f.mine and user is not None:
        qs = qs.filter(mediator=user)
    if f.q:
        qs = qs.filter(Q(number__icontains=f.q) | Q(title__icontains=f.q) | Q(parties__name__icontains=f.q)).distinct()
    return (
        qs.select_related("centre", "mediator", "region", "case")
        .prefetch_related(Prefetch("parties", queryset=DisputeParty.objects.order_by("seq", "id")))
        .order_by("-registered_at", "-id")
    )


def dispute_get(*, scope: Scope, number: str) -> Dispute:
    row = (
        dispute_queryset(scope=scope)
        .filter(number=number)
        .select_related("centre", "centre__region", "mediator", "region", "case", "registered_by")
        .first()
    )
    if row is None:
        raise NotFound("纠纷不存在")
    return row


def party_summary(dispute: Dispute) -> str:
    """'张* 诉 李*、王*' — masked names for lists and exports."""
    parties = list(dispute.parties.all())
    a = "、".join(mask_name(p.name) for p in parties if p.role == codes.PartyRole.APPLICANT)
    b = "、".join(mask_name(p.name) for p in parties if p.role != codes.PartyRole.APPLICANT)
    return gettext("%(a)s 与 %(b)s") % {"a": a, "b": b} if b else a


def centres(*, scope: Scope) -> QuerySet[MediationCentre]:
    """Centres the viewer may register disputes at: inside the jurisdiction, or the one above
    it that serves it (a village operator's town centre)."""
    if scope.is_empty:
        return MediationCentre.objects.none()
    assert scope.path is not None
    ancestors = ["/" + "/".join(scope.path.strip("/").split("/")[: i + 1]) + "/" for i in range(scope.depth + 1)]
    return (
        MediationCentre.objects.filter(is_active=True)
        .filter(Q(region_path__startswith=scope.path) | Q(region_path__in=ancestors))
        .select_related("region")
        .order_by("region_path")
    )


def mediators_for(dispute: Dispute) -> QuerySet[User]:
    """Active mediators whose jurisdiction covers the dispute's place."""
    codes_ = [c for c in dispute.region_path.strip("/").split("/") if c]
    return User.objects.filter(role=Role.MEDIATOR, is_active=True, jurisdiction__code__in=codes_).order_by(
        "jurisdiction__path", "username"
    )


def referable_cases(*, scope: Scope) -> QuerySet[Case]:
    """Dispute cases (category 01) waiting at a centre the viewer sits at."""
    return (
        scope.filter(Case.objects.filter(category__code__startswith="01", state__in=["reported", "accepted"]))
        .filter(center_id=scope.region_id)
        .exclude(disputes__state__in=[DisputeState.REGISTERED, DisputeState.MEDIATING])
        .select_related("category", "region")
        .order_by("reported_at")
    )


# --- success rates --------------------------------------------------------------------------------


@dataclass
class Rate:
    key: str
    label: str
    total: int = 0
    open: int = 0
    settled: int = 0  # settled + judicially confirmed
    confirmed: int = 0
    failed: int = 0
    transferred: int = 0
    withdrawn: int = 0
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def concluded(self) -> int:
        return self.settled + self.failed + self.transferred

    @property
    def success_rate(self) -> float | None:
        """调解成功率 = settled (incl. judicially confirmed) / concluded (settled + failed +
        transferred). Withdrawn and open disputes are not counted."""
        return self.settled / self.concluded if self.concluded else None


def _add(rate: Rate, state: str, n: int) -> None:
    rate.total += n
    rate.by_state[state] = rate.by_state.get(state, 0) + n
    if state in (DisputeState.REGISTERED, DisputeState.MEDIATING):
        rate.open += n
    elif state in DISPUTE_SUCCESS_STATES:
        rate.settled += n
        rate.confirmed += n if state == DisputeState.CONFIRMED else 0
    elif state == DisputeState.FAILED:
        rate.failed += n
    elif state == DisputeState.TRANSFERRED:
        rate.transferred += n
    elif state == DisputeState.WITHDRAWN:
        rate.withdrawn += n


def success_rates(
    *, scope: Scope, by: str, start: dt.date | None = None, end: dt.date | None = None
) -> tuple[Rate, list[Rate]]:
    """Success rates over disputes registered in [start, end] in the viewer's jurisdiction,
    grouped `by` "level" (of the mediation centre), "kind" (GB/T 31000 main type) or "mediator"."""
    keys = {"level": "centre__level", "kind": "kind", "mediator": "mediator_id"}
    if by not in keys:
        raise ValueError("by must be level, kind or mediator")
    qs = dispute_queryset(scope=scope)
    if start:
        qs = qs.filter(registered_at__gte=timezone.make_aware(dt.datetime.combine(start, dt.time.min)))
    if end:
        qs = qs.filter(
            registered_at__lt=timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
        )
    whole = Rate(key="", label="合计")
    rows: dict[str, Rate] = {}
    names: dict[int, str] = {}
    if by == "mediator":
        names = {u.pk: u.label for u in User.objects.filter(pk__in=qs.values("mediator_id"))}
    for r in qs.values(keys[by], "state").annotate(n=Count("id")):
        raw = r[keys[by]]
        if by == "kind":
            key = str(raw)[:2]
            label = f"{key} {codes.KIND_PARENT.get(key, key)}"
        elif by == "level":
            key = str(raw)
            label = str(codes.CentreLevel(raw).label) if raw in codes.CentreLevel.values else key
        else:
            key = str(raw or "")
            label = names.get(raw, "（未指派）") if raw else "（未指派）"
        row = rows.setdefault(key, Rate(key=key, label=label))
        _add(row, r["state"], r["n"])
        _add(whole, r["state"], r["n"])
    order = list(codes.CentreLevel.values) if by == "level" else sorted(rows)
    return whole, [rows[k] for k in order if k in rows]


# --- petitions ------------------------------------------------------------------------------------


@dataclass
class PetitionFilters:
    matter: str = ""
    channel: str = ""
    repeat: bool = False
    state: str = ""
    q: str = ""


def petition_list(*, scope: Scope, f: PetitionFilters | None = None) -> QuerySet[Petition]:
    f = f or PetitionFilters()
    qs = scope.filter(Petition.objects.all())
    if f.matter:
        qs = qs.filter(matter=f.matter)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.repeat:
        qs = qs.filter(first__isnull=False)
    if f.state:
        qs = qs.filter(case__state=f.state)
    if f.q:
        qs = qs.filter(Q(number__icontains=f.q) | Q(subject__icontains=f.q) | Q(petitioner_name__icontains=f.q))
    return qs.select_related("case", "region", "first").order_by("-received_at", "-id")


def petition_get(*, scope: Scope, number: str) -> Petition:
    row = scope.filter(Petition.objects.filter(number=number)).select_related("case", "region", "first").first()
    if row is None:
        raise NotFound("信访件不存在")
    return row


@dataclass
class PetitionHistory:
    same_subject: list[Petition]
    other_subjects: list[Petition]
    hidden: int  # earlier petitions of the person outside the viewer's jurisdiction


def petition_history(*, scope: Scope, petition: Petition) -> PetitionHistory:
    """The person's other petitions: the chain on this subject, and other subjects."""
    root = petition.first_id or petition.pk
    q = Q(person_key=petition.person_key) | Q(pk=root) | Q(first_id=root)
    if petition.id_hash:
        q |= Q(id_hash=petition.id_hash)
    everyone = Petition.objects.filter(q).exclude(pk=petition.pk)
    visible = list(scope.filter(everyone).select_related("case").order_by("received_at", "id"))
    chain = [p for p in visible if p.pk == root or p.first_id == root]
    others = [p for p in visible if p not in chain]
    return PetitionHistory(same_subject=chain, other_subjects=others, hidden=everyone.count() - len(visible))


def petition_counts(*, scope: Scope) -> dict[str, int]:
    qs = scope.filter(Petition.objects.all())
    return {
        "total": qs.count(),
        "repeat": qs.filter(first__isnull=False).count(),
        "group": qs.filter(people_count__gte=5).count(),
        "open": qs.exclude(case__state__in=["closed", "rejected", "merged"]).count(),
    }
