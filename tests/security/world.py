"""A small world of sensitive records spread over the synthetic region tree, each carrying a unique
ASCII marker in a free-text field, so a response can be searched for records it must not show.

Every record is built through the real services (except places, which have no service of their
own yet), in town 1 (grid 1) and in town 2, so most users of a random jurisdiction see some of
them and not others. `Rec` tells the access oracle where a record lies and who it is assigned to.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from gridgov.accounts.models import Department, DepartmentKind, Role, User
from gridgov.cases import services as case_services
from gridgov.cases.models import Case, CaseCategory
from gridgov.fieldwork import services as field_services
from gridgov.fieldwork.services import ItemResult
from gridgov.mediation import services as mediation_services
from gridgov.mediation.services import PartyIn
from gridgov.regions.models import Region
from gridgov.registers import services as register_services
from gridgov.registers.models import Place
from tests.cases.factories import photo
from tests.factories import DepartmentFactory, Personas, UserFactory
from tests.registers.factories import id_number, make_house

TODAY = dt.date(2026, 11, 23)
_marker_seq = itertools.count(1)


def marker(kind: str) -> str:
    """ZQX + kind letter + number + Q: never produced by the application itself."""
    return f"ZQX{kind}{next(_marker_seq)}Q"


@dataclass
class Rec:
    kind: str  # case, person, group, household, address, building, house, place, dispute, hazard, campaign, inspection
    ident: Any  # what fills the URL (pk or number)
    region_path: str
    marker: str
    # Departments a case was ever assigned to (who else may see it: their handlers).
    departments: frozenset[int] = frozenset()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    p: Personas
    dept_a: Department  # district-wide, gets cases assigned
    dept_b: Department  # town 2 only, gets nothing
    records: list[Rec]
    town2_worker: User

    def of(self, kind: str) -> list[Rec]:
        return [r for r in self.records if r.kind == kind]

    def markers(self) -> set[str]:
        return {r.marker for r in self.records}


def _operator_for(p: Personas, case: Case) -> User:
    return {
        p.tree.communities[0].pk: p.village_operator,
        p.tree.towns[0].pk: p.town_operator,
        p.tree.towns[1].pk: p.other_town_operator,
    }.get(case.center_id, p.district_operator)


def _case(w: World, micro: Region, *, dispatch: bool) -> None:
    p = w.p
    m = marker("C")
    case = case_services.case_report(
        actor=p.district_operator,
        category=CaseCategory.objects.get(code="0502"),
        description=f"小区门口垃圾堆放 {m}",
        lat=micro.centroid_lat,
        lng=micro.centroid_lng,
        reporter_name="王五",
        reporter_phone="13911112222",
        photos=[photo()],
    )
    departments: frozenset[int] = frozenset()
    if dispatch:
        op = _operator_for(p, case)
        case = case_services.case_accept(actor=op, case=case)
        case = case_services.case_dispatch(actor=op, case=case, department=w.dept_a)
        departments = frozenset({w.dept_a.pk})
    w.records.append(
        Rec(
            "case",
            case.number,
            case.region_path,
            m,
            departments,
            extra={"photo_id": case.photos.first().pk, "tracking_code": case.tracking_code},  # type: ignore[union-attr]
        )
    )


def _person(w: World, actor: User, micro: Region) -> None:
    house = make_house(actor, micro)
    m, g = marker("P"), marker("G")
    person = register_services.person_register(
        actor=actor,
        house=house,
        data={
            "name": "赵六",
            "id_number": id_number(),
            "population_type": "registered",
            "phone": "13812345678",
            "workplace": f"萧山某厂{m}",
            "note": f"备注{m}",
        },
    )
    membership = register_services.group_add(
        actor=actor,
        person=person,
        kind="released",
        attention_level="01",
        risk_code="01",
        risk_note=f"评估{g}",
        details={"crime_category": "05", "release_date": "2025-12-01"},
    )
    assert house.building is not None
    w.records += [
        Rec("person", person.pk, person.region_path, m),
        Rec("group", membership.pk, membership.region_path, g, extra={"person": person.pk}),
        Rec("house", house.pk, house.region_path, marker("-")),
        Rec("building", house.building.pk, house.building.region_path, marker("-")),
        Rec("address", house.building.address_id, house.building.region_path, marker("-")),
    ]
    if person.household_id:
        w.records.append(Rec("household", person.household_id, person.region_path, marker("-")))


def _place(w: World, micro: Region) -> Place:
    m = marker("L")
    place = Place.objects.create(
        region=micro, region_path=micro.path, kind="rental", name=f"出租房{m}", address=f"人民路{m}号"
    )
    w.records.append(Rec("place", place.pk, place.region_path, m, extra={"entity": "places"}))
    return place


def _dispute(w: World, actor: User, micro: Region) -> None:
    m = marker("D")
    d = mediation_services.dispute_register(
        actor=actor,
        title=f"漏水纠纷{m}",
        kind="0201",
        description=f"楼上卫生间漏水导致楼下天花板受损 {m}",
        region=micro,
        parties=[
            PartyIn(role="applicant", name="张三丰", id_number=id_number(), phone="13812345678"),
            PartyIn(role="respondent", name="李四", phone="13987654321"),
        ],
    )
    w.records.append(Rec("dispute", d.number, d.region_path, m))


def _hazards(w: World, operator: User, worker: User, town: Region, place: Place) -> None:
    m = marker("H")
    campaign = field_services.campaign_create(
        actor=operator,
        name=f"消防整治{m}",
        theme="消防",
        starts_on=TODAY - dt.timedelta(days=7),
        ends_on=TODAY + dt.timedelta(days=60),
        scope_regions=[town],
        target_place_kinds=["rental"],
        checklist=["电动车违规充电", "疏散通道畅通"],
    )
    campaign = field_services.campaign_start(actor=operator, campaign=campaign)
    inspection = field_services.inspection_assign(
        actor=operator, campaign=campaign, place=place, assignee=worker, due_on=TODAY + dt.timedelta(days=7)
    )
    items = list(campaign.items.order_by("seq"))
    hazards = field_services.inspection_record(
        actor=worker,
        inspection=inspection,
        results={items[0].pk: ItemResult(passed=False, note=f"楼道飞线充电{m}"), items[1].pk: ItemResult(passed=True)},
    )
    w.records += [
        Rec("campaign", campaign.pk, campaign.region_path, m),
        Rec("inspection", inspection.pk, inspection.region_path, m),
        *[Rec("hazard", h.pk, h.region_path, m) for h in hazards],
    ]


def build_world(p: Personas) -> World:
    tree = p.tree
    dept_b = DepartmentFactory(region=tree.towns[1], name="二街道城管中队", kind=DepartmentKind.URBAN_MANAGEMENT)
    town2_grid = tree.grids[4]
    town2_worker = UserFactory(username="wang", role=Role.GRID_WORKER, jurisdiction=town2_grid)
    w = World(p=p, dept_a=p.department, dept_b=dept_b, records=[], town2_worker=town2_worker)
    for centre_region in (tree.district, tree.towns[0], tree.towns[1], tree.communities[0]):
        mediation_services.centre_create(actor=p.admin, region=centre_region)
    m_t1, m_t1_c2, m_t2 = tree.microgrids[0], tree.microgrids[4], tree.microgrids[9]
    # Cases: grid 1 (dispatched to department A), community 2 of town 1, town 2 (dispatched), town 2.
    _case(w, m_t1, dispatch=True)
    _case(w, m_t1_c2, dispatch=False)
    _case(w, m_t2, dispatch=True)
    _case(w, tree.microgrids[12], dispatch=False)
    _person(w, p.grid_worker, m_t1)
    _person(w, p.other_town_operator, m_t2)
    place1, place2 = _place(w, m_t1), _place(w, m_t2)
    _dispute(w, p.town_operator, m_t1)
    _dispute(w, p.other_town_operator, m_t2)
    _hazards(w, p.town_operator, p.grid_worker, tree.towns[0], place1)
    _hazards(w, p.other_town_operator, town2_worker, tree.towns[1], place2)
    return w
