"""The main journeys in a real browser against the demo: a citizen reports and tracks a problem; the
case goes from dispatch to close through the operator's and the department handler's screens and
the citizen rates it; a grid worker registers a household; the leader opens the command centre
after the TOTP step.
"""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect

from tests_e2e.conftest import App, login

CASE = """
import django, json, sys
django.setup()
from gridgov.accounts.models import User
from gridgov.cases.models import Case
case = Case.objects.select_related("center").get(tracking_code=sys.argv[1])
op = User.objects.filter(role="center_operator", jurisdiction=case.center, username__in=["village_op", "town_op", "district_op"]).first()
handler = User.objects.get(username="handler_cg")
print(json.dumps({"number": case.number, "operator": op.username, "department": handler.department_id, "state": case.state}))
"""


def case_facts(app: App, tracking_code: str) -> dict:
    return app.query(CASE, tracking_code)


def act(page: Page, action: str, **fields: str) -> None:
    """Open the action's panel on the case page, fill its fields and submit."""
    form = page.locator(f"form[action$='/act/{action}/']")
    page.locator("details.action", has=form).locator("summary").click()
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def citizen_reports(app: App, page: Page, description: str) -> str:
    page.goto(f"{app.base}/report/{app.facts['grid_code']}/")
    expect(page.locator("h1")).to_contain_text("随手拍")
    value = page.locator("select[name=category] option", has_text="垃圾").first.get_attribute("value")
    page.select_option("select[name=category]", value)
    page.fill("textarea[name=description]", description)
    page.fill("input[name=address]", "萧山区城厢街道陈公桥路 8 号门口")
    page.fill("input[name=reporter_phone]", "13912345678")
    page.wait_for_timeout(3500)  # the form refuses submissions faster than a person can type
    page.click("#report-form button[type=submit]")
    page.wait_for_url("**/report/done/**")
    code = page.url.rstrip("/").rsplit("/", 1)[1]
    expect(page.locator("body")).to_contain_text(code)
    return code


def test_citizen_reports_and_tracks_a_problem(app: App, new_page) -> None:
    page = new_page()
    code = citizen_reports(app, page, "小区门口垃圾桶满溢，异味很大，请尽快清运（浏览器测试一）")
    page.goto(f"{app.base}/track/")
    page.fill("input[name=code]", code)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/track/{code}/")
    expect(page.locator("body")).to_contain_text("垃圾桶满溢")
    # Another citizen's guess shows nothing.
    other = new_page()
    other.goto(f"{app.base}/track/ABCDEFGHJK/")
    expect(other.locator("body")).not_to_contain_text("垃圾桶满溢")


def test_dispatch_to_close_and_the_citizen_rates(app: App, new_page) -> None:
    citizen = new_page()
    code = citizen_reports(app, citizen, "路边绿化带堆放建筑垃圾多日无人清理（浏览器测试二）")
    facts = case_facts(app, code)
    number = facts["number"]

    operator = new_page()
    login(operator, app, facts["operator"])
    operator.goto(f"{app.base}/cases/{number}/")
    expect(operator.locator("body")).to_contain_text("建筑垃圾")
    act(operator, "accept")
    operator.click("[data-open=dispatch-dialog]")
    dialog = operator.locator("#dispatch-dialog")
    dialog.locator("select[name=department]").select_option(str(facts["department"]))
    dialog.locator("button[type=submit]").click()
    operator.wait_for_load_state()
    assert case_facts(app, code)["state"] == "dispatched"

    handler = new_page()
    login(handler, app, "handler_cg")
    handler.goto(f"{app.base}/cases/{number}/")
    act(handler, "sign")
    assert case_facts(app, code)["state"] == "handling"
    act(handler, "handle", result="已组织清运，现场清理完毕", public_reply="已清理，感谢反映")
    assert case_facts(app, code)["state"] == "handled"

    operator.goto(f"{app.base}/cases/{number}/")
    act(operator, "verify")
    act(operator, "close")
    assert case_facts(app, code)["state"] == "closed"

    citizen.goto(f"{app.base}/track/{code}/")
    expect(citizen.locator("body")).to_contain_text("感谢反映")
    citizen.locator(".rate-form input[name=score][value='5']").check()
    citizen.locator(".rate-form button[type=submit]").click()
    citizen.wait_for_load_state()
    expect(citizen.locator(".rate-form")).to_have_count(0)


def test_grid_worker_registers_a_household(app: App, new_page) -> None:
    from gridgov.registers.idnumber import make_id_number

    page = new_page()
    login(page, app, "grid_worker")
    page.goto(f"{app.base}/registers/houses/{app.facts['house']}/household/new/?n=1")
    page.select_option("[name=kind]", "resident")
    page.fill("[name=m-0-name]", "浏览器测试户主")
    page.fill("[name=m-0-id_number]", make_id_number("330109", dt.date(1980, 5, 4), 777))
    page.select_option("[name=m-0-relation]", "02")
    page.select_option("[name=m-0-population_type]", "registered")
    page.locator("form", has=page.locator("[name=m-0-name]")).locator("button.primary").click()
    page.wait_for_url("**/registers/households/**")
    expect(page.locator("body")).to_contain_text("浏览器测试户主")


def test_leader_opens_the_command_centre_after_totp(app: App, new_page) -> None:
    page = new_page()
    login(page, app, "leader", totp=True)
    page.goto(f"{app.base}/dashboard/")
    expect(page.locator("h1").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("指挥")
    # Without the second factor the same account gets no further than the code prompt.
    other = new_page()
    other.goto(f"{app.base}/accounts/login/")
    other.fill("input[name=username]", "leader")
    other.fill("input[name=password]", "Gridgov#2026")
    other.click("button[type=submit]")
    other.goto(f"{app.base}/dashboard/")
    assert "/dashboard/" not in other.url or "login" in other.url
