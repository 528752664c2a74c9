"""Deadlines on the statutory calendar (2026 National Day: 1–7 Oct off; Sun 20 Sep and Sat 10 Oct
are make-up workdays), three colours, and the fallback for years the calendar does not know."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.cases import services, sla
from gridgov.cases.models import LimitUnit, SlaPolicy, State, Urgency
from gridgov.common import clock
from tests.cases.factories import TZ, category, drive, report

pytestmark = pytest.mark.django_db


def at(y, m, d, h=10, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


def test_working_days_skip_the_national_day_holiday():
    # Wed 30 Sep + 1 working day: 1–7 Oct are holidays, so Thu 8 Oct at close of business.
    assert sla.add_working_days(at(2026, 9, 30), 1) == at(2026, 10, 8, 18)
    assert sla.add_working_days(at(2026, 9, 30), 2) == at(2026, 10, 9, 18)


def test_a_make_up_saturday_counts_as_a_working_day():
    # Fri 9 Oct + 1 → Sat 10 Oct (调休上班), not Mon 12 Oct.
    assert sla.add_working_days(at(2026, 10, 9), 1) == at(2026, 10, 10, 18)
    assert sla.is_workday(dt.date(2026, 10, 10)) and sla.is_workday(dt.date(2026, 9, 20))
    assert not sla.is_workday(dt.date(2026, 10, 5))


def test_working_hours_carry_over_lunch_nights_and_the_holiday():
    assert sla.add_working_seconds(at(2026, 11, 23, 11), 2 * 3600) == at(2026, 11, 23, 14)
    # Wed 30 Sep 17:00 + 4 working hours: 1 h that evening, then 3 h on Thu 8 Oct.
    assert sla.add_limit(at(2026, 9, 30, 17), 4, LimitUnit.WORK_HOURS) == at(2026, 10, 8, 12)
    # Sat 19 Sep (a normal weekend day) 10:00 + 1 h → Sun 20 Sep (make-up workday) 10:00.
    assert sla.add_limit(at(2026, 9, 19, 10), 1, LimitUnit.WORK_HOURS) == at(2026, 9, 20, 10)


def test_natural_hours_ignore_the_calendar():
    assert sla.add_limit(at(2026, 10, 1, 10), 24, LimitUnit.HOURS) == at(2026, 10, 2, 10)


def test_unknown_years_fall_back_to_monday_to_friday():
    assert sla.is_workday(dt.date(2031, 1, 3))  # a Friday
    assert not sla.is_workday(dt.date(2031, 1, 4))  # a Saturday
    assert sla.add_working_days(dt.datetime(2031, 1, 3, 10, tzinfo=TZ), 1) == dt.datetime(2031, 1, 6, 18, tzinfo=TZ)


def test_three_colours_follow_the_yellow_ratio(settings):
    start, deadline = at(2026, 11, 23, 9), at(2026, 11, 23, 17)  # 7 working hours apart
    warn = sla.warn_instant(start, deadline, LimitUnit.WORK_HOURS)
    assert warn == sla.add_working_seconds(start, 7 * 3600 * 0.75)
    assert sla.colour(deadline, warn, at(2026, 11, 23, 10)) == sla.GREEN
    assert sla.colour(deadline, warn, at(2026, 11, 23, 16)) == sla.YELLOW
    assert sla.colour(deadline, warn, at(2026, 11, 23, 17, 1)) == sla.RED
    settings.GRIDGOV = {**settings.GRIDGOV, "CASE_YELLOW_RATIO": 0.5}
    assert sla.warn_instant(start, deadline, LimitUnit.WORK_HOURS) < warn


def test_a_dispatch_before_the_holiday_gets_its_deadline_after_it(personas):
    SlaPolicy.objects.filter(category=category("05"), urgency=Urgency.NORMAL).update(
        sign_limit=2, sign_unit=LimitUnit.WORK_HOURS, handle_limit=3, handle_unit=LimitUnit.WORK_DAYS
    )
    with clock.frozen(at(2026, 9, 30, 17)):
        case = drive(personas, report(personas), State.DISPATCHED)
    assert case.sign_deadline == at(2026, 10, 8, 10)
    assert case.handle_deadline == at(2026, 10, 10, 18)  # 8, 9, 10 (make-up Saturday)


def test_policy_lookup_falls_back_sub_to_main_to_default():
    cat = category("0304")  # 火情火警 has its own row
    assert sla.limits_for(cat.pk, cat.parent_id, "normal") == sla.Limits(1, "hours", 12, "hours")
    cat = category("0302")  # falls back to 03 消防安全
    assert sla.limits_for(cat.pk, cat.parent_id, "normal").handle_value == 2
    assert sla.limits_for(cat.pk, cat.parent_id, "urgent") == sla.Limits(1, "work_hours", 1, "work_days")


def test_extension_after_the_deadline_counts_from_now(personas):
    case = drive(personas, report(personas), State.HANDLING)
    case = services.case_request_extension(actor=personas.handler, case=case, days=1, reason="等待配件")
    with clock.frozen(at(2026, 12, 1, 10)):
        case = services.case_approve_extension(actor=personas.village_operator, case=case)
    assert case.handle_deadline == at(2026, 12, 2, 18)
