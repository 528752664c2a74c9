"""Each refusal names its rule: wrong role, wrong unit, wrong jurisdiction, wrong state."""

from __future__ import annotations

import pytest

from gridgov.cases import services
from gridgov.cases.models import Case, CaseEvent, State
from gridgov.common.errors import Conflict, PermissionRefused
from tests.cases.factories import IN_GRID_2, drive, photo, report

pytestmark = pytest.mark.django_db


def refused(fn, **kw) -> PermissionRefused:
    with pytest.raises(PermissionRefused) as exc:
        fn(**kw)
    return exc.value


def test_wrong_role_cannot_accept(personas):
    case = report(personas)
    for who in (personas.grid_worker, personas.handler, personas.leader, personas.grid_leader):
        err = refused(services.case_accept, actor=who, case=case)
        assert err.rule == "cases.accept.role"
        assert "承办中心坐席" in err.message
    assert Case.objects.get(pk=case.pk).state == State.REPORTED


def test_only_the_holding_centre_accepts(personas):
    case = report(personas)  # held by the village centre
    for who in (personas.town_operator, personas.other_town_operator, personas.district_operator):
        err = refused(services.case_accept, actor=who, case=case)
        assert err.rule == "cases.accept.jurisdiction"
        assert "该案件由" in err.message


def test_only_the_lead_departments_handlers_sign_return_and_handle(personas, world):
    case = drive(personas, report(personas), State.DISPATCHED)
    err = refused(services.case_sign, actor=world.other_handler, case=case)
    assert err.rule == "cases.sign.unit" and "区城管局" in err.message
    err = refused(services.case_return, actor=world.other_handler, case=case, grounds="不归我们管")
    assert err.rule == "cases.return.unit"
    err = refused(services.case_sign, actor=personas.village_operator, case=case)
    assert err.rule == "cases.sign.role"
    case = services.case_sign(actor=personas.handler, case=case)
    err = refused(services.case_handle, actor=world.other_handler, case=case, result="已处理")
    assert err.rule == "cases.handle.unit"


def test_only_the_dispatching_centre_verifies_and_closes(personas):
    case = drive(personas, report(personas), State.HANDLED)
    err = refused(services.case_verify, actor=personas.town_operator, case=case)
    assert err.rule == "cases.verify.jurisdiction"
    err = refused(services.case_verify, actor=personas.handler, case=case)
    assert err.rule == "cases.verify.role"
    case = services.case_verify(actor=personas.village_operator, case=case)
    err = refused(services.case_close, actor=personas.other_town_operator, case=case)
    assert err.rule == "cases.close.jurisdiction"


def test_settlement_is_approved_only_by_the_grid_leader_of_that_grid(personas):
    case = report(personas, settle=True, settle_result="已调解", photos=[photo()])
    assert (
        refused(services.case_approve_settle, actor=personas.grid_worker, case=case).rule == "cases.approve_settle.role"
    )
    assert refused(services.case_approve_settle, actor=personas.village_operator, case=case).rule == (
        "cases.approve_settle.role"
    )
    from tests.factories import UserFactory

    other_leader = UserFactory(username="gl2", role="grid_leader", jurisdiction=personas.tree.grids[1])
    err = refused(services.case_approve_settle, actor=other_leader, case=case)
    assert err.rule == "cases.approve_settle.jurisdiction"


def test_a_grid_worker_settles_only_in_their_own_grid(personas):
    err = refused(report, p=personas, at=IN_GRID_2, settle=True, settle_result="已劝离", photos=[photo()])
    assert err.rule == "cases.settle.jurisdiction"
    err = refused(report, p=personas, actor=personas.microgrid_worker, settle=True, settle_result="x", photos=[photo()])
    assert err.rule == "cases.settle.role"


def test_leaders_and_outsiders_cannot_report(personas):
    assert refused(report, p=personas, actor=personas.leader).rule == "cases.report.role"


def test_supervision_is_for_the_holding_centre_or_above(personas):
    import datetime as dt

    from gridgov.common import clock

    case = drive(personas, report(personas), State.HANDLING)
    err = refused(
        services.case_supervise,
        actor=personas.other_town_operator,
        case=case,
        owner="某人",
        deadline=clock.now() + dt.timedelta(days=1),
        requirement="尽快",
    )
    assert err.rule == "cases.supervise.jurisdiction"


@pytest.mark.parametrize(
    ("to", "action", "kwargs"),
    [
        (State.REPORTED, services.case_verify, {}),
        (State.REPORTED, services.case_close, {}),
        (State.ACCEPTED, services.case_accept, {}),
        (State.HANDLING, services.case_reject, {"reason": "重复"}),
        (State.CLOSED, services.case_rework, {"reason": "返工"}),
        (State.HANDLED, services.case_request_extension, {"days": 1, "reason": "再议"}),
    ],
)
def test_wrong_state_is_a_conflict_naming_the_rule(personas, to, action, kwargs):
    case = drive(personas, report(personas), to)
    op = personas.village_operator
    actor = personas.handler if action is services.case_request_extension else op
    before = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(Conflict) as exc:
        action(actor=actor, case=case, **kwargs)
    assert exc.value.rule.endswith(".state")
    assert "当前状态" in exc.value.message
    assert CaseEvent.objects.filter(case=case).count() == before


def test_wrong_role_is_checked_before_state(personas):
    case = drive(personas, report(personas), State.CLOSED)
    assert refused(services.case_sign, actor=personas.grid_worker, case=case).rule == "cases.sign.role"


def test_a_stale_version_is_a_conflict(personas):
    case = report(personas)
    services.case_accept(actor=personas.village_operator, case=case, expected_version=1)
    with pytest.raises(Conflict) as exc:
        services.case_reject(actor=personas.village_operator, case=case, reason="重复", expected_version=1)
    assert exc.value.rule == "cases.version"


def test_citizen_rating_needs_the_right_tracking_code(personas):
    case = drive(personas, report(personas), State.CLOSED)
    err = refused(services.case_rate, actor=None, case=case, score=5, tracking_code="WRONGCODE1")
    assert err.rule == "cases.rate.reporter"
    assert (
        services.case_rate(actor=None, case=case, score=5, tracking_code=case.tracking_code.lower()).satisfaction == 5
    )


def test_dispatch_refuses_a_department_whose_mandate_does_not_cover_the_place(personas):
    from tests.factories import DepartmentFactory

    town2_squad = DepartmentFactory(region=personas.tree.towns[1], name="第2街道执法中队")
    case = services.case_accept(actor=personas.village_operator, case=report(personas))
    with pytest.raises(services.ValidationFailed) as exc:
        services.case_dispatch(actor=personas.village_operator, case=case, department=town2_squad)
    assert exc.value.rule == "cases.dispatch.mandate"
