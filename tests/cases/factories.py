"""Case factories: a frozen working-day clock, photos, and a helper that walks a case along the
happy path to any state through the real services."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridgov.accounts.models import Department, DepartmentKind, Role, User
from gridgov.cases import services
from gridgov.cases.models import Case, CaseCategory, State
from tests.factories import DepartmentFactory, Personas, UserFactory

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
# Monday 23 November 2026, 10:00 — an ordinary working morning.
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)

# Points of the synthetic tree (tests/factories.build_tree).
IN_GRID_1 = (30.05, 120.10)  # town 1 / community 1 / grid 1 / micro 1 — village_operator's centre
IN_GRID_2 = (30.05, 120.30)  # town 1 / community 1 / grid 2
IN_COMMUNITY_2 = (30.25, 120.10)  # town 1 / community 2 — no village centre: the town centre
IN_TOWN_2 = (30.05, 120.50)  # town 2


def photo(name: str = "p.jpg", size: tuple[int, int] = (64, 48), fmt: str = "JPEG") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buf, format=fmt)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def category(code: str = "0502") -> CaseCategory:
    return CaseCategory.objects.get(code=code)


@dataclass
class World:
    p: Personas
    other_department: Department
    other_handler: User
    assist_department: Department
    assist_handler: User


def build_world(p: Personas) -> World:
    other = DepartmentFactory(region=p.tree.district, name="区市场监管局", kind=DepartmentKind.MARKET)
    assist = DepartmentFactory(region=p.tree.district, name="区环保分局", kind=DepartmentKind.ENVIRONMENT)
    return World(
        p=p,
        other_department=other,
        other_handler=UserFactory(username="harry", role=Role.DEPARTMENT_HANDLER, department=other),
        assist_department=assist,
        assist_handler=UserFactory(username="ada", role=Role.DEPARTMENT_HANDLER, department=assist),
    )


def report(p: Personas, *, at: tuple[float, float] = IN_GRID_1, code: str = "0502", **kw: object) -> Case:
    kw.setdefault("description", "小区门口垃圾堆放多日无人清运")
    return services.case_report(
        actor=kw.pop("actor", p.grid_worker), category=category(code), lat=at[0], lng=at[1], **kw
    )  # type: ignore[arg-type]


def drive(p: Personas, case: Case, to: str) -> Case:
    """Walk `case` (reported at the village centre) along the happy path until it is in `to`."""
    op = p.village_operator if case.center_id == p.tree.communities[0].pk else p.town_operator
    steps = [
        (State.ACCEPTED, lambda c: services.case_accept(actor=op, case=c)),
        (State.DISPATCHED, lambda c: services.case_dispatch(actor=op, case=c, department=p.department)),
        (State.HANDLING, lambda c: services.case_sign(actor=p.handler, case=c)),
        (State.HANDLED, lambda c: services.case_handle(actor=p.handler, case=c, result="已清运完毕", photos=[photo()])),
        (State.VERIFIED, lambda c: services.case_verify(actor=op, case=c)),
        (State.CLOSED, lambda c: services.case_close(actor=op, case=c)),
    ]
    for state, step in steps:
        if case.state == to:
            return case
        case = step(case)
        assert case.state == state
    assert case.state == to, (case.state, to)
    return case


_seq = [0]


def make_case(p: Personas, **fields: object) -> Case:
    """A case row written directly (for rate arithmetic), in micro-grid 1 unless told otherwise."""
    _seq[0] += 1
    region = fields.pop("region", p.tree.microgrids[0])
    defaults: dict[str, object] = {
        "number": f"T-{_seq[0]:06d}",
        "tracking_code": f"T{_seq[0]:09d}",
        "source": "grid_worker",
        "category": category(),
        "description": "构造数据",
        "region": region,
        "region_path": region.path,  # type: ignore[attr-defined]
        "center": p.tree.communities[0],
        "reported_at": MONDAY_10 - dt.timedelta(days=10),
    }
    defaults.update(fields)
    return Case.objects.create(**defaults)
