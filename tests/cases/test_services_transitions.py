"""Every row of the transition table, walked through the services, with its timeline row."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.cases import services
from gridgov.cases.models import Case, CaseAssignment, CaseEvent, Notification, PhotoKind, Source, State
from gridgov.common import clock
from tests.cases.factories import IN_COMMUNITY_2, IN_GRID_1, MONDAY_10, category, drive, photo, report

pytestmark = pytest.mark.django_db


def actions(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))


def test_report_numbers_the_case_locates_it_and_picks_the_nearest_staffed_centre(personas):
    case = report(personas, photos=[photo()])
    assert case.number == "330109-20261123-000001"
    assert len(case.tracking_code) == 10
    assert case.region.code == "330109001001001001"
    assert case.region_path.endswith("/330109001001001001/")
    assert case.center == personas.tree.communities[0]  # vera's village centre
    assert case.state == State.REPORTED and case.source == Source.GRID_WORKER
    assert case.photos.get().kind == PhotoKind.REPORT
    assert actions(case) == ["report"]
    second = report(personas, at=IN_COMMUNITY_2)
    assert second.number == "330109-20261123-000002"
    assert second.center == personas.tree.towns[0]  # no village operator there: the town centre


def test_the_whole_happy_path_writes_one_timeline_row_per_action(personas):
    case = drive(personas, report(personas), State.CLOSED)
    assert actions(case) == ["report", "accept", "dispatch", "sign", "handle", "verify", "close"]
    events = list(CaseEvent.objects.filter(case=case))
    assert [e.to_state for e in events] == [
        "reported",
        "accepted",
        "dispatched",
        "handling",
        "handled",
        "verified",
        "closed",
    ]
    assert case.version == 7
    assert case.closed_at is not None and case.deadline is None
    assert case.photos.filter(kind=PhotoKind.RESULT).count() == 1


def test_reject_needs_a_reason_and_shows_it_to_the_reporter(personas):
    case = report(personas)
    with pytest.raises(services.ValidationFailed) as exc:
        services.case_reject(actor=personas.village_operator, case=case, reason=" ")
    assert "reason" in exc.value.errors
    case = services.case_reject(actor=personas.village_operator, case=case, reason="不属于受理范围")
    assert case.state == State.REJECTED
    assert CaseEvent.objects.filter(case=case, action="reject").get().public_note == "不予受理：不属于受理范围"


def test_merge_links_a_duplicate_to_the_earlier_case_and_tells_both_reporters(
    personas, django_capture_on_commit_callbacks
):
    first = report(personas)
    second = report(personas, actor=personas.colleague, description="同一处垃圾仍未清运")
    with django_capture_on_commit_callbacks(execute=True):
        merged = services.case_merge(actor=personas.village_operator, case=second, into=first)
    assert merged.state == State.MERGED and merged.merged_into == first
    assert CaseEvent.objects.filter(case=first, detail__merged=second.number).exists()
    told = set(Notification.objects.filter(kind="merged").values_list("user__username", flat=True))
    assert told == {"alice", "bob"}
    with pytest.raises(services.ValidationFailed):
        services.case_merge(actor=personas.village_operator, case=report(personas), into=merged)


def test_escalate_moves_the_case_to_the_parent_centre_which_then_accepts(personas):
    case = report(personas)
    case = services.case_escalate(actor=personas.village_operator, case=case, reason="涉及多个社区")
    assert case.state == State.REPORTED and case.center == personas.tree.towns[0]
    case = services.case_accept(actor=personas.town_operator, case=case)
    assert case.state == State.ACCEPTED


def test_dispatch_to_a_lower_centre_hands_the_case_down(personas):
    case = report(personas, at=IN_COMMUNITY_2)
    case = services.case_accept(actor=personas.town_operator, case=case)
    with pytest.raises(services.ValidationFailed) as exc:  # community 2 has no operator
        services.case_dispatch(actor=personas.town_operator, case=case, center=personas.tree.communities[1])
    assert "center" in exc.value.errors
    case = report(personas)
    services.case_escalate(actor=personas.village_operator, case=case, reason="上报")
    case = services.case_accept(actor=personas.town_operator, case=case)
    case = services.case_dispatch(actor=personas.town_operator, case=case, center=personas.tree.communities[0])
    assert case.state == State.ACCEPTED and case.center == personas.tree.communities[0]


def test_dispatch_with_co_handling_units_sets_both_deadlines(personas, world):
    case = services.case_accept(actor=personas.village_operator, case=report(personas))
    case = services.case_dispatch(
        actor=personas.village_operator,
        case=case,
        department=personas.department,
        assist_departments=[world.assist_department],
    )
    assert case.state == State.DISPATCHED
    roles = dict(CaseAssignment.objects.filter(case=case, active=True).values_list("department__name", "role"))
    assert roles == {"区城管局": "lead", "区环保分局": "assist"}
    # 0502 暴露垃圾 (category 05): sign within 4 working hours, complete within 3 working days.
    assert case.sign_deadline == dt.datetime(2026, 11, 23, 15, 0, tzinfo=MONDAY_10.tzinfo)
    assert case.handle_deadline == dt.datetime(2026, 11, 26, 18, 0, tzinfo=MONDAY_10.tzinfo)
    assert case.deadline == case.sign_deadline
    # the assisting unit may add its feedback as a note, but not sign
    services.case_add_note(actor=world.assist_handler, case=case, text="协办意见：配合清运")
    with pytest.raises(services.PermissionRefused):
        services.case_sign(actor=world.assist_handler, case=case)


def test_dispatch_needs_exactly_one_target(personas):
    case = services.case_accept(actor=personas.village_operator, case=report(personas))
    with pytest.raises(services.ValidationFailed) as exc:
        services.case_dispatch(actor=personas.village_operator, case=case)
    assert exc.value.rule == "cases.dispatch.target"


def test_return_sends_the_case_back_to_the_centre_with_grounds(personas, django_capture_on_commit_callbacks):
    case = drive(personas, report(personas), State.DISPATCHED)
    with pytest.raises(services.ValidationFailed):
        services.case_return(actor=personas.handler, case=case, grounds="")
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_return(actor=personas.handler, case=case, grounds="不属于本单位职责（依据三定方案）")
    assert case.state == State.ACCEPTED and case.department is None
    assert not CaseAssignment.objects.filter(case=case, active=True).exists()
    assert Notification.objects.filter(user=personas.village_operator, kind="returned").exists()
    assert not CaseEvent.objects.get(case=case, action="return").is_public


def test_extension_request_and_approval_move_the_deadline_by_working_days(personas):
    case = drive(personas, report(personas), State.HANDLING)
    before = case.handle_deadline
    case = services.case_request_extension(actor=personas.handler, case=case, days=2, reason="需协调产权单位")
    assert case.extension_pending
    with pytest.raises(services.Conflict):
        services.case_request_extension(actor=personas.handler, case=case, days=1, reason="再次申请")
    case = services.case_approve_extension(actor=personas.village_operator, case=case)
    assert not case.extension_pending
    assert before == dt.datetime(2026, 11, 26, 18, 0, tzinfo=MONDAY_10.tzinfo)
    assert case.handle_deadline == dt.datetime(2026, 11, 30, 18, 0, tzinfo=MONDAY_10.tzinfo)  # Thu + 2 → Mon
    assert case.deadline == case.handle_deadline


def test_extension_refused_keeps_the_deadline(personas):
    case = drive(personas, report(personas), State.HANDLING)
    before = case.handle_deadline
    case = services.case_request_extension(actor=personas.handler, case=case, days=3, reason="材料未齐")
    case = services.case_refuse_extension(actor=personas.village_operator, case=case, reason="可按期办结")
    assert not case.extension_pending and case.handle_deadline == before


def test_handle_requires_a_result(personas):
    case = drive(personas, report(personas), State.HANDLING)
    with pytest.raises(services.ValidationFailed) as exc:
        services.case_handle(actor=personas.handler, case=case, result="")
    assert "result" in exc.value.errors
    assert Case.objects.get(pk=case.pk).state == State.HANDLING


def test_rework_sends_it_back_to_the_handler(personas, django_capture_on_commit_callbacks):
    case = drive(personas, report(personas), State.HANDLED)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_rework(actor=personas.village_operator, case=case, reason="现场仍有垃圾")
    assert case.state == State.HANDLING and case.rework_count == 1
    assert Notification.objects.filter(user=personas.handler, kind="reopened").exists()


def test_dissatisfied_rating_reopens_once_then_goes_to_supervision(personas):
    case = drive(personas, report(personas), State.CLOSED)
    case = services.case_rate(actor=None, case=case, score=1, comment="没有清理干净", tracking_code=case.tracking_code)
    assert case.state == State.HANDLING and case.reopen_count == 1 and case.satisfaction is None
    case = services.case_handle(actor=personas.handler, case=case, result="二次清运")
    case = services.case_verify(actor=personas.village_operator, case=case)
    case = services.case_close(actor=personas.village_operator, case=case)
    case = services.case_rate(actor=None, case=case, score=2, tracking_code=case.tracking_code)
    assert case.state == State.SUPERVISING and case.supervised and case.supervision_listed
    assert case.satisfaction == 2
    with pytest.raises(services.ValidationFailed):  # closing from supervision needs a conclusion
        services.case_close(actor=personas.village_operator, case=case)
    case = services.case_close(actor=personas.village_operator, case=case, note="督办核实：已彻底整改")
    assert case.state == State.CLOSED
    with pytest.raises(services.Conflict):
        services.case_rate(actor=None, case=case, score=5, tracking_code=case.tracking_code)


def test_satisfied_rating_keeps_the_case_closed_and_validates_the_score(personas):
    case = drive(personas, report(personas), State.CLOSED)
    with pytest.raises(services.ValidationFailed):
        services.case_rate(actor=personas.village_operator, case=case, score=6)
    case = services.case_rate(actor=personas.village_operator, case=case, score=4, comment="电话回访满意")
    assert case.state == State.CLOSED and case.satisfaction == 4
    assert CaseEvent.objects.get(case=case, action="rate").detail["by"] == "follow_up"


def test_supervision_from_a_superior_centre(personas, django_capture_on_commit_callbacks):
    case = drive(personas, report(personas), State.HANDLING)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_supervise(
            actor=personas.district_operator,
            case=case,
            owner="区城管局 张科长",
            deadline=MONDAY_10 + dt.timedelta(days=3),
            requirement="三日内彻底清理并建立长效机制",
        )
    assert case.supervised and case.supervision_owner == "区城管局 张科长"
    assert Notification.objects.filter(user=personas.handler, kind="supervised").exists()
    with pytest.raises(services.ValidationFailed) as exc:
        services.case_supervise(
            actor=personas.district_operator, case=case, owner="", deadline=MONDAY_10, requirement=""
        )
    assert set(exc.value.errors) == {"owner", "deadline", "requirement"}


def test_settle_on_the_spot_needs_proof_and_the_grid_leaders_approval(personas):
    with pytest.raises(services.ValidationFailed) as exc:
        report(personas, settle=True, settle_result="已劝离")
    assert "photos" in exc.value.errors
    case = report(personas, settle=True, settle_result="现场调解，双方和解", photos=[photo()])
    assert case.state == State.SETTLE_PENDING and case.settled_on_spot
    assert case.photos.get().kind == PhotoKind.PROOF
    case = services.case_approve_settle(actor=personas.grid_leader, case=case)
    assert case.state == State.CLOSED


def test_refused_settlement_goes_to_the_centre(personas):
    case = report(personas, settle=True, settle_result="已劝离", photos=[photo()])
    case = services.case_refuse_settle(actor=personas.grid_leader, case=case, reason="需部门处理")
    assert case.state == State.REPORTED and not case.settled_on_spot
    assert services.case_accept(actor=personas.village_operator, case=case).state == State.ACCEPTED


def test_auto_dispatch_rule_dispatches_on_acceptance(personas):
    from gridgov.cases.models import RoutingRule

    RoutingRule.objects.create(category=category("0502"), department=personas.department, auto_dispatch=True)
    case = services.case_accept(actor=personas.village_operator, case=report(personas))
    assert case.state == State.DISPATCHED and case.department == personas.department
    assert actions(case) == ["report", "accept", "auto_dispatch"]


def test_citizen_report_needs_no_account_and_gets_a_public_first_row(personas):
    case = services.case_report(
        actor=None,
        source=Source.CITIZEN,
        category=category("0701"),
        description="夜间施工噪音很大影响休息",
        lat=IN_GRID_1[0],
        lng=IN_GRID_1[1],
        reporter_phone="13800001111",
    )
    assert case.reporter is None and case.source == Source.CITIZEN
    assert CaseEvent.objects.get(case=case).unit_label == "群众随手拍"


def test_bad_report_input_is_a_field_error_and_writes_nothing(personas):
    with pytest.raises(services.ValidationFailed) as exc:
        services.case_report(actor=personas.grid_worker, category=category("05"), description="短", lat=31.9, lng=121.9)
    assert {"category", "description", "location"} <= set(exc.value.errors)
    with pytest.raises(services.ValidationFailed) as exc:
        services.case_report(
            actor=personas.grid_worker,
            source=Source.HOTLINE_12345,
            category=category("0502"),
            description="描述足够长了",
            lat=IN_GRID_1[0],
            lng=IN_GRID_1[1],
        )
    assert "source" in exc.value.errors
    assert not Case.objects.exists()


def test_sla_sweep_warns_once_then_flags_overdue(personas, django_capture_on_commit_callbacks):
    case = drive(personas, report(personas), State.DISPATCHED)  # sign by 15:00
    with clock.frozen(MONDAY_10.replace(hour=14, minute=10)), django_capture_on_commit_callbacks(execute=True):
        assert services.sla_sweep() == (1, 0)
        assert services.sla_sweep() == (0, 0)
    with clock.frozen(MONDAY_10.replace(hour=15, minute=30)), django_capture_on_commit_callbacks(execute=True):
        assert services.sla_sweep() == (0, 1)
    kinds = list(Notification.objects.filter(user=personas.handler, case=case).values_list("kind", flat=True))
    assert sorted(kinds) == ["assigned", "nearing", "overdue"] or sorted(kinds) == ["nearing", "overdue"]
