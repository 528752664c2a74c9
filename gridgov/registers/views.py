"""Server-rendered register screens. Reads through selectors (scoped), writes through services;
domain errors go back onto the form with a 400, refusals render the 403 page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.common.errors import DomainError, NotFound, PermissionRefused
from gridgov.common.pagination import LIST_COUNT_LIMIT, paginate

from . import codes, groups, permissions, selectors, services, spreadsheets, states
from . import forms as f
from .models import GroupMembership, Person

# Entity registers whose rows cases can be linked to (→ the CaseLink field).
LINKABLE_ENTITIES = {"places": "place", "organisations": "organisation", "schools": "school"}

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _scope(request: HttpRequest) -> Scope:
    return Scope.for_user(request.user)  # type: ignore[arg-type]


def screen(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; NotFound → 404, PermissionRefused → the 403 page."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except PermissionRefused as exc:
            return render(request, "403.html", {"message": exc.message}, status=403)

    return wrapper


def apply_errors(form: djforms.Form, exc: DomainError, prefix: str = "") -> None:
    for field, msgs in exc.errors.items():
        name = field[len(prefix) :] if prefix and field.startswith(prefix) else field
        name = name.replace("details.", "d_")
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)
    if not exc.errors:
        form.add_error(None, exc.message)


def _page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", 1) or 1))
    except ValueError:
        return 1


def _ctx(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    scope = _scope(request)
    return {
        "scope": scope,
        "can_read_people": permissions.can_read_people(scope),
        "can_write": permissions.can_write(scope),
        "can_reveal": permissions.can_reveal(scope),
        "can_see_groups": permissions.can_see_groups(scope),
        "can_see_group_counts": permissions.can_see_group_counts(scope),
        "can_visit": permissions.can_visit(scope),
        "can_archive": permissions.can_archive(scope),
        "entities": [(k, _(s.label)) for k, s in services.ENTITIES.items()],
        **extra,
    }


# --- overview ------------------------------------------------------------------------------------
@screen
def overview(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    data = selectors.overview(scope=scope)
    due = overdue = None
    if permissions.can_see_groups(scope):
        due = selectors.visits_due(scope=scope, status="due").count()
        overdue = selectors.visits_due(scope=scope, status="overdue").count()
    counts = selectors.group_counts(scope=scope) if permissions.can_see_group_counts(scope) else []
    people_labels = [(str(label), data.people.get(value, 0)) for value, label in codes.PopulationType.choices]
    return render(
        request,
        "registers/overview.html",
        _ctx(
            request,
            data=data,
            people_labels=people_labels,
            due=due,
            overdue=overdue,
            counts=counts,
            entity_counts=[(k, _(s.label), data.entities.get(k, 0)) for k, s in services.ENTITIES.items()],
        ),
    )


# --- people --------------------------------------------------------------------------------------
@screen
def person_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    g = request.GET
    group = g.get("group", "") if permissions.can_see_groups(scope) else ""
    qs = selectors.person_list(
        scope=scope,
        q=g.get("q", ""),
        population_type=g.get("type", ""),
        status=g.get("status", codes.PersonStatus.ACTIVE),
        group=group,
        region_code=g.get("region", ""),
        key_focus=g.get("focus") == "1",
    ).defer("id_number", "phone")
    page = paginate(qs, page=_page(request), page_size=50, count_limit=LIST_COUNT_LIMIT, count_in_order=True)
    return render(
        request,
        "registers/people.html",
        _ctx(
            request,
            page=page,
            f=g,
            types=codes.PopulationType.choices,
            statuses=[*codes.PersonStatus.choices, ("all", _("全部状态"))],
            group_kinds=codes.GroupKind.choices,
            regions=selectors.leaf_regions(scope=scope),
            export_form=f.ExportForm(),
        ),
    )


def _person_context(request: HttpRequest, person: Person, **extra: Any) -> dict[str, Any]:
    scope = _scope(request)
    memberships = selectors.person_groups(scope=scope, person=person, include_ended=True)
    return _ctx(
        request,
        person=person,
        memberships=[
            (m, groups.details_display(m.kind, m.details), groups.risk_label(m.kind, m.risk_code)) for m in memberships
        ],
        events=selectors.person_events(scope=scope, person=person),
        history=selectors.person_history(scope=scope, person=person),
        visits=list(selectors.person_visits(scope=scope, person=person)[:30]),
        actions=states.allowed_actions(person.status) if permissions.can_write(scope) else [],
        reveal_form=extra.pop("reveal_form", f.RevealForm()),
        **extra,
    )


def _case_link_post(request: HttpRequest, subject: Any) -> tuple[f.CaseLinkForm, bool]:
    """Handle the 关联事件 form on a subject page: (form, linked)."""
    form = f.CaseLinkForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return form, False
    number = form.cleaned_data["number"].strip()
    case = services.case_lookup(number=number)
    if case is None:
        form.add_error("number", _("案件 %(number)s 不存在或不在您的辖区") % {"number": number})
        return form, False
    try:
        services.case_link_subject(actor=_user(request), case=case, subject=subject, note=form.cleaned_data["note"])
    except DomainError as exc:
        if isinstance(exc, PermissionRefused | NotFound):
            raise
        apply_errors(form, exc)
        return form, False
    messages.success(request, _("已关联事件 %(number)s") % {"number": case.number})
    return form, True


@screen
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    person = selectors.person_get(scope=scope, pk=pk)
    link_form, linked = _case_link_post(request, person)
    if linked:
        return redirect("registers:person", pk=pk)
    return render(
        request,
        "registers/person.html",
        _person_context(
            request,
            person,
            case_links=selectors.subject_case_links(scope=scope, kind="person", subject=person),
            link_form=link_form,
        ),
        status=400 if link_form.errors else 200,
    )


@screen
@require_POST
def case_unlink(request: HttpRequest, link_id: int) -> HttpResponse:
    services.case_unlink_subject(actor=_user(request), link_id=link_id)
    messages.success(request, _("已解除关联"))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/registers/") else reverse("registers:overview"))


@screen
@require_POST
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(scope=_scope(request), pk=pk)
    form = f.RevealForm(request.POST)
    revealed: dict[str, str] | None = None
    if form.is_valid():
        try:
            revealed = services.person_reveal(
                actor=_user(request),
                person=person,
                fields=["id_number", "phone"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except DomainError as exc:
            if isinstance(exc, PermissionRefused):
                raise
            apply_errors(form, exc)
    status = 400 if form.errors else 200
    if request.headers.get("HX-Request"):
        return render(
            request,
            "registers/_reveal.html",
            {"person": person, "revealed": revealed, "reveal_form": form},
            status=status,
        )
    return render(
        request,
        "registers/person.html",
        _person_context(request, person, revealed=revealed, reveal_form=form),
        status=status,
    )


@screen
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    person = selectors.person_get(scope=scope, pk=pk)
    if not permissions.can_write(scope):
        raise PermissionRefused(_("您的角色不能修改人口信息"))
    initial = {name: getattr(person, name) for name in f.PersonForm.base_fields if hasattr(person, name)}
    initial["id_number"] = ""  # never prefill a sealed value; blank keeps the current number
    form = f.PersonForm(request.POST or None, initial=initial, editing=True)
    form.fields["id_number"].required = False
    form.fields["id_number"].help_text = _("不修改请留空（当前：%(masked)s）") % {"masked": person.id_masked}
    form.fields["phone"].help_text = _("当前：%(masked)s；不修改请保持原值") % {"masked": person.phone_masked or "—"}
    if request.method != "POST":
        form.initial["phone"] = ""
        form.fields["phone"].help_text = _("当前：%(masked)s；留空不修改") % {"masked": person.phone_masked or "—"}
    if request.method == "POST" and form.is_valid():
        changes = form.data_for_service()
        changes.pop("id_number", None) if not form.cleaned_data.get("id_number") else None
        if not form.cleaned_data.get("phone"):
            changes.pop("phone", None)
        try:
            services.person_update(
                actor=_user(request), person=person, changes=changes, reason=form.cleaned_data.get("reason") or ""
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("registers:person", pk=pk)
    return _form_page(
        request, form, _("修改人员信息：%(name)s") % {"name": person.name}, reverse("registers:person", args=[pk])
    )


def _form_page(
    request: HttpRequest,
    form: djforms.Form,
    title: str,
    back: str,
    *,
    intro: str = "",
    multipart: bool = False,
    submit: str = "",
) -> HttpResponse:
    return render(
        request,
        "registers/form.html",
        _ctx(request, form=form, title=title, back=back, intro=intro, multipart=multipart, submit=submit or _("保存")),
        status=400 if form.errors else 200,
    )


ACTION_FORMS: dict[str, tuple[type[djforms.Form], str]] = {
    "move_out": (f.MoveOutForm, "迁出登记"),
    "cancel": (f.CancelForm, "注销登记"),
    "archive": (f.ArchiveForm, "归档"),
}


@screen
def person_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTION_FORMS:
        raise Http404
    person = selectors.person_get(scope=_scope(request), pk=pk)
    form_class, title = ACTION_FORMS[action]
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if action == "move_out":
                services.person_move_out(
                    actor=_user(request),
                    person=person,
                    moved_out_to=data["moved_out_to"],
                    moved_out_on=data["moved_out_on"],
                    reason=data["reason"],
                )
            elif action == "cancel":
                services.person_cancel(
                    actor=_user(request),
                    person=person,
                    cancel_reason=data["cancel_reason"],
                    on=data["on"],
                    reason=data["reason"],
                )
            else:
                services.person_archive(actor=_user(request), person=person, reason=data["reason"])
        except DomainError as exc:
            if isinstance(exc, PermissionRefused):
                raise
            apply_errors(form, exc)
        else:
            messages.success(request, _("已办理%(title)s") % {"title": title})
            return redirect("registers:person", pk=pk)
    return _form_page(request, form, f"{title}：{person.name}", reverse("registers:person", args=[pk]))


@screen
def person_move_in(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    person = selectors.person_get(scope=scope, pk=pk)
    form = f.MoveInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        house = selectors.house_by_code(scope=scope, code=form.cleaned_data["house_code"])
        if house is None:
            form.add_error("house_code", _("房屋编码不存在或不在您的辖区内"))
        else:
            try:
                services.person_move_in(
                    actor=_user(request),
                    person=person,
                    house=house,
                    relation=form.cleaned_data["relation"],
                    moved_in_on=form.cleaned_data["moved_in_on"],
                )
            except DomainError as exc:
                if isinstance(exc, PermissionRefused):
                    raise
                apply_errors(form, exc)
            else:
                messages.success(request, _("已办理迁入"))
                return redirect("registers:person", pk=pk)
    return _form_page(
        request, form, _("迁入登记：%(name)s") % {"name": person.name}, reverse("registers:person", args=[pk])
    )


# --- address registry ----------------------------------------------------------------------------
@screen
def address_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    regions = selectors.leaf_regions(scope=scope)
    form = f.AddressForm(request.POST or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        try:
            address = services.address_create(actor=_user(request), **form.cleaned_data)
        except DomainError as exc:
            if isinstance(exc, PermissionRefused):
                raise
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记地址 %(a)s") % {"a": address.full_text})
            return redirect("registers:address", pk=address.pk)
    q = request.GET.get("q", "")
    page = paginate(
        selectors.address_list(scope=scope, q=q, region_code=request.GET.get("region", "")),
        page=_page(request),
        page_size=50,
    )
    return render(
        request,
        "registers/addresses.html",
        _ctx(request, page=page, q=q, form=form, regions=regions),
        status=400 if form.errors else 200,
    )


@screen
def address_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    address = selectors.address_get(scope=scope, pk=pk)
    form = f.BuildingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            building = services.building_create(actor=_user(request), address=address, **form.cleaned_data)
        except DomainError as exc:
            if isinstance(exc, PermissionRefused):
                raise
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记楼栋"))
            return redirect("registers:building", pk=building.pk)
    buildings = scope.filter(address.buildings.all()).order_by("code")
    return render(
        request,
        "registers/address.html",
        _ctx(request, address=address, buildings=buildings, form=form),
        status=400 if form.errors else 200,
    )


@screen
def building_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    building = selectors.building_get(scope=scope, pk=pk)
    form = f.HouseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items()}
        try:
            house = services.house_create(actor=_user(request), building=building, **data)
        except DomainError as exc:
            if isinstance(exc, PermissionRefused):
                raise
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记房屋"))
            return redirect("registers:house", pk=house.pk)
    houses = selectors.building_houses(scope=scope, building=building)
    units: dict[int, list[Any]] = {}
    for house in houses:
        units.setdefault(house.unit.number, []).append(house)
    return render(
        request,
        "registers/building.html",
        _ctx(request, building=building, units=sorted(units.items()), form=form),
        status=400 if form.errors else 200,
    )


@screen
def house_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    house = selectors.house_get(scope=scope, pk=pk)
    form = f.RentalForm(
        request.POST or None,
        initial={"is_rental": house.is_rental, "rental_use": house.rental_use, "rental_hazard": house.rental_hazard},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.house_set_rental(actor=_user(request), house=house, **form.cleaned_data)
        except DomainError as exc:
            if isinstance(exc, PermissionRefused):
                raise
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("registers:house", pk=pk)
    households = selectors.house_households(scope=scope, house=house)
    residents = (
        list(selectors.person_list(scope=scope, house_id=house.pk, status="all").defer("id_number", "phone"))
        if permissions.can_read_people(scope)
        else []
    )
    return render(
        request,
        "registers/house.html",
        _ctx(request, house=house, households=households, residents=residents, form=form),
        status=400 if form.errors else 200,
    )


@screen
def household_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Register a household and its people in one go (the door-to-door form)."""
    scope = _scope(request)
    house = selectors.house_get(scope=scope, pk=pk)
    if not permissions.can_write(scope):
        raise PermissionRefused(_("您的角色不能登记人口"))
    try:
        extra = max(1, min(int(request.GET.get("n", 3)), 12))
    except ValueError:
        extra = 3
    form = f.HouseholdForm(request.POST or None)
    initial = [{"relation": "02", "population_type": "registered"}] + [{"population_type": "registered"}] * (extra - 1)
    formset = f.MemberFormSet(request.POST or None, initial=initial, prefix="m")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        filled = [(i, m.cleaned_data) for i, m in enumerate(formset.forms) if m.cleaned_data and m.has_changed()]
        members = [{k: v for k, v in data.items() if v not in (None, "")} for _, data in filled]
        try:
            household = services.household_register(
                actor=_user(request), house=house, members=members, **form.cleaned_data
            )
        except DomainError as exc:
            if isinstance(exc, PermissionRefused):
                raise
            index = {str(pos): i for pos, (i, _d) in enumerate(filled)}
            for field, msgs in exc.errors.items():
                if field.startswith("members."):
                    _m, pos, *rest = field.split(".", 2)
                    target = formset.forms[index.get(pos, 0)]
                    name = rest[0] if rest else None
                    for msg in msgs:
                        target.add_error(name if name in target.fields else None, msg)
                else:
                    for msg in msgs:
                        form.add_error(field if field in form.fields else None, msg)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("已登记一户，%(n)s人") % {"n": len(members)})
            return redirect("registers:household", pk=household.pk)
    has_errors = bool(form.errors) or any(m.errors for m in formset.forms) or bool(formset.non_form_errors())
    return render(
        request,
        "registers/household_form.html",
        _ctx(request, house=house, form=form, formset=formset, more=extra + 2),
        status=400 if has_errors else 200,
    )


@screen
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    household = selectors.household_get(scope=scope, pk=pk)
    members = (
        selectors.household_members(scope=scope, household=household)
        .select_related("region")
        .defer("id_number", "phone")
    )
    form = f.PersonForm(request.POST or None, initial={"population_type": "registered"})
    if request.method == "POST" and form.is_valid():
        try:
            services.person_register(
                actor=_user(request), house=household.house, household=household, data=form.data_for_service()
            )
        except DomainError as exc:
            if isinstance(exc, PermissionRefused):
                raise
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记"))
            return redirect("registers:household", pk=pk)
    visits = household.visits.select_related("visitor").order_by("-visited_at")[:20]
    return render(
        request,
        "registers/household.html",
        _ctx(request, household=household, members=members, form=form, visits=visits),
        status=400 if form.errors else 200,
    )


# --- special groups and visits -------------------------------------------------------------------
def _helpers_for(person: Person) -> list[tuple[int, str]]:
    from gridgov.accounts.models import TeamMembership

    region_codes = [c for c in person.region_path.strip("/").split("/") if c]
    users = (
        User.objects.filter(
            is_active=True,
            role__in=[Role.GRID_WORKER, Role.GRID_LEADER, Role.DEPARTMENT_LIAISON, Role.CENTER_OPERATOR],
            jurisdiction__code__in=region_codes,
        )
        .order_by("role", "username")
        .distinct()[:50]
    )
    team = {m.user_id for m in TeamMembership.objects.filter(region__code__in=region_codes)}
    return [(u.pk, f"{u.label}（{u.get_role_display()}{'·团队' if u.pk in team else ''}）") for u in users]


@screen
def group_add(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    person = selectors.person_get(scope=scope, pk=pk)
    if not (permissions.can_write(scope) and permissions.can_see_groups(scope)):
        raise PermissionRefused(_("您的角色不能登记特殊人群"))
    kind = request.POST.get("kind") or request.GET.get("kind") or codes.GroupKind.RELEASED
    if kind not in codes.GroupKind.values:
        kind = codes.GroupKind.RELEASED
    form = f.GroupForm(request.POST or None, kind=kind, helpers=_helpers_for(person), initial={"kind": kind})
    if request.method == "POST" and request.POST.get("_switch") != "1" and form.is_valid():
        d = form.cleaned_data
        try:
            services.group_add(
                actor=_user(request),
                person=person,
                kind=kind,
                attention_level=d["attention_level"],
                started_on=d.get("started_on"),
                risk_code=d.get("risk_code") or "",
                risk_note=d.get("risk_note") or "",
                details=form.details(),
                helper_ids=[int(x) for x in d.get("helper_ids") or []],
                helper_note=d.get("helper_note") or "",
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已列管"))
            return redirect("registers:person", pk=pk)
    elif request.POST.get("_switch") == "1":
        form = f.GroupForm(initial={"kind": kind}, kind=kind, helpers=_helpers_for(person))
    kinds = [(k, str(label)) for k, label in codes.GroupKind.choices]
    return render(
        request,
        "registers/group_form.html",
        _ctx(
            request,
            person=person,
            form=form,
            kind=kind,
            kinds=kinds,
            title=_("列为特殊人群/重点青少年：%(name)s") % {"name": person.name},
        ),
        status=400 if form.errors else 200,
    )


def _membership(request: HttpRequest, pk: int) -> GroupMembership:
    membership = selectors.group_members(scope=_scope(request)).filter(pk=pk).first()
    if membership is None:
        raise NotFound(_("列管记录不存在或不在您的辖区内"))
    return membership


@screen
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    m = _membership(request, pk)
    initial = {
        "attention_level": m.attention_level,
        "risk_code": m.risk_code,
        "risk_note": m.risk_note,
        "helper_ids": [str(u.pk) for u in m.helpers.all()],
        "helper_note": m.helper_note,
        **{f"d_{k}": v for k, v in m.details.items()},
    }
    form = f.GroupForm(
        request.POST or None, kind=m.kind, helpers=_helpers_for(m.person), fixed_kind=True, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.group_update(
                actor=_user(request),
                membership=m,
                attention_level=d["attention_level"],
                risk_code=d.get("risk_code") or "",
                risk_note=d.get("risk_note") or "",
                details=form.details(),
                helper_ids=[int(x) for x in d.get("helper_ids") or []],
                helper_note=d.get("helper_note") or "",
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("registers:person", pk=m.person_id)
    return _form_page(
        request, form, f"{m.get_kind_display()}：{m.person.name}", reverse("registers:person", args=[m.person_id])
    )


@screen
def group_end(request: HttpRequest, pk: int) -> HttpResponse:
    m = _membership(request, pk)
    form = f.EndGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_end(actor=_user(request), membership=m, **form.cleaned_data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已解除列管"))
            return redirect("registers:person", pk=m.person_id)
    return _form_page(
        request,
        form,
        _("解除列管：%(name)s") % {"name": m.person.name},
        reverse("registers:person", args=[m.person_id]),
    )


@screen
def group_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    counts = selectors.group_counts(scope=scope)
    page = None
    g = request.GET
    if permissions.can_see_groups(scope):
        qs = selectors.group_members(
            scope=scope, kind=g.get("kind", ""), attention_level=g.get("level", ""), q=g.get("q", "")
        )
        page = paginate(qs, page=_page(request), page_size=50)
        page.items = selectors.due_rows(page.items)
    return render(
        request,
        "registers/groups.html",
        _ctx(
            request, counts=counts, page=page, f=g, kinds=codes.GroupKind.choices, levels=codes.AttentionLevel.choices
        ),
    )


@screen
def visits_due(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    status = request.GET.get("status", "due")
    if status not in ("due", "overdue", "all"):
        status = "due"
    qs = selectors.visits_due(
        scope=scope, status=status, kind=request.GET.get("kind", ""), region_code=request.GET.get("region", "")
    )
    page = paginate(qs, page=_page(request), page_size=50)
    page.items = selectors.due_rows(page.items)
    return render(
        request,
        "registers/due.html",
        _ctx(
            request,
            page=page,
            status=status,
            f=request.GET,
            kinds=codes.GroupKind.choices,
            regions=selectors.leaf_regions(scope=scope),
        ),
    )


@screen
def visit_new(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    person = household = place = None
    g = request.GET
    if g.get("person"):
        person = selectors.person_get(scope=scope, pk=int(g["person"]))
        back = reverse("registers:person", args=[person.pk])
        target = person.name
    elif g.get("household"):
        household = selectors.household_get(scope=scope, pk=int(g["household"]))
        back = reverse("registers:household", args=[household.pk])
        target = f"{household.house} · {household}"
    elif g.get("place"):
        place = selectors.entity_get(scope=scope, entity="places", pk=int(g["place"]))
        back = reverse("registers:entity", args=["places", place.pk])
        target = place.name
    else:
        raise Http404
    form = f.VisitForm(
        request.POST or None, request.FILES or None, initial={"kind": "inspection" if place else "routine"}
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.visit_record(
                actor=_user(request),
                person=person,
                household=household,
                place=place,
                kind=d["kind"],
                outcome=d["outcome"],
                findings=d["findings"],
                visited_at=d.get("visited_at"),
                lat=d.get("lat"),
                lng=d.get("lng"),
                photos=request.FILES.getlist("photos"),
            )
        except DomainError as exc:
            if isinstance(exc, PermissionRefused):
                raise
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记走访"))
            return redirect(back)
    return _form_page(request, form, _("登记走访：%(t)s") % {"t": target}, back, multipart=True)


@screen
def visit_rules(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form = f.VisitRuleForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.visit_rule_set(actor=_user(request), **form.cleaned_data)
            except DomainError as exc:
                if isinstance(exc, PermissionRefused):
                    raise
                messages.error(request, exc.message)
            else:
                messages.success(request, _("走访频次已更新"))
                return redirect("registers:visit_rules")
        else:
            messages.error(request, _("走访间隔应在1到366天之间"))
    rows = selectors.visit_rules(scope=scope)
    return render(
        request, "registers/visit_rules.html", _ctx(request, rows=rows, can_configure=permissions.can_configure(scope))
    )


# --- places, organisations, schools, lines, governance, teams ------------------------------------
def _spec(entity: str) -> Any:
    spec = services.ENTITIES.get(entity)
    if spec is None:
        raise Http404
    return spec


@screen
def entity_list(request: HttpRequest, entity: str) -> HttpResponse:
    spec = _spec(entity)
    scope = _scope(request)
    g = request.GET
    qs = selectors.entity_list(
        scope=scope,
        entity=entity,
        q=g.get("q", ""),
        kind=g.get("kind", ""),
        risk_level=g.get("risk", ""),
        region_code=g.get("region", ""),
        overdue=g.get("overdue") == "1",
    )
    page = paginate(qs, page=_page(request), page_size=50)
    model_fields = {fl.name: fl for fl in spec.model._meta.fields}
    kind_field = next(
        (model_fields[n] for n in ("kind", "school_type", "team_type", "institution_type") if n in model_fields), None
    )
    columns = [
        n
        for n in spec.fields
        if n
        in (
            "kind",
            "school_type",
            "team_type",
            "institution_type",
            "risk_level",
            "address",
            "next_inspection_due",
            "contact_name",
            "students",
            "member_count",
            "section",
            "category",
            "employees",
        )
    ][:4]
    if entity == "places":
        columns = ["kind", "risk_level", "address"]
    rows = [(o, [_display(o, c) for c in columns]) for o in page.items]
    return render(
        request,
        "registers/entity_list.html",
        _ctx(
            request,
            entity=entity,
            spec=spec,
            page=page,
            rows=rows,
            headers=[str(model_fields[c].verbose_name) for c in columns],
            f=g,
            kinds=kind_field.choices if kind_field is not None else [],
            has_risk="risk_level" in model_fields,
            regions=selectors.leaf_regions(scope=scope),
        ),
    )


def _display(obj: Any, name: str) -> Any:
    getter = getattr(obj, f"get_{name}_display", None)
    value = getter() if getter else getattr(obj, name)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return value if value not in (None, "") else "—"


@screen
def entity_detail(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    spec = _spec(entity)
    scope = _scope(request)
    obj = selectors.entity_get(scope=scope, entity=entity, pk=pk)
    facts = [
        (str(spec.model._meta.get_field(n).verbose_name), _display(obj, n)) for n in spec.fields if n != "geometry"
    ]
    extra: dict[str, Any] = {}
    if entity == "places":
        facts.append((_("下次巡查期限"), obj.next_inspection_due or "—"))
        extra["visits"] = selectors.entity_visits(scope=scope, place=obj)[:30]
        extra["overdue"] = bool(obj.next_inspection_due and obj.next_inspection_due < dt.date.today())
    if entity == "schools":
        extra["surroundings"] = selectors.school_surroundings(scope=scope, school=obj)
    if entity == "lines" and obj.team_id:
        facts.append((_("护路护线队伍"), obj.team))
    link_kind = LINKABLE_ENTITIES.get(entity)
    if link_kind:
        link_form, linked = _case_link_post(request, obj)
        if linked:
            return redirect("registers:entity", entity=entity, pk=pk)
        extra["link_form"] = link_form
        extra["case_links"] = selectors.subject_case_links(scope=scope, kind=link_kind, subject=obj)
    elif request.method == "POST":
        return HttpResponse(status=405)
    history = (
        list(obj.history.select_related("history_user").order_by("-history_date")[:20])
        if hasattr(obj, "history")
        else []
    )
    return render(
        request,
        "registers/entity_detail.html",
        _ctx(request, entity=entity, spec=spec, obj=obj, facts=facts, history=history, link_kind=link_kind, **extra),
        status=400 if link_kind and extra["link_form"].errors else 200,
    )


@screen
def entity_form(request: HttpRequest, entity: str, pk: int | None = None) -> HttpResponse:
    spec = _spec(entity)
    scope = _scope(request)
    if not permissions.can_write(scope):
        raise PermissionRefused(_("您的角色不能登记%(label)s") % {"label": _(spec.label)})
    obj = selectors.entity_get(scope=scope, entity=entity, pk=pk) if pk else None
    form_class = f.entity_form_class(entity)
    form = form_class(request.POST or None, instance=obj)
    regions = selectors.leaf_regions(scope=scope)
    placement = f.PlacementForm(
        request.POST or None,
        regions=regions,
        initial={
            "region_code": obj.region.code if obj else "",
            "lat": obj.lat if obj else None,
            "lng": obj.lng if obj else None,
        },
    )
    if request.method == "POST" and form.is_valid() and placement.is_valid():
        data = {n: form.cleaned_data[n] for n in form.fields} | {
            k: v for k, v in placement.cleaned_data.items() if v not in (None, "")
        }
        if (
            obj is not None
            and placement.cleaned_data.get("region_code") == obj.region.code
            and placement.cleaned_data.get("lat") == obj.lat
        ):
            data.pop("region_code", None)
            data.pop("lat", None)
            data.pop("lng", None)
        try:
            saved = (
                services.entity_update(actor=_user(request), obj=obj, data=data)
                if obj
                else services.entity_create(actor=_user(request), entity=entity, data=data)
            )
        except DomainError as exc:
            if isinstance(exc, PermissionRefused):
                raise
            for field, msgs in exc.errors.items():
                target = placement if field in ("region_code", "location", "lat", "lng") else form
                for msg in msgs:
                    target.add_error(field if field in target.fields else None, msg)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("已保存"))
            return redirect("registers:entity", entity=entity, pk=saved.pk)
    title = (
        (_("修改%(label)s：%(name)s") % {"label": _(spec.label), "name": obj})
        if obj
        else (_("新建%(label)s") % {"label": _(spec.label)})
    )
    back = reverse("registers:entity", args=[entity, obj.pk]) if obj else reverse("registers:entities", args=[entity])
    return render(
        request,
        "registers/entity_form.html",
        _ctx(request, form=form, placement=placement, title=title, back=back, spec=spec),
        status=400 if form.errors or placement.errors else 200,
    )


# --- import / export -----------------------------------------------------------------------------
def _register_or_404(register: str) -> str:
    if register not in spreadsheets.REGISTERS:
        raise Http404
    return spreadsheets.REGISTERS[register]


@screen
def template_download(request: HttpRequest, register: str) -> HttpResponse:
    _register_or_404(register)
    response = HttpResponse(spreadsheets.template_workbook(register), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{register}-template.xlsx"
    return response


@screen
def import_view(request: HttpRequest, register: str) -> HttpResponse:
    label = _register_or_404(register)
    if not permissions.can_write(_scope(request)):
        raise PermissionRefused(_("您的角色不能导入登记数据"))
    form = f.ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = spreadsheets.import_workbook(
                actor=_user(request), register=register, content=form.cleaned_data["file"].read(), request=request
            )
        except DomainError as exc:
            if isinstance(exc, PermissionRefused):
                raise
            apply_errors(form, exc)
        else:
            if report.ok:
                messages.success(request, _("导入成功：%(n)s条") % {"n": report.created})
    status = 400 if form.errors or (report and not report.ok) else 200
    return render(
        request,
        "registers/import.html",
        _ctx(request, form=form, report=report, register=register, label=_(label)),
        status=status,
    )


@screen
@require_POST
def export_view(request: HttpRequest, register: str) -> HttpResponse:
    _register_or_404(register)
    scope = _scope(request)
    form = f.ExportForm(request.POST)
    if not form.is_valid():
        raise PermissionRefused(_("导出参数有误"))
    g = request.POST
    filters = {k: g.get(k, "") for k in ("q", "type", "status", "region", "kind", "risk") if g.get(k)}
    rows: Any
    if register == "people":
        rows = selectors.person_list(
            scope=scope,
            q=g.get("q", ""),
            population_type=g.get("type", ""),
            status=g.get("status", codes.PersonStatus.ACTIVE),
            region_code=g.get("region", ""),
        ).select_related("house__building__address", "house__unit")
        rows = spreadsheets.export_people_queryset(rows, reveal=form.cleaned_data["reveal"])
    else:
        rows = selectors.entity_list(
            scope=scope,
            entity=register,
            q=g.get("q", ""),
            kind=g.get("kind", ""),
            risk_level=g.get("risk", ""),
            region_code=g.get("region", ""),
        )
    try:
        content = spreadsheets.export_workbook(
            actor=_user(request),
            register=register,
            rows=rows.iterator(chunk_size=2000),
            filters=filters,
            reveal=form.cleaned_data["reveal"],
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except DomainError as exc:
        if isinstance(exc, PermissionRefused):
            raise
        messages.error(request, exc.message)
        return redirect("registers:people" if register == "people" else reverse("registers:entities", args=[register]))
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{register}-{dt.date.today():%Y%m%d}.xlsx"
    return response
