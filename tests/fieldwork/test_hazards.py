"""The hazard campaign: campaign, inspection, hazard state machine, refusals and progress figures."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.accounts.scope import Scope
from gridgov.common import clock
from gridgov.common.errors import Conflict, PermissionRefused, ValidationFailed
from gridgov.fieldwork import selectors, services
from gridgov.fieldwork.models import CampaignState, HazardEvent, HazardState, InspectionState
from gridgov.fieldwork.services import ItemResult
from gridgov.fieldwork.states import HAZARD_TRANSITIONS
from tests.cases.factories import TZ
from tests.fieldwork.factories import (
    TODAY,
    hazard_in,
    inspect_failing,
    make_campaign,
    make_inspection,
    make_place,
)


def test_a_campaign_needs_a_checklist_dates_and_regions_inside_the_organiser(personas):
    p = personas
    with pytest.raises(ValidationFailed) as exc:
        services.campaign_create(
            actor=p.town_operator,
            name="",
            starts_on=TODAY,
            ends_on=TODAY - dt.timedelta(days=1),
            scope_regions=[p.tree.towns[1]],
            checklist=[],
        )
    assert set(exc.value.errors) >= {"name", "ends_on", "scope_regions", "checklist"}


def test_only_centre_operators_organise_campaigns(personas):
    with pytest.raises(PermissionRefused):
        make_campaign_as(personas, personas.grid_worker)
    with pytest.raises(PermissionRefused):
        make_campaign_as(personas, personas.leader)


def make_campaign_as(p, actor):
    return services.campaign_create(
        actor=actor,
        name="x",
        starts_on=TODAY,
        ends_on=TODAY,
        scope_regions=[p.tree.towns[0]],
        checklist=["a"],
    )


def test_inspection_records_results_and_raises_a_hazard_per_failed_item(personas):
    p = personas
    campaign = make_campaign(p)
    inspection = make_inspection(p, campaign)
    hazards = inspect_failing(p, inspection, fail=2)
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.DONE
    assert inspection.results.count() == 3
    assert [h.state for h in hazards] == [HazardState.FOUND, HazardState.FOUND]
    assert hazards[0].number.endswith("-00001") and hazards[1].number.endswith("-00002")
    assert HazardEvent.objects.filter(hazard=hazards[0], action="raise").count() == 1


def test_an_inspection_needs_every_item_and_a_description_of_each_failure(personas):
    p = personas
    inspection = make_inspection(p, make_campaign(p))
    first = inspection.campaign.items.order_by("seq").first()
    with pytest.raises(ValidationFailed) as exc:
        services.inspection_record(
            actor=p.grid_worker, inspection=inspection, results={first.pk: ItemResult(passed=False, note="")}
        )
    assert len(exc.value.errors) == 3
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.ASSIGNED and inspection.results.count() == 0


def test_an_inspection_is_recorded_once_and_only_by_its_assignee_or_the_centre(personas):
    p = personas
    inspection = make_inspection(p, make_campaign(p))
    with pytest.raises(PermissionRefused):
        inspect_failing(_as(p, p.colleague), inspection)
    inspect_failing(p, inspection)
    with pytest.raises(Conflict):
        inspect_failing(p, inspection)


def _as(p, user):
    class Proxy:
        def __getattr__(self, name):
            return user if name == "grid_worker" else getattr(p, name)

    return Proxy()


def test_a_draft_campaign_cannot_be_inspected(personas):
    p = personas
    campaign = make_campaign(p, start=False)
    inspection = make_inspection(p, campaign)
    with pytest.raises(Conflict):
        inspect_failing(p, inspection)
    services.campaign_start(actor=p.town_operator, campaign=campaign)
    assert inspect_failing(p, inspection)


def test_hazard_walks_found_rectifying_rectified_signed_off_with_a_timeline(personas):
    hazard = hazard_in(personas, HazardState.SIGNED_OFF)
    assert hazard.state == HazardState.SIGNED_OFF
    assert hazard.signed_off_at is not None
    actions = list(hazard.events.values_list("action", "from_state", "to_state"))
    assert actions == [
        ("raise", "", "found"),
        ("assign", "found", "rectifying"),
        ("report", "rectifying", "rectified"),
        ("sign_off", "rectified", "signed_off"),
    ]


def test_re_inspection_can_send_a_hazard_back_with_a_new_deadline(personas):
    p = personas
    hazard = hazard_in(p, HazardState.RECTIFIED)
    hazard = services.hazard_send_back(
        actor=p.town_operator, hazard=hazard, reason="充电线仍未拆除", deadline=TODAY + dt.timedelta(days=3)
    )
    assert hazard.state == HazardState.RECTIFYING
    assert hazard.send_back_count == 1 and hazard.deadline == TODAY + dt.timedelta(days=3)


def test_four_implementations_are_all_required(personas):
    p = personas
    hazard = hazard_in(p, HazardState.FOUND)
    with pytest.raises(ValidationFailed) as exc:
        services.hazard_assign(
            actor=p.town_operator, hazard=hazard, target="", measures="", responsible="", deadline=None
        )
    assert set(exc.value.errors) == {"target", "measures", "responsible", "deadline"}
    hazard.refresh_from_db()
    assert hazard.state == HazardState.FOUND and hazard.events.count() == 1


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (HazardState.FOUND, "report"),
        (HazardState.FOUND, "sign_off"),
        (HazardState.RECTIFYING, "sign_off"),
        (HazardState.RECTIFYING, "assign"),
        (HazardState.SIGNED_OFF, "send_back"),
        (HazardState.SIGNED_OFF, "list"),
        (HazardState.VOIDED, "assign"),
    ],
)
def test_actions_from_the_wrong_state_are_conflicts(personas, state, action):
    p = personas
    hazard = hazard_in(p, state)
    actor = p.grid_worker if action == "report" else p.town_operator
    with pytest.raises(Conflict):
        services.check_hazard_may(actor, hazard, action)


def test_refusals_name_the_role_and_the_jurisdiction(personas):
    p = personas
    hazard = hazard_in(p, HazardState.FOUND)
    with pytest.raises(PermissionRefused) as exc:
        services.hazard_assign(
            actor=p.grid_worker, hazard=hazard, target="t", measures="m", responsible="r", deadline=TODAY
        )
    assert exc.value.rule == "fieldwork.hazard.assign.role"
    with pytest.raises(PermissionRefused) as exc:
        services.hazard_assign(
            actor=p.other_town_operator, hazard=hazard, target="t", measures="m", responsible="r", deadline=TODAY
        )
    assert exc.value.rule == "fieldwork.hazard.assign.jurisdiction"
    rectifying = hazard_in(p, HazardState.RECTIFYING)
    with pytest.raises(PermissionRefused):
        services.hazard_report(actor=p.colleague, hazard=rectifying, rectification="done")
    with pytest.raises(PermissionRefused):
        services.hazard_report(actor=p.outsider, hazard=rectifying, rectification="done")


def test_listing_needs_a_street_or_district_centre(personas):
    p = personas
    hazard = hazard_in(p, HazardState.RECTIFYING)
    with pytest.raises(PermissionRefused):
        services.hazard_list(actor=p.village_operator, hazard=hazard, owner="街道副主任", requirement="限期整改")
    hazard = services.hazard_list(actor=p.town_operator, hazard=hazard, owner="街道副主任", requirement="限期整改")
    assert hazard.listed and hazard.state == HazardState.RECTIFYING
    with pytest.raises(Conflict):
        services.hazard_list(actor=p.town_operator, hazard=hazard, owner="x", requirement="y")


def test_a_stale_version_loses(personas):
    p = personas
    hazard = hazard_in(p, HazardState.RECTIFIED)
    seen = hazard.version
    services.hazard_sign_off(actor=p.town_operator, hazard=hazard, expected_version=seen)
    with pytest.raises(Conflict):
        services.hazard_send_back(actor=p.town_operator, hazard=hazard, reason="不合格", expected_version=seen)


def test_every_transition_has_a_service():
    names = {a: getattr(services, f"hazard_{a}") for a in HAZARD_TRANSITIONS}
    assert all(callable(f) for f in names.values())


def test_progress_counts_units_hazards_rectified_and_overdue_by_region(personas):
    p = personas
    campaign = make_campaign(p)
    # Community 1: three units, two checked, hazards in each state.
    signed = hazard_in(p, HazardState.SIGNED_OFF, campaign)
    hazard_in(p, HazardState.RECTIFYING, campaign)
    make_inspection(p, campaign)
    # Community 2 of the same town: one unit checked with one hazard found.
    place = make_place(p.tree.communities[1].children.first().children.first())
    insp = services.inspection_assign(
        actor=p.town_operator,
        campaign=campaign,
        place=place,
        department=p.department,
        due_on=TODAY + dt.timedelta(days=3),
    )
    services.inspection_record(
        actor=p.handler,
        inspection=insp,
        results={i.pk: ItemResult(passed=False, note="通道堵塞") for i in campaign.items.all()[:1]}
        | {i.pk: ItemResult(passed=True) for i in campaign.items.all()[1:]},
    )
    scope = Scope.for_user(p.town_operator)
    later = dt.datetime(2026, 12, 1, 10, 0, tzinfo=TZ)  # past the 5-day deadline
    with clock.frozen(later):
        whole, rows = selectors.campaign_progress(scope=scope, campaign=campaign)
    assert (whole.units, whole.checked, whole.hazards, whole.rectified, whole.overdue) == (4, 3, 3, 1, 1)
    assert whole.rectify_rate == pytest.approx(1 / 3)
    by = {r.key: r for r in rows}
    c1, c2 = p.tree.communities[0].code, p.tree.communities[1].code
    assert (by[c1].units, by[c1].checked, by[c1].hazards, by[c1].overdue) == (3, 2, 2, 1)
    assert (by[c2].units, by[c2].checked, by[c2].hazards, by[c2].rectified) == (1, 1, 1, 0)
    # A village operator sees only their community.
    whole_v, _ = selectors.campaign_progress(scope=Scope.for_user(p.village_operator), campaign=campaign)
    assert (whole_v.units, whole_v.hazards) == (3, 2)
    assert signed.state == HazardState.SIGNED_OFF


def test_overdue_filter_and_campaign_visibility(personas):
    p = personas
    campaign = make_campaign(p)
    hazard_in(p, HazardState.RECTIFYING, campaign)
    scope = Scope.for_user(p.town_operator)
    with clock.frozen(dt.datetime(2026, 12, 1, 10, 0, tzinfo=TZ)):
        assert selectors.hazard_list(scope=scope, f=selectors.HazardFilters(overdue=True)).count() == 1
    assert selectors.hazard_list(scope=scope, f=selectors.HazardFilters(overdue=True)).count() == 0
    assert selectors.campaign_list(scope=Scope.for_user(p.grid_worker)).count() == 1
    assert selectors.campaign_list(scope=Scope.for_user(p.other_town_operator)).count() == 0
    assert selectors.campaign_list(scope=Scope.for_user(p.outsider)).count() == 0


def test_generate_assigns_every_target_place_once_to_its_grid_worker(personas):
    p = personas
    campaign = make_campaign(p)
    make_place(p.tree.microgrids[0])
    make_place(p.tree.microgrids[1])
    make_place(p.tree.microgrids[0], kind="restaurant")
    make_place(p.tree.microgrids[-1])  # town 2: outside the campaign
    due = TODAY + dt.timedelta(days=10)
    assert services.inspection_generate(actor=p.town_operator, campaign=campaign, due_on=due) == 2
    assert services.inspection_generate(actor=p.town_operator, campaign=campaign, due_on=due) == 0
    assert set(campaign.inspections.values_list("assignee__username", flat=True)) == {"alice"}


def test_campaign_lifecycle(personas):
    p = personas
    campaign = make_campaign(p, start=False)
    with pytest.raises(Conflict):
        services.campaign_close(actor=p.town_operator, campaign=campaign)
    services.campaign_start(actor=p.town_operator, campaign=campaign)
    campaign = services.campaign_close(actor=p.town_operator, campaign=campaign)
    assert campaign.state == CampaignState.CLOSED
    with pytest.raises(Conflict):
        make_inspection(p, campaign)
