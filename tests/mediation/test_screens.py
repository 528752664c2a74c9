"""A dispute from a reported case through the screens to a printed agreement and a closed case;
petitions and rates through the screens and the API; refusals are 4xx."""

from __future__ import annotations

from gridgov.cases import services as case_services
from gridgov.cases.models import State
from gridgov.mediation.models import Dispute, DisputeState, Petition
from tests.cases.factories import report
from tests.mediation.factories import dispute_in, make_centres


def test_case_to_mediation_to_printed_agreement_and_closed_case(personas, client_for):
    p = personas
    make_centres(p)
    case = case_services.case_accept(
        actor=p.village_operator, case=report(p, code="0102", description="邻居装修噪音扰民，多次协商无果")
    )
    op = client_for(p.village_operator)
    assert case.number in op.get("/mediation/").content.decode()
    r = op.post(
        f"/mediation/from-case/{case.number}/",
        {
            "title": "装修噪音纠纷",
            "kind": "0203",
            "scale": "01",
            "involved": "2",
            "party_0_role": "applicant",
            "party_0_name": "陈小明",
            "party_0_phone": "13800001111",
            "party_1_role": "respondent",
            "party_1_name": "刘大海",
        },
    )
    dispute = Dispute.objects.get()
    assert r.status_code == 302 and r.url == f"/mediation/d/{dispute.number}/"
    med = client_for(p.mediator)
    assert (
        med.post(f"/mediation/d/{dispute.number}/act/accept/", {"mediator": p.mediator.pk, "method": "01"}).status_code
        == 302
    )
    assert (
        med.post(
            f"/mediation/d/{dispute.number}/act/session/", {"mode": "online", "summary": "视频调解，双方同意限时施工"}
        ).status_code
        == 302
    )
    r = med.post(
        f"/mediation/d/{dispute.number}/act/settle/",
        {
            "agreement": "一、刘大海装修仅在工作日9时至18时施工；二、赔偿陈小明误工费五百元。",
            "performance_term": "即日起履行",
        },
    )
    assert r.status_code == 302
    case.refresh_from_db()
    dispute.refresh_from_db()
    assert dispute.state == DisputeState.SETTLED and case.state == State.CLOSED
    pdf = med.get(f"/mediation/d/{dispute.number}/agreement.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Lists mask the parties; the agreement is not printable before settlement.
    assert "陈*明" in client_for(p.leader).get("/mediation/").content.decode()
    other = dispute_in(p, DisputeState.MEDIATING)
    assert med.get(f"/mediation/d/{other.number}/agreement.pdf").status_code == 404


def test_dispute_screen_refusals(personas, client_for):
    p = personas
    make_centres(p)
    d = dispute_in(p, DisputeState.MEDIATING)
    r = client_for(p.town_operator).post(
        f"/mediation/d/{d.number}/act/settle/", {"agreement": "x" * 20, "performance_term": "y"}
    )
    assert r.status_code == 403
    r = client_for(p.mediator).post(f"/mediation/d/{d.number}/act/settle/", {"agreement": "", "performance_term": ""})
    assert r.status_code == 400 and "请填写协议内容" in r.content.decode()
    assert client_for(p.other_town_operator).get(f"/mediation/d/{d.number}/").status_code == 404
    assert client_for(p.grid_worker).get("/mediation/new/").status_code == 403
    r = client_for(p.town_operator).post("/mediation/new/", {"title": "", "kind": "", "party_0_name": "张三"})
    assert r.status_code == 400 and "请填写纠纷名称" in r.content.decode()


def test_rates_and_exports(personas, client_for):
    p = personas
    make_centres(p)
    dispute_in(p, DisputeState.SETTLED)
    dispute_in(p, DisputeState.FAILED)
    c = client_for(p.leader)
    assert "50%" in c.get("/mediation/rates/").content.decode()
    api = c.get("/api/v1/mediation/rates", {"by": "kind"}).json()
    assert api["whole"]["success_rate"] == 0.5 and api["rows"][0]["key"] == "02"
    x = c.get("/mediation/?format=xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"


def test_petition_screens_and_api(personas, client_for):
    p = personas
    op = client_for(p.village_operator)
    form = {
        "channel": "visit",
        "matter": "1102",
        "subject": "工地拖欠农民工工资",
        "content": "某工地拖欠三个月工资共计两万元",
        "petitioner_name": "赵铁柱",
        "phone": "13911112222",
        "people_count": "1",
        "region": p.tree.grids[0].code,
        "address": "建设路工地",
    }
    assert op.post("/mediation/petitions/new/", form).status_code == 302
    r = op.post("/mediation/petitions/new/", {**form, "subject": "拖欠农民工工资未解决"})
    second = Petition.objects.order_by("-id").first()
    assert r.status_code == 302 and second.is_repeat
    assert "重复信访" in op.get(f"/mediation/petitions/{second.number}/").content.decode()
    bad = op.post("/mediation/petitions/new/", {**form, "phone": "12"})
    assert bad.status_code == 400 and Petition.objects.count() == 2
    api = op.get("/api/v1/mediation/petitions", {"repeat": True}).json()
    assert [x["number"] for x in api] == [second.number] and api[0]["petitioner"] == "赵*柱"
    assert op.get("/mediation/petitions/?format=xlsx").content[:2] == b"PK"
    assert (
        client_for(p.grid_worker).post("/api/v1/mediation/petitions", {}, content_type="application/json").status_code
        == 422
    )
