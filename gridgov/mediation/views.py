"""Mediation and petition screens: dispute list and intake (walk-in or from a case), the dispute
page with its actions, the printable agreement, success rates, and petitions. Forms only parse
input; the services enforce every rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.cases import selectors as case_selectors
from gridgov.common import clock
from gridgov.common.dates import check_day
from gridgov.common.errors import DomainError, NotFound, PermissionRefused, ValidationFailed
from gridgov.common.masking import mask_name
from gridgov.common.pagination import page_number, paginate
from gridgov.fieldwork import export, pdf
from gridgov.regions.models import Level, Region

from . import codes, selectors, services
from .models import DisputeState, MediationCentre
from .services import PartyIn
from .states import ACTION_LABELS

MAX_PARTY_ROWS = 6


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


def _errors(exc: DomainError) -> dict[str, Any]:
    return {"message": exc.message, "fields": exc.errors, "rule": exc.rule}


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def _date(raw: str | None, field: str, label: str) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"{label}格式应为 年-月-日", field=field) from None
    return check_day(day, field=field, label=label)


def _parties(request: HttpRequest) -> list[PartyIn]:
    p = request.POST
    out = []
    for i in range(MAX_PARTY_ROWS):
        name = p.get(f"party_{i}_name", "").strip()
        if not name and not p.get(f"party_{i}_phone", "").strip():
            continue
        out.append(
            PartyIn(
                role=p.get(f"party_{i}_role", "applicant"),
                name=name,
                id_number=p.get(f"party_{i}_id_number", ""),
                phone=p.get(f"party_{i}_phone", ""),
                address=p.get(f"party_{i}_address", ""),
            )
        )
    return out


def _is_intake(user: User) -> bool:
    return user.role in (Role.MEDIATOR, Role.CENTER_OPERATOR)


# --- disputes ------------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> selectors.DisputeFilters:
    g = request.GET
    return selectors.DisputeFilters(
        state=g.get("state", "") if g.get("state", "") in DisputeState.values else "",
        kind=g.get("kind", "")[:2] if g.get("kind", "")[:2] in codes.KIND_PARENT else "",
        level=g.get("level", "") if g.get("level", "") in codes.CentreLevel.values else "",
        q=g.get("q", "")[:50].strip(),
        mine=g.get("mine") == "1",
    )


def disputes_xlsx(request: HttpRequest, qs: Any, f: selectors.DisputeFilters) -> HttpResponse:
    """The dispute list as xlsx (parties masked), audited."""
    return export.xlsx_response(
        filename="disputes",
        title="矛盾纠纷",
        columns=[
            ("纠纷编号", 16),
            ("纠纷名称", 24),
            ("纠纷类型", 26),
            ("事件规模", 14),
            ("当事人", 22),
            ("受理中心", 24),
            ("调解员", 12),
            ("状态", 10),
            ("来源", 10),
            ("来源事件", 24),
            ("登记时间", 18),
            ("办结时间", 18),
            ("协议书编号", 22),
            ("移交去向", 10),
        ],
        rows=(
            [
                d.number,
                d.title,
                d.kind_label,
                d.get_scale_display(),
                selectors.party_summary(d),
                d.centre.name,
                d.mediator.label if d.mediator else "",
                d.get_state_display(),
                d.get_source_display(),
                d.case.number if d.case else "",
                export.t(d.registered_at),
                export.t(d.concluded_at),
                d.agreement_no,
                d.get_transfer_to_display() if d.transfer_to else "",
            ]
            for d in qs
        ),
        request=request,
        action="mediation.disputes_exported",
        filters=vars(f),
    )


@login_required
def disputes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scope = _scope(request)
    f = _filters(request)
    qs = selectors.dispute_list(scope=scope, f=f, user=user)
    if request.GET.get("format") == "xlsx":
        return disputes_xlsx(request, qs, f)
    page = paginate(qs, page=page_number(request.GET.get("page")), page_size=30)
    rows = [(d, selectors.party_summary(d)) for d in page.items]
    referable = list(selectors.referable_cases(scope=scope)[:20]) if user.role == Role.CENTER_OPERATOR else []
    return render(
        request,
        "mediation/disputes.html",
        {
            "page": page,
            "rows": rows,
            "f": f,
            "states": DisputeState.choices,
            "kinds": [(c, n) for c, n, _s in codes.DISPUTE_KINDS],
            "levels": codes.CentreLevel.choices,
            "can_register": _is_intake(user),
            "referable": referable,
            "query": request.GET.urlencode(),
        },
    )


def _form_context(request: HttpRequest, scope: Scope) -> dict[str, Any]:
    return {
        "kind_choices": codes.kind_choices(),
        "scales": codes.Scale.choices,
        "roles": codes.PartyRole.choices,
        "centres": selectors.centres(scope=scope),
        "party_rows": [
            {
                "i": i,
                **{
                    k: request.POST.get(f"party_{i}_{k}", "") for k in ("role", "name", "id_number", "phone", "address")
                },
            }
            for i in range(MAX_PARTY_ROWS)
        ],
        "p": request.POST,
    }


@login_required
def dispute_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scope = _scope(request)
    if not _is_intake(user):
        return render(request, "403.html", {"message": _("只有调解员和综治中心坐席可以登记矛盾纠纷")}, status=403)
    error = None
    status = 200
    if request.method == "POST":
        p = request.POST
        try:
            d = services.dispute_register(
                actor=user,
                title=p.get("title", ""),
                kind=p.get("kind", ""),
                description=p.get("description", ""),
                scale=p.get("scale", codes.Scale.INDIVIDUAL),
                involved=_int(p.get("involved")),
                amount=p.get("amount", ""),
                occurred_on=_date(p.get("occurred_on"), "occurred_on", "发生日期"),
                address=p.get("address", ""),
                region=Region.objects.filter(code=p.get("region", "")).first(),
                centre=MediationCentre.objects.filter(pk=_int(p.get("centre")) or 0).first(),
                parties=_parties(request),
            )
        except DomainError as exc:
            error, status = _errors(exc), exc.status
        else:
            messages.success(request, _("纠纷已登记，编号 %(n)s") % {"n": d.number})
            return redirect("mediation:dispute", d.number)
    ctx = _form_context(request, scope)
    ctx.update(
        {
            "error": error,
            "regions": scope.regions().filter(level__in=[Level.COMMUNITY, Level.GRID]).order_by("path")[:400],
            "case": None,
        }
    )
    return render(request, "mediation/dispute_form.html", ctx, status=status)


@login_required
def dispute_from_case(request: HttpRequest, number: str) -> HttpResponse:
    user = _user(request)
    scope = _scope(request)
    try:
        case = case_selectors.case_get(scope=scope, number=number)
    except (NotFound, PermissionRefused) as exc:
        raise Http404(str(exc)) from exc
    error = None
    status = 200
    if request.method == "POST":
        p = request.POST
        try:
            d = services.dispute_from_case(
                actor=user,
                case=case,
                title=p.get("title", ""),
                kind=p.get("kind", ""),
                scale=p.get("scale", codes.Scale.INDIVIDUAL),
                involved=_int(p.get("involved")),
                amount=p.get("amount", ""),
                centre=MediationCentre.objects.filter(pk=_int(p.get("centre")) or 0).first(),
                parties=_parties(request),
            )
        except DomainError as exc:
            error, status = _errors(exc), exc.status
        else:
            messages.success(request, _("已转人民调解，纠纷编号 %(n)s") % {"n": d.number})
            return redirect("mediation:dispute", d.number)
    ctx = _form_context(request, scope)
    ctx.update(
        {
            "error": error,
            "case": case,
            "default_kind": codes.CASE_CATEGORY_KIND.get(case.category.code, ""),
            "default_party": case.reporter_name,
        }
    )
    return render(request, "mediation/dispute_form.html", ctx, status=status)


def _dispute(request: HttpRequest, number: str) -> Any:
    try:
        return selectors.dispute_get(scope=_scope(request), number=number)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _detail_context(request: HttpRequest, d: Any) -> dict[str, Any]:
    user = _user(request)
    allowed = services.dispute_allowed_actions(user, d)
    return {
        "d": d,
        "parties": list(d.parties.all()),
        "masked": {p.pk: mask_name(p.name) for p in d.parties.all()},
        "sessions": list(d.sessions.select_related("mediator")),
        "follow_ups": list(d.follow_ups.select_related("by")),
        "timeline": list(d.events.all()),
        "allowed": allowed,
        "labels": {k: str(v) for k, v in ACTION_LABELS.items()},
        "mediators": selectors.mediators_for(d) if {"accept", "reassign"} & set(allowed) else [],
        "methods": codes.Method.choices,
        "modes": codes.SessionMode.choices,
        "results": codes.SessionResult.choices,
        "transfers": codes.Transfer.choices,
        "performances": codes.Performance.choices,
        "today": clock.today(),
        "full_names": user.role in (Role.MEDIATOR, Role.CENTER_OPERATOR),
    }


@login_required
def dispute_detail(request: HttpRequest, number: str) -> HttpResponse:
    return render(request, "mediation/dispute.html", _detail_context(request, _dispute(request, number)))


@login_required
@require_POST
def dispute_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    user = _user(request)
    d = _dispute(request, number)
    p = request.POST
    version = _int(p.get("version"))
    try:
        if action == "accept":
            services.dispute_accept(
                actor=user,
                dispute=d,
                mediator=User.objects.filter(pk=_int(p.get("mediator")) or 0).first(),
                method=p.get("method", codes.Method.PEOPLES),
                deadline=_date(p.get("deadline"), "deadline", "化解时限"),
                expected_version=version,
            )
        elif action == "reassign":
            services.dispute_reassign(
                actor=user,
                dispute=d,
                mediator=User.objects.filter(pk=_int(p.get("mediator")) or 0).first(),
                reason=p.get("reason", ""),
                expected_version=version,
            )
        elif action == "session":
            held = None
            if p.get("held_at"):
                try:
                    held = timezone.make_aware(dt.datetime.fromisoformat(p["held_at"]))
                except ValueError:
                    raise ValidationFailed("调解时间格式有误", field="held_at") from None
            services.session_record(
                actor=user,
                dispute=d,
                held_at=held,
                mode=p.get("mode", ""),
                location=p.get("location", ""),
                attendees=p.get("attendees", ""),
                summary=p.get("summary", ""),
                result=p.get("result", codes.SessionResult.CONTINUE),
            )
        elif action == "settle":
            services.dispute_settle(
                actor=user,
                dispute=d,
                agreement=p.get("agreement", ""),
                performance_term=p.get("performance_term", ""),
                note=p.get("note", ""),
                expected_version=version,
            )
        elif action == "confirm":
            services.dispute_confirm(
                actor=user,
                dispute=d,
                court=p.get("court", ""),
                reference=p.get("reference", ""),
                confirmed_on=_date(p.get("confirmed_on"), "confirmed_on", "确认日期"),
                expected_version=version,
            )
        elif action == "fail":
            services.dispute_fail(actor=user, dispute=d, reason=p.get("reason", ""), expected_version=version)
        elif action == "transfer":
            services.dispute_transfer(
                actor=user, dispute=d, to=p.get("to", ""), reason=p.get("reason", ""), expected_version=version
            )
        elif action == "withdraw":
            services.dispute_withdraw(actor=user, dispute=d, reason=p.get("reason", ""), expected_version=version)
        elif action == "follow_up":
            services.dispute_follow_up(
                actor=user,
                dispute=d,
                method=p.get("method", ""),
                performance=p.get("performance", ""),
                note=p.get("note", ""),
            )
        else:
            raise Http404(_("未知操作"))
    except DomainError as exc:
        ctx = _detail_context(request, _dispute(request, number))
        ctx["error"] = {**_errors(exc), "action": action}
        return render(request, "mediation/dispute.html", ctx, status=exc.status)
    messages.success(request, _("已%(a)s") % {"a": ACTION_LABELS.get(action, action)})
    return redirect("mediation:dispute", number)


@login_required
def agreement_pdf(request: HttpRequest, number: str) -> HttpResponse:
    d = _dispute(request, number)
    if d.state not in (DisputeState.SETTLED, DisputeState.CONFIRMED):
        raise Http404(_("该纠纷尚未达成调解协议"))
    body = pdf.agreement(d, parties=list(d.parties.all()), now=clock.now())
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="agreement-{d.number}.pdf"'
    return response


@login_required
def rates(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    today = clock.today()
    try:
        start = _date(request.GET.get("from"), "from", "开始日期") or today.replace(month=1, day=1)
        end = _date(request.GET.get("to"), "to", "结束日期") or today
    except ValidationFailed:
        start, end = today.replace(month=1, day=1), today
    tables = []
    for by, label in (("level", _("按层级")), ("kind", _("按纠纷类型")), ("mediator", _("按调解员"))):
        whole, rows = selectors.success_rates(scope=scope, by=by, start=start, end=end)
        tables.append((label, rows))
    whole, _rows = selectors.success_rates(scope=scope, by="level", start=start, end=end)
    return render(request, "mediation/rates.html", {"whole": whole, "tables": tables, "start": start, "end": end})


# --- petitions ----------------------------------------------------------------------------------


@login_required
def petitions(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    g = request.GET
    f = selectors.PetitionFilters(
        matter=g.get("matter", "") if g.get("matter", "") in codes.PetitionMatter.values else "",
        channel=g.get("channel", "") if g.get("channel", "") in codes.PetitionChannel.values else "",
        repeat=g.get("repeat") == "1",
        q=g.get("q", "")[:50].strip(),
    )
    qs = selectors.petition_list(scope=scope, f=f)
    if g.get("format") == "xlsx":
        return export.xlsx_response(
            filename="petitions",
            title="信访件",
            columns=[
                ("信访编号", 16),
                ("形式", 8),
                ("事项类别", 12),
                ("信访事项", 30),
                ("信访人", 10),
                ("联系电话", 14),
                ("人数", 6),
                ("重复", 6),
                ("首次信访", 16),
                ("事项发生地", 24),
                ("登记时间", 18),
                ("办理案卷", 24),
                ("办理状态", 10),
                ("办结时限", 18),
            ],
            rows=(
                [
                    x.number,
                    x.get_channel_display(),
                    x.get_matter_display(),
                    x.subject,
                    mask_name(x.petitioner_name),
                    x.phone_masked,
                    x.people_count,
                    f"第{x.repeat_no + 1}次" if x.is_repeat else "",
                    x.first.number if x.first else "",
                    x.address,
                    export.t(x.received_at),
                    x.case.number,
                    x.case.get_state_display(),
                    export.t(x.case.handle_deadline),
                ]
                for x in qs
            ),
            request=request,
            action="mediation.petitions_exported",
            filters=vars(f),
        )
    page = paginate(qs, page=page_number(g.get("page")), page_size=30)
    return render(
        request,
        "mediation/petitions.html",
        {
            "page": page,
            "f": f,
            "matters": codes.PetitionMatter.choices,
            "channels": codes.PetitionChannel.choices,
            "counts": selectors.petition_counts(scope=scope),
            "can_register": _user(request).role == Role.CENTER_OPERATOR,
            "query": g.urlencode(),
        },
    )


@login_required
def petition_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scope = _scope(request)
    if user.role != Role.CENTER_OPERATOR:
        return render(request, "403.html", {"message": _("只有综治中心（信访窗口）坐席可以登记信访件")}, status=403)
    error = None
    status = 200
    if request.method == "POST":
        p = request.POST
        try:
            pet = services.petition_register(
                actor=user,
                channel=p.get("channel", ""),
                matter=p.get("matter", ""),
                subject=p.get("subject", ""),
                content=p.get("content", ""),
                petitioner_name=p.get("petitioner_name", ""),
                id_number=p.get("id_number", ""),
                phone=p.get("phone", ""),
                people_count=_int(p.get("people_count")) or 0,
                region=Region.objects.filter(code=p.get("region", "")).first(),
                address=p.get("address", ""),
                urgency=p.get("urgency", "normal") if p.get("urgency") in ("normal", "urgent") else "normal",
            )
        except DomainError as exc:
            error, status = _errors(exc), exc.status
        else:
            if pet.is_repeat:
                messages.warning(
                    request,
                    _("已登记。该信访人就同一事项第 %(n)s 次信访，已关联首次信访件。") % {"n": pet.repeat_no + 1},
                )
            else:
                messages.success(request, _("信访件已登记，编号 %(n)s") % {"n": pet.number})
            return redirect("mediation:petition", pet.number)
    return render(
        request,
        "mediation/petition_form.html",
        {
            "error": error,
            "p": request.POST,
            "matters": codes.PetitionMatter.choices,
            "channels": codes.PetitionChannel.choices,
            "grids": scope.regions().filter(level=Level.GRID).order_by("path")[:400],
        },
        status=status,
    )


@login_required
def petition_detail(request: HttpRequest, number: str) -> HttpResponse:
    scope = _scope(request)
    try:
        pet = selectors.petition_get(scope=scope, number=number)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return render(
        request,
        "mediation/petition.html",
        {
            "x": pet,
            "history": selectors.petition_history(scope=scope, petition=pet),
            "name": mask_name(pet.petitioner_name),
        },
    )
