"""Disputes: intake, the transition table, refusals, a case through mediation, success rates."""

from __future__ import annotations

import pytest

from gridgov.accounts.scope import Scope
from gridgov.cases import services as case_services
from gridgov.cases.models import State
from gridgov.common.errors import Conflict, PermissionRefused, ValidationFailed
from gridgov.dashboard import selectors as dashboard
from gridgov.mediation import selectors, services
from gridgov.mediation.models import DisputeParty, DisputeState
from gridgov.mediation.services import PartyIn
from gridgov.mediation.states import DISPUTE_TRANSITIONS
from tests.cases.factories import report
from tests.mediation.factories import PARTIES, dispute_in, make_centres, register


@pytest.fixture
def centres(personas):
    return make_centres(personas)


def test_register_seals_party_identifiers_and_masks_them(personas, centres):
    d = register(personas)
    assert d.state == DisputeState.REGISTERED and d.centre == centres["village"]
    applicant = DisputeParty.objects.get(dispute=d, role="applicant")
    assert applicant.id_masked.startswith("330109") and "*" in applicant.id_masked
    assert applicant.phone_masked == "138****5678" and applicant.id_hash
    assert selectors.party_summary(d) == "张*丰 与 李*"
    assert d.events.get().action == "register"


def test_register_refuses_bad_input_field_by_field(personas, centres):
    with pytest.raises(ValidationFailed) as exc:
        services.dispute_register(
            actor=personas.town_operator,
            title="",
            kind="0200",
            description="",
            region=personas.tree.microgrids[0],
            parties=[PartyIn(role="applicant", name="", id_number="330109198501011234", phone="123")],
        )
    errors = exc.value.errors
    assert {
        "title",
        "kind",
        "description",
        "parties",
        "parties.0.name",
        "parties.0.id_number",
        "parties.0.phone",
    } <= set(errors)


def test_register_refuses_roles_and_places_outside(personas, centres):
    with pytest.raises(PermissionRefused):
        register(personas, actor=personas.grid_worker)
    with pytest.raises(ValidationFailed) as exc:
        register(personas, actor=personas.other_town_operator)
    assert "region" in exc.value.errors


@pytest.mark.parametrize(
    "state",
    [
        DisputeState.MEDIATING,
        DisputeState.SETTLED,
        DisputeState.CONFIRMED,
        DisputeState.FAILED,
        DisputeState.TRANSFERRED,
        DisputeState.WITHDRAWN,
    ],
)
def test_every_state_is_reachable_with_a_timeline(personas, centres, state):
    d = dispute_in(personas, state)
    assert d.state == state
    assert d.events.last().to_state == state


def test_settling_numbers_the_agreement(personas, centres):
    d = dispute_in(personas, DisputeState.SETTLED)
    assert d.agreement_no.startswith("（2026）") and d.agreement_no.endswith("调字第1号")
    assert d.concluded_at is not None


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (DisputeState.REGISTERED, "settle"),
        (DisputeState.SETTLED, "fail"),
        (DisputeState.SETTLED, "settle"),
        (DisputeState.FAILED, "settle"),
        (DisputeState.WITHDRAWN, "accept"),
        (DisputeState.MEDIATING, "follow_up"),
        (DisputeState.REGISTERED, "confirm"),
    ],
)
def test_wrong_state_is_a_conflict(personas, centres, state, action):
    d = dispute_in(personas, state)
    with pytest.raises(Conflict):
        services.check_dispute_may(personas.mediator, d, action)


def test_only_the_assigned_mediator_records_sessions_and_outcomes(personas, centres):
    p = personas
    d = dispute_in(p, DisputeState.MEDIATING)
    with pytest.raises(PermissionRefused) as exc:
        services.session_record(actor=p.town_operator, dispute=d, held_at=None, mode="online", summary="线上调解")
    assert exc.value.rule == "mediation.session.role"
    from tests.factories import UserFactory

    other = UserFactory(username="max", role="mediator", jurisdiction=p.tree.towns[0])
    with pytest.raises(PermissionRefused) as exc:
        services.dispute_settle(actor=other, dispute=d, agreement="双方同意和解并互不追究", performance_term="当场")
    assert exc.value.rule == "mediation.settle.jurisdiction"
    with pytest.raises(PermissionRefused):
        services.dispute_accept(
            actor=p.grid_worker, dispute=dispute_in(p, DisputeState.REGISTERED), mediator=p.mediator
        )
    s = services.session_record(
        actor=p.mediator, dispute=d, held_at=None, mode="in_person", location="社区调解室", summary="背对背调解"
    )
    assert s.mediator == p.mediator


def test_a_mediator_outside_the_centre_cannot_be_assigned(personas, centres):
    from tests.factories import UserFactory

    p = personas
    far = UserFactory(username="far", role="mediator", jurisdiction=p.tree.towns[1])
    d = register(p)
    with pytest.raises(ValidationFailed) as exc:
        services.dispute_accept(actor=p.town_operator, dispute=d, mediator=far)
    assert "mediator" in exc.value.errors
    with pytest.raises(PermissionRefused):
        services.dispute_accept(actor=p.other_town_operator, dispute=d, mediator=p.mediator)


def test_stale_version_loses(personas, centres):
    p = personas
    d = dispute_in(p, DisputeState.MEDIATING)
    seen = d.version
    services.dispute_fail(actor=p.mediator, dispute=d, reason="分歧大", expected_version=seen)
    with pytest.raises(Conflict):
        services.dispute_settle(
            actor=p.mediator,
            dispute=d,
            agreement="双方同意和解并互不追究",
            performance_term="当场",
            expected_version=seen,
        )


def test_every_transition_has_a_service():
    names = {
        "accept": "dispute_accept",
        "reassign": "dispute_reassign",
        "session": "session_record",
        "settle": "dispute_settle",
        "confirm": "dispute_confirm",
        "fail": "dispute_fail",
        "transfer": "dispute_transfer",
        "withdraw": "dispute_withdraw",
        "follow_up": "dispute_follow_up",
    }
    assert set(names) == set(DISPUTE_TRANSITIONS)
    assert all(callable(getattr(services, n)) for n in names.values())


def test_a_case_goes_through_mediation_to_an_agreement_and_is_closed(personas, centres):
    p = personas
    case = report(p, code="0102", description="楼上漏水，邻里协商不成")
    case = case_services.case_accept(actor=p.village_operator, case=case)
    d = services.dispute_from_case(
        actor=p.village_operator, case=case, title="邻里漏水纠纷", kind="0201", parties=PARTIES
    )
    case.refresh_from_db()
    assert case.state == State.HANDLING and case.department is None and case.handle_deadline is not None
    assert d.case == case and d.source == "case"
    assert "refer_mediation" not in case_services.allowed_actions(p.village_operator, case)
    d = services.dispute_accept(actor=p.mediator, dispute=d, mediator=p.mediator)
    services.session_record(actor=p.mediator, dispute=d, held_at=None, mode="online", summary="在线调解，双方同意赔偿")
    d = services.dispute_settle(
        actor=p.mediator, dispute=d, agreement="楼上住户赔偿维修费二千元。", performance_term="十日内付清"
    )
    case.refresh_from_db()
    assert case.state == State.CLOSED and "调字第" in case.result
    assert list(case.events.values_list("action", flat=True))[-2:] == ["refer_mediation", "mediation_close"]
    # The command centre counts the mediated close as the case table does.
    district = p.tree.district
    figures = dashboard.figures(region=district, now=case.closed_at)
    assert figures.month_closed == 1
    assert figures == dashboard.figures_from_cases(region=district, now=case.closed_at)
    services.dispute_follow_up(actor=p.mediator, dispute=d, method="phone", performance="full", note="已按约付清")
    assert d.follow_ups.count() == 1


def test_a_failed_mediation_hands_the_case_back_to_its_centre(personas, centres):
    p = personas
    case = case_services.case_accept(actor=p.village_operator, case=report(p, code="0102"))
    d = services.dispute_from_case(actor=p.village_operator, case=case, title="纠纷", kind="0201", parties=PARTIES)
    d = services.dispute_accept(actor=p.village_operator, dispute=d, mediator=p.mediator)
    services.dispute_transfer(actor=p.village_operator, dispute=d, to="court", reason="当事人坚持诉讼")
    case.refresh_from_db()
    assert case.state == State.ACCEPTED


def test_only_the_holding_centre_refers_a_case_and_only_once(personas, centres):
    p = personas
    case = case_services.case_accept(actor=p.village_operator, case=report(p, code="0102"))
    with pytest.raises(PermissionRefused):
        services.dispute_from_case(actor=p.grid_worker, case=case, title="纠纷", kind="0201", parties=PARTIES)
    services.dispute_from_case(actor=p.village_operator, case=case, title="纠纷", kind="0201", parties=PARTIES)
    with pytest.raises(Conflict):
        services.dispute_from_case(actor=p.village_operator, case=case, title="纠纷", kind="0201", parties=PARTIES)
    case.refresh_from_db()
    assert case.disputes.count() == 1


def test_success_rates_by_level_kind_and_mediator(personas, centres):
    p = personas
    for state in (DisputeState.SETTLED, DisputeState.CONFIRMED, DisputeState.FAILED, DisputeState.MEDIATING):
        dispute_in(p, state)  # village centre, kind 02
    dispute_in(p, DisputeState.TRANSFERRED, kind="0701", centre=centres["town"])
    dispute_in(p, DisputeState.SETTLED, kind="0701", centre=centres["town"])
    dispute_in(p, DisputeState.WITHDRAWN, kind="0701", centre=centres["town"])
    scope = Scope.for_user(p.leader)
    whole, levels = selectors.success_rates(scope=scope, by="level")
    assert (whole.total, whole.settled, whole.concluded, whole.open, whole.withdrawn) == (7, 3, 5, 1, 1)
    assert whole.success_rate == pytest.approx(3 / 5)
    by = {r.key: r for r in levels}
    assert by["community"].success_rate == pytest.approx(2 / 3)
    assert by["street"].success_rate == pytest.approx(1 / 2)
    _, kinds = selectors.success_rates(scope=scope, by="kind")
    assert [(r.key, r.settled, r.concluded) for r in kinds] == [("02", 2, 3), ("07", 1, 2)]
    _, people = selectors.success_rates(scope=scope, by="mediator")
    assert [(r.label, r.settled, r.concluded, r.open, r.withdrawn) for r in people] == [
        ("（未指派）", 0, 0, 0, 1),
        (p.mediator.label, 3, 5, 1, 0),
    ]
    # Another town's operator sees none of it.
    assert selectors.success_rates(scope=Scope.for_user(p.other_town_operator), by="level")[0].total == 0
