"""Access control, property-based: random users against every endpoint of the site and the API.

Hypothesis draws a user — any role (or anonymous), seated at any node of the synthetic tree (or
in the neighbouring district), department handlers in a random department, sometimes inactive —
and the test probes every URL and API operation of tests/security/probes.py with the records of
tests/security/world.py, including records outside the user's reach (guessed numbers and ids):

- no response is a 5xx;
- no response shows a record the oracle below does not allow (each record carries a marker);
- a record's own pages and API answer 403/404 (anonymous: 401 or the login redirect) when the
  oracle says the user may not reach it, never the record;
- writes aimed at such records change nothing.

The oracle restates the documented rules (gridgov.accounts.scope, cases.selectors,
registers.permissions) independently of the code under test: it is an upper bound, so an app may
show less, never more.
"""

from __future__ import annotations

import io
import os
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db.models import Sum
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gridgov.accounts.models import DEPARTMENT_ROLES, Department, Role, User
from gridgov.cases.models import Case, CaseEvent
from gridgov.common import clock
from gridgov.fieldwork.models import Hazard
from gridgov.mediation.models import Dispute
from gridgov.registers import permissions
from gridgov.registers.models import GroupMembership, Person
from tests.cases.factories import MONDAY_10
from tests.factories import UserFactory
from tests.probe_stats import count
from tests.security import probes
from tests.security.probes import API, DJANGO, GUESSED, Probe
from tests.security.world import Rec, World, build_world

# Random users per shard on top of the explicit examples (each user costs ~300 requests).
EXAMPLES = int(os.environ.get("GRIDGOV_ACCESS_EXAMPLES", "3"))
ALL_ROLES = [str(r) for r in Role]
GUESSED_IDS = (1, 999_999)
UNIVERSAL_BODY = {
    "reason": "理由充分理由充分",
    "note": "备注",
    "grounds": "不属于本单位职责",
    "result": "已处理完毕已处理完毕",
    "days": 2,
    "satisfaction": 1,
    "comment": "不满意",
    "into": "330109-20261123-000001",
    "version": None,
    "name": "名称",
    "confirm": True,
}


@pytest.fixture
def world(personas, settings, tmp_path) -> Iterator[World]:
    settings.MEDIA_ROOT = tmp_path / "media"
    with clock.frozen(MONDAY_10):
        yield build_world(personas)


# --- the oracle -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    user: User | None

    @property
    def active(self) -> bool:
        return self.user is not None and self.user.is_active

    @property
    def path(self) -> str | None:
        u = self.user
        if u is None or not u.is_active:
            return None
        if u.role in DEPARTMENT_ROLES and u.department_id:
            dept = Department.objects.select_related("region").get(pk=u.department_id)
            return dept.region.path if dept.is_active else None
        return u.jurisdiction.path if u.jurisdiction else None

    def may_see(self, rec: Rec, path: str | None) -> bool:
        if path is None or self.user is None:
            return False
        role = self.user.role
        covers = rec.region_path.startswith(path)
        if rec.kind == "case":
            if role in DEPARTMENT_ROLES:
                return self.user.department_id in rec.departments
            return covers
        if rec.kind in ("person", "household"):
            return covers and role in permissions.PEOPLE_READERS
        if rec.kind in ("house", "building", "address"):
            # The standard-address base is open to every role in the jurisdiction; the residents on
            # those pages only to people readers (their markers are checked like any other).
            return covers
        if rec.kind == "group":
            return covers and role in permissions.GROUP_VIEWERS
        if rec.kind == "campaign":
            return covers or path.startswith(rec.region_path)
        # places, disputes, inspections, hazards (the hazard marker is also its campaign's, which
        # reaches down into the campaign's towns)
        return covers


def allowed_markers(viewer: Viewer, world: World) -> set[str]:
    path = viewer.path
    out = {r.marker for r in world.records if viewer.may_see(r, path)}
    # The field-work marker is shared by a campaign, its inspection and hazard.
    return out


# --- probing -----------------------------------------------------------------------------------------


def body_text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":  # xlsx: search every part of the workbook
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return content.decode("utf-8", "replace")


def fingerprint() -> tuple:
    """What any successful write would change."""
    return (
        Case.objects.aggregate(v=Sum("version"))["v"],
        CaseEvent.objects.count(),
        tuple(Person.objects.order_by("pk").values_list("status", "archived_at")),
        GroupMembership.objects.filter(ended_on__isnull=True).count(),
        tuple(Dispute.objects.order_by("pk").values_list("state", flat=True)),
        tuple(Hazard.objects.order_by("pk").values_list("state", flat=True)),
    )


def candidates(world: World, probe: Probe) -> list[tuple[Rec | None, dict]]:
    """(record, URL values) pairs to try for one probe."""
    if probe.kind is None:
        return [(None, dict(probe.static))]
    if probe.kind == GUESSED:
        return [(None, {"__guess__": i, **probe.static}) for i in GUESSED_IDS]
    if probe.kind == "region":
        t = world.p.tree
        return [(None, {"__guess__": code, **probe.static}) for code in (t.grids[0].code, t.towns[1].code, "330110")]
    return [(rec, {**rec.extra, "__guess__": rec.ident, **probe.static}) for rec in world.of(probe.kind)]


def url_for(route: str, values: dict) -> tuple[str, dict]:
    """The URL with its parameters filled (the first unfilled one takes the record's identifier),
    and what is left over as a query string."""
    values = dict(values)
    guess = values.pop("__guess__", None)
    filled = {}
    for name in probes.params(route):
        filled[name] = values.pop(name) if name in values else guess
    path = probes.fill(route, filled)
    if not path.startswith("/"):
        path = "/" + path.removeprefix("GET ").removeprefix("POST ")
    return path, {k: v for k, v in values.items() if k not in ("entity", "tracking_code", "photo_id")}


@dataclass
class Finding:
    where: str
    what: str


class Prober:
    def __init__(self, world: World, user: User | None, shard: str = "all"):
        self.shard = shard
        self.world = world
        self.viewer = Viewer(user)
        self.path = self.viewer.path
        self.allowed = allowed_markers(self.viewer, world)
        self.forbidden = world.markers() - self.allowed
        self.client = Client()
        if user is not None:
            self.client.force_login(user)
        self.findings: list[Finding] = []
        self.n = 0

    def check(self, where: str, response, rec: Rec | None, write: bool = False) -> None:
        self.n += 1
        status = response.status_code
        if status >= 500:
            self.findings.append(Finding(where, f"{status}"))
            return
        text = body_text(response)
        leaked = sorted(m for m in self.forbidden if m in text)
        if leaked:
            self.findings.append(Finding(where, f"{status} shows {leaked}"))
        if rec is not None and not self.viewer.may_see(rec, self.path):
            ok = {403, 404, 405}
            if write:  # the body was refused before the record was looked up: nothing shown
                ok |= {400, 422}
            if not self.viewer.active:
                ok |= {401, 302}
            if status not in ok or (status == 302 and "/login" not in response["Location"]):
                self.findings.append(Finding(where, f"{status} for a {rec.kind} outside reach"))

    def targets(self, probe: Probe) -> list[tuple[Rec | None, dict]]:
        """Reads: every candidate. Writes: only at records the user must not reach (the first one
        of its kind is enough; a guessed id stands in for kinds without records)."""
        pairs = candidates(self.world, probe)
        if not probe.write:
            return pairs
        outside = [(r, v) for r, v in pairs if r is None or not self.viewer.may_see(r, self.path)]
        return outside[:1]

    def call(self, method: str, path: str, rec: Rec | None, write: bool = False, **kw) -> None:
        where = f"{method} {path}"
        try:
            response = self.client.generic(method, path, **kw) if method != "GET" else self.client.get(path, kw)
        except Exception as exc:  # noqa: BLE001 — a server error is a finding, with its cause
            self.n += 1
            self.findings.append(Finding(where, f"500 {type(exc).__name__}: {str(exc)[:300]}"))
            return
        self.check(where, response, rec, write)

    def call_form(self, path: str, form: dict, rec: Rec | None) -> None:
        try:
            response = self.client.post(path, form)
        except Exception as exc:  # noqa: BLE001 — a server error is a finding, with its cause
            self.n += 1
            self.findings.append(Finding(f"POST {path}", f"500 {type(exc).__name__}: {str(exc)[:300]}"))
            return
        self.check(f"POST {path}", response, rec, True)

    def run(self) -> list[Finding]:
        before = fingerprint()
        for route, probe in DJANGO.items() if self.shard in ("all", "pages") else ():
            for rec, values in self.targets(probe):
                path, query = url_for(route, values)
                if probe.write:
                    form = {k: v for k, v in UNIVERSAL_BODY.items() if v is not None}
                    self.call_form(path, form, rec)
                self.call("GET", path, rec, **query)
        for op, probe in API.items() if self.shard in ("all", "api") else ():
            method, route = op.split(" ", 1)
            for rec, values in self.targets(probe):
                path, query = url_for(route, values)
                if method == "GET":
                    self.call("GET", path, rec, **query)
                else:
                    body = _json(UNIVERSAL_BODY)
                    self.call(method, path, rec, True, data=body, content_type="application/json")
        for route in admin_changelists() if self.shard in ("all", "pages") else ():
            response = self.client.get("/" + route)
            self.check(f"GET /{route}", response, None)
            if not (self.viewer.active and self.viewer.user.role == Role.ADMIN) and response.status_code == 200:
                self.findings.append(Finding(f"GET /{route}", "admin site open to a non-admin"))
        if fingerprint() != before:
            self.findings.append(Finding("writes", "a write aimed outside the user's reach changed data"))
        count("access probes", self.n)
        return self.findings


def _json(data: dict) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)


def admin_changelists() -> list[str]:
    return [
        r
        for r in probes.django_routes()
        if r.startswith(probes.ADMIN_PREFIX)
        and r.count("/") == 4
        and "<" not in r
        and "(" not in r
        and r.endswith("/")
        and not r.endswith(("add/", "login/", "logout/", "password_change/", "done/", "autocomplete/", "jsi18n/"))
    ]


# --- the tests ---------------------------------------------------------------------------------------


def test_every_endpoint_is_probed_or_listed_public():
    assert probes.uncovered() == [], (
        "endpoints with no access probe: add them to tests/security/probes.py (DJANGO/API), or to "
        "PUBLIC with the reason they are public"
    )
    # Rows for endpoints not (or no longer) mounted only probe a 404; they are reported, not failed,
    # so an app whose URLs land in a later commit than its probe rows does not break the suite.
    for row in probes.stale():
        warnings.warn(f"probe table row for an endpoint that does not exist: {row}", stacklevel=1)


def test_the_oracle_is_not_vacuous(world, client_for):
    """The markers do show where they may: a district operator's screens show every case, person
    and dispute of the world, so a missing marker elsewhere is a real refusal, not a blind test."""
    p = world.p
    prober = Prober(world, p.district_operator)
    assert prober.forbidden == set()
    c = client_for(p.district_operator)
    seen = ""
    for rec in world.records:
        if rec.kind == "case":
            seen += body_text(c.get(f"/cases/{rec.ident}/"))
        elif rec.kind == "person":
            seen += body_text(c.get(f"/registers/people/{rec.ident}/"))
        elif rec.kind == "dispute":
            seen += body_text(c.get(f"/mediation/d/{rec.ident}/"))
        elif rec.kind == "hazard":
            seen += body_text(c.get(f"/fieldwork/hazards/{rec.ident}/"))
        elif rec.kind == "place":
            seen += body_text(c.get(f"/registers/e/places/{rec.ident}/"))
    for kind in ("case", "person", "group", "dispute", "hazard", "place"):
        for rec in world.of(kind):
            assert rec.marker in seen, (kind, rec.marker)
    # and a grid worker of grid 1 is refused the town-2 records the operator sees
    alice = Prober(world, p.grid_worker)
    assert {r.marker for r in world.of("case")} & alice.forbidden


def _users(world: World):
    tree = world.p.tree
    nodes = [
        tree.district,
        *tree.towns,
        *tree.communities,
        *tree.grids,
        *tree.microgrids,
        world.p.outsider.jurisdiction,
    ]
    departments = [world.dept_a, world.dept_b]

    @st.composite
    def user(draw):
        if draw(st.integers(0, 9)) == 0:
            return None
        role = draw(st.sampled_from(ALL_ROLES))
        fields = {"role": role, "is_active": draw(st.sampled_from([True, True, True, True, False]))}
        if role in DEPARTMENT_ROLES:
            fields["department"] = draw(st.sampled_from(departments))
        else:
            fields["jurisdiction"] = draw(st.sampled_from(nodes))
        return fields

    return user()


def _make(fields: dict | None) -> User | None:
    if fields is None:
        return None
    return UserFactory(**fields)


@pytest.mark.parametrize("shard", ["pages", "api"])
def test_random_users_see_only_their_jurisdiction(world, shard):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
        derandomize=os.environ.get("CI") == "true",
    )
    @given(fields=_users(world))
    @example(fields={"role": Role.DEPARTMENT_HANDLER, "department": world.dept_a, "is_active": True})
    @example(fields={"role": Role.DEPARTMENT_HANDLER, "department": world.dept_b, "is_active": True})
    @example(fields={"role": Role.MEDIATOR, "jurisdiction": world.p.tree.towns[0], "is_active": True})
    @example(fields={"role": Role.GRID_WORKER, "jurisdiction": world.p.tree.grids[0], "is_active": True})
    @example(fields={"role": Role.LEADER, "jurisdiction": world.p.tree.towns[1], "is_active": True})
    @example(fields=None)
    def check(fields):
        user = _make(fields)
        with clock.frozen(MONDAY_10):
            got = Prober(world, user).run()
        assert not got, "\n".join(f"{f.where}: {f.what}" for f in got) + f"\nuser: {fields}"

    check()


def test_citizens_see_only_their_own_case_by_tracking_code(world, client):
    cases = world.of("case")
    for rec in cases:
        others = {r.marker for r in world.records} - {rec.marker}
        for url in (
            f"/track/{rec.extra['tracking_code']}/",
            f"/api/v1/cases/public/track/{rec.extra['tracking_code']}",
        ):
            response = client.get(url)
            text = body_text(response)
            assert response.status_code == 200, url
            assert rec.marker in text or "/api/" in url  # the public API may leave the description out
            assert not [m for m in others if m in text], url
            count("access probes")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(code=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=1, max_size=12))
def test_guessed_tracking_codes_show_nothing(world, code):
    client = Client()
    real = {r.extra["tracking_code"] for r in world.of("case")}
    for url in (f"/track/{code}/", f"/api/v1/cases/public/track/{code}"):
        response = client.get(url)
        count("access probes")
        assert response.status_code < 500
        if code in real:
            continue
        assert response.status_code in (404, 429), (url, response.status_code)
        assert not [m for m in world.markers() if m in body_text(response)]
