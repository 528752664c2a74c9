"""实有人口 in bulk (the registers' xlsx import): many households at once, set-based.

Every row gets exactly the checks of the one-at-a-time services (`household_register` for a new
household, `person_register` for a row joining a household that exists): `clean_person` (GB 11643
number, phone, codes, dates), one head per new household, the house exists and lies in the
actor's jurisdiction, no ID number twice in the file, none already registered (a moved-out person
is moved in instead, 迁入, as the services do). Only when no row has a problem is anything written,
and then it is written the way the services would have left it — the same person, household,
history (`simple_history`) and timeline rows — but in a handful of statements:

* houses by code, households of those houses, people by ID hash: one query each (per chunk of
  an `IN` list);
* ids reserved up front, so a person's household and a household's head are known before writing;
* identifiers sealed and hashed with one `crypto.BatchSealer`;
* households, their history, people, their history and their timeline rows written by
  `bulk.insert_rows` (COPY on PostgreSQL, one `executemany` on SQLite).

Problems come back as one `ValidationFailed` whose `errors` are keyed `rows.<line>.<field>` (the
caller's line numbers; field "" for a problem of the whole household).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from gridgov.common import bulk, clock
from gridgov.common.errors import Conflict, ValidationFailed
from gridgov.common.masking import mask_id_number, mask_phone
from gridgov.regions.models import Region

from .. import codes, permissions
from ..codes import PersonStatus
from ..crypto import BatchSealer, EncryptedTextField
from ..models import House, Household, HouseholdKind, Person, PersonEvent
from ._common import Errors, require, scope_of
from .address import _next_seq
from .people import _duplicate_refusal, _move_in, clean_person

if TYPE_CHECKING:
    from gridgov.accounts.models import User

HOUSEHOLD_KEYS = frozenset({"house_code", "household_number", "household_kind"})
_HOUSE_COLUMNS = ("id", "code", "region_id", "region_path", "lat", "lng")


@dataclass
class _Row:
    line: int
    data: Mapping[str, Any]
    cleaned: dict[str, Any] = field(default_factory=dict)
    hashes: list[str] = field(default_factory=list)  # current key first, then previous keys
    moved_out_id: int | None = None  # a moved-out record this row moves back in
    person_id: int | None = None
    slot: _Slot | None = None


@dataclass
class _Slot:
    """A household rows go into: one that exists, or one this import creates."""

    house: dict[str, Any]
    number: str
    kind: str = HouseholdKind.RESIDENT
    new: bool = False
    id: int | None = None
    head_id: int | None = None  # person id (new households: filled once ids are reserved)
    head_row: _Row | None = None
    stored: dict[str, Any] | None = None  # an existing household's columns (for its history row)


class _Problems:
    def __init__(self) -> None:
        self.errors = Errors()

    def add(self, line: int, field_name: str, message: str) -> None:
        self.errors.add(f"rows.{line}.{field_name}", message)

    def absorb(self, line: int, errors: Errors) -> None:
        for key, messages in errors.by_field.items():
            for message in messages:
                self.add(line, key, message)


@transaction.atomic
def people_import(
    *, actor: User, rows: Sequence[tuple[int, Mapping[str, Any]]], timings: dict[str, float] | None = None
) -> int:
    """Register every row (line number, column key → value; "" is an empty cell) or nothing.
    Rows of one house and household number form one household; an existing household number of
    that house is joined. Returns the number of people registered (or moved in)."""
    scope = scope_of(actor)
    require(permissions.can_write(scope), "您的角色不能登记人口", "registers.write")
    timings = timings if timings is not None else {}
    clock_start = time.perf_counter()
    problems = _Problems()
    sealer = BatchSealer()

    items = [_Row(line, data) for line, data in rows]
    today = clock.today()
    for row in items:
        errors = Errors()
        person = {k: v for k, v in row.data.items() if k not in HOUSEHOLD_KEYS and v != ""}
        row.cleaned = clean_person(person, errors=errors, today=today)
        if errors:
            problems.absorb(row.line, errors)
    started_seal = time.perf_counter()
    for row in items:
        number = row.cleaned.get("id_number") or ""
        if number:
            row.hashes = [sealer.hash(number, kind="id"), *sealer.old_hashes(number, kind="id")]
    seal_seconds = time.perf_counter() - started_seal

    houses = _houses(scope, {str(r.data.get("house_code") or "") for r in items} - {""})
    slots = _households({h["id"] for h in houses.values()})
    _check_duplicates(items, problems)
    _place(items, houses, slots, scope, problems)
    timings["validate"] = timings.get("validate", 0.0) + time.perf_counter() - clock_start - seal_seconds
    if problems.errors:
        timings["seal"] = timings.get("seal", 0.0) + seal_seconds
        raise ValidationFailed("导入内容有误", errors=problems.errors.by_field)
    try:
        with transaction.atomic():
            _write(actor, items, slots, sealer, timings)
    except IntegrityError as exc:  # someone else wrote the same number or household since the checks
        if "id_hash" in str(exc) or "person_id_number_once" in str(exc):
            raise Conflict(
                "导入期间有相同证件号码被登记，请重新导入", rule="registers.person_once", field="id_number"
            ) from exc
        raise Conflict("导入期间有人同时登记了相同的户，请重新导入", rule="registers.household_once") from exc
    timings["seal"] = timings.get("seal", 0.0) + seal_seconds
    return len(items)


def _houses(scope: Any, codes_: set[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for qs in bulk.where_in(scope.filter(House.objects.order_by()), "code", codes_):
        for values in qs.values(*_HOUSE_COLUMNS):
            out[values["code"]] = values
    return out


def _households(house_ids: set[int]) -> dict[tuple[int, str], dict[str, Any]]:
    """Every household of these houses, locked as `household_new` locks them."""
    names = [f.attname for f in Household._meta.concrete_fields]
    out: dict[tuple[int, str], dict[str, Any]] = {}
    for qs in bulk.where_in(Household.objects.select_for_update().order_by(), "house_id", house_ids):
        for values in qs.values(*names):
            out[(values["house_id"], values["number"])] = values
    return out


def _check_duplicates(items: list[_Row], problems: _Problems) -> None:
    """No number twice in the file; none already registered unless moved out (then moved in)."""
    first: dict[str, int] = {}
    for row in items:
        number = row.cleaned.get("id_number")
        if not number:
            continue
        if number in first:
            problems.add(row.line, "id_number", f"与第{first[number]}行的证件号码重复")
        else:
            first[number] = row.line
    found: dict[str, Person] = {}
    people = Person.objects.order_by().only("id", "id_hash", "status", "region_id")
    for qs in bulk.where_in(people, "id_hash", (h for row in items for h in row.hashes)):
        for person in qs:
            found[person.id_hash] = person
    if not found:
        return
    # Region names only for the (few) numbers already registered; no join for the rest.
    regions = Region.objects.in_bulk({p.region_id for p in found.values()})
    for person in found.values():
        person.region = regions[person.region_id]
    for row in items:
        existing = next((found[h] for h in row.hashes if h in found), None)
        if existing is None:
            continue
        if existing.status != PersonStatus.MOVED_OUT:
            error = _duplicate_refusal(existing, "id_number")
            problems.add(row.line, "id_number", error.message)
        else:
            row.moved_out_id = existing.pk


def _place(
    items: list[_Row],
    houses: dict[str, dict[str, Any]],
    slots: dict[tuple[int, str], dict[str, Any]],
    scope: Any,
    problems: _Problems,
) -> None:
    """Group rows into households in file order, as the one-at-a-time import did: the rows of a
    house and household number join that household if it exists, or found it."""
    groups: OrderedDict[tuple[str, str], list[_Row]] = OrderedDict()
    for row in items:
        key = (str(row.data.get("house_code") or ""), str(row.data.get("household_number") or ""))
        groups.setdefault(key, []).append(row)
    numbers: dict[int, list[str]] = {}
    for house_id, number in slots:
        numbers.setdefault(house_id, []).append(number)
    open_slots: dict[tuple[int, str], _Slot] = {
        key: _Slot(house={"id": key[0]}, number=key[1], id=v["id"], head_id=v["head_id"], stored=v)
        for key, v in slots.items()
    }
    for (code, number), members in groups.items():
        head_line = members[0].line
        if not code:
            for row in members:
                problems.add(row.line, "house_code", "请填写房屋编码")
            continue
        house = houses.get(code)
        if house is None or not scope.covers(house["region_path"]):
            for row in members:
                problems.add(row.line, "house_code", f"房屋编码 {code} 不存在或不在您的辖区内")
            continue
        slot = open_slots.get((house["id"], number)) if number else None
        if slot is not None:  # person_register into the existing household, row by row
            slot.house = house
            for row in members:
                row.slot = slot
                relation = row.cleaned.get("relation")
                if not relation:
                    problems.add(row.line, "relation", "请选择与户主关系")
                elif relation == codes.Relation.HEAD:
                    if slot.head_id is not None or slot.head_row is not None:
                        problems.add(row.line, "relation", "该户已有户主")
                    else:
                        slot.head_row = row
            continue
        # household_register: a new household with all its members
        kinds = {str(row.data.get("household_kind") or HouseholdKind.RESIDENT) for row in members}
        kind = sorted(kinds)[0]
        if len(kinds) > 1:
            problems.add(head_line, "household_kind", "同一户的户类别应一致")
        elif kind not in HouseholdKind.values:
            problems.add(head_line, "household_kind", f"未知户类别 {kind!r}")
        heads = [row for row in members if row.cleaned.get("relation") == codes.Relation.HEAD]
        if len(heads) != 1:
            problems.add(head_line, "", "一户应有且只有一名户主（与户主关系：02 户主）")
        for row in members:
            if not row.cleaned.get("relation") and row not in heads:
                problems.add(row.line, "relation", "请选择与户主关系")
        if len(number) > 20:
            problems.add(head_line, "household_number", "户号不能超过20个字符")
            continue
        in_house = numbers.setdefault(house["id"], [])
        if not number:
            try:
                number = _next_seq(in_house, "", 2)
            except Conflict as exc:
                problems.add(head_line, "household_number", exc.message)
                continue
        in_house.append(number)
        slot = _Slot(house=house, number=number, kind=kind, new=True, head_row=heads[0] if heads else None)
        open_slots[(house["id"], number)] = slot
        for row in members:
            row.slot = slot


def _write(
    actor: User, items: list[_Row], slots: dict[Any, Any], sealer: BatchSealer, timings: dict[str, float]
) -> None:
    started = time.perf_counter()
    # created_at/updated_at and history dates come from the wall clock, as `auto_now` and
    # simple_history take them; the timeline's `at` from `clock.now()`, as `_event` does.
    stamp = timezone.now()
    at = clock.now()
    actor_id = actor.pk if actor is not None and actor.pk else None
    new_rows = [row for row in items if row.moved_out_id is None]
    for row, pk in zip(new_rows, bulk.allocate_ids(Person, len(new_rows)), strict=True):
        row.person_id = pk
    for row in items:
        if row.moved_out_id is not None:
            row.person_id = row.moved_out_id
    all_slots = list({id(row.slot): row.slot for row in items if row.slot is not None}.values())
    new_slots = [s for s in all_slots if s.new]
    for slot, pk in zip(new_slots, bulk.allocate_ids(Household, len(new_slots)), strict=True):
        slot.id = pk
    for slot in all_slots:
        if slot.head_row is not None:
            slot.head_id = slot.head_row.person_id

    # Households: created (history "+", no head yet), then given their head (history "~").
    household_cols = [f.attname for f in Household._meta.concrete_fields]
    defaults = bulk.row_defaults(Household, stamp)
    household_rows = []
    for slot in new_slots:
        house = slot.house
        household_rows.append(
            {
                **defaults,
                "id": slot.id,
                "region_id": house["region_id"],
                "region_path": house["region_path"],
                "lat": house["lat"],
                "lng": house["lng"],
                "created_by_id": actor_id,
                "house_id": house["id"],
                "number": slot.number,
                "kind": slot.kind,
                "head_id": slot.head_id,
                "is_active": True,
            }
        )
    headed = [s for s in all_slots if not s.new and s.head_row is not None]
    bulk.insert_rows(Household, household_cols, (tuple(v[c] for c in household_cols) for v in household_rows))

    # People: sealed, hashed and masked as `seal()` does, then their history and timeline. The
    # rows are made while COPY streams them, so the database indexes one while the next is sealed.
    person_cols = [f.attname for f in Person._meta.concrete_fields]
    sealed = {f.attname: f for f in Person._meta.concrete_fields if isinstance(f, EncryptedTextField)}
    id_context, phone_context = sealed["id_number"].context, sealed["phone"].context
    defaults = bulk.row_defaults(Person, stamp)
    seal_seconds = 0.0

    def people() -> Iterator[dict[str, Any]]:
        nonlocal seal_seconds
        for row in new_rows:
            into = row.slot
            assert into is not None
            house = into.house
            c = row.cleaned
            t0 = time.perf_counter()
            id_number, phone = c.get("id_number") or "", c.get("phone") or ""
            identity = {
                "id_number": sealer.encrypt(id_number, context=id_context),
                "id_hash": row.hashes[0] if row.hashes else "",
                "id_masked": mask_id_number(id_number),
                "phone": sealer.encrypt(phone, context=phone_context),
                "phone_hash": sealer.hash(phone, kind="phone"),
                "phone_masked": mask_phone(phone),
            }
            seal_seconds += time.perf_counter() - t0
            values = {
                **defaults,
                **c,
                **identity,
                "id": row.person_id,
                "status": PersonStatus.ACTIVE,
                "created_by_id": actor_id,
                "house_id": house["id"],
                "household_id": into.id,
                "region_id": house["region_id"],
                "region_path": house["region_path"],
                "lat": house["lat"],
                "lng": house["lng"],
            }
            yield values

    bulk.insert_rows(Person, person_cols, map(itemgetter(*person_cols), people()))
    new_ids = [row.person_id for row in new_rows if row.person_id is not None]
    _history_from_table(Person, "+", stamp, actor_id, new_ids)
    # Timeline rows, from the person rows just written: `_event`'s register row with the house code.
    quote = connection.ops.quote_name
    person_table, house_table = quote(Person._meta.db_table), quote(House._meta.db_table)
    if bulk.is_postgres():
        detail = "jsonb_build_object('house', h.code)"
    else:  # the text json.dumps({"house": code}) gives (codes are ASCII)
        detail = """'{"house": ' || json_quote(h.code) || '}'"""
    bulk.insert_select(
        PersonEvent,
        ["person_id", "action", "from_status", "to_status", "at", "actor_id", "reason", "detail", "region_path"],
        f"SELECT p.id, %s, '', %s, %s, %s, '', {detail}, p.region_path FROM {person_table} p "
        f"JOIN {house_table} h ON h.id = p.house_id WHERE {{ids}}",
        [PersonEvent.Action.REGISTER, PersonStatus.ACTIVE, bulk.param(at), actor_id],
        id_column="p.id",
        ids=new_ids,
    )

    # Existing households given a head by this file (person_register's `_set_head`).
    if headed:
        Household.objects.filter(pk__in=[s.id for s in headed]).update(
            head_id=Case(*[When(pk=s.id, then=Value(s.head_id)) for s in headed]), updated_at=stamp
        )
    # Household history: each new one created without a head ("+"), then given it ("~"), as
    # `household_register` saves it twice; existing ones that got a head here, "~".
    new_household_ids = [s.id for s in new_slots if s.id is not None]
    _history_from_table(Household, "+", stamp, actor_id, new_household_ids, blank=("head_id",))
    _history_from_table(Household, "~", stamp, actor_id, new_household_ids + [s.id for s in headed if s.id])

    # Moved-out records coming back (rare): the services' own move-in, one by one.
    returning = [row for row in items if row.moved_out_id is not None]
    if returning:
        house_objs = House.objects.select_related("region").in_bulk([r.slot.house["id"] for r in returning if r.slot])
        household_objs = Household.objects.in_bulk([r.slot.id for r in returning if r.slot])
        for row in returning:
            assert row.slot is not None and row.slot.id is not None and row.moved_out_id is not None
            person = Person.objects.select_related("region").get(pk=row.moved_out_id)
            _move_in(
                actor,
                person,
                house_objs[row.slot.house["id"]],
                household_objs[row.slot.id],
                row.cleaned,
                reason="重新登记时迁入",
            )
    timings["seal"] = timings.get("seal", 0.0) + seal_seconds
    timings["write"] = timings.get("write", 0.0) + time.perf_counter() - started - seal_seconds


def _history_from_table(
    model: type[Any], kind: str, stamp: Any, actor_id: int | None, ids: list[int], blank: tuple[str, ...] = ()
) -> None:
    """simple_history's row for each of `ids` as it now is in `model`'s table (`blank` columns
    NULL): what `save()` would have written for it, made by one INSERT … SELECT."""
    history = model.history.model
    tail = _history(stamp, kind, actor_id)
    tracked = [f for f in history._meta.concrete_fields if f.attname not in tail and f.attname != "history_id"]
    quote = connection.ops.quote_name
    source = {f.attname: f.column for f in model._meta.concrete_fields}
    select = ", ".join("NULL" if f.attname in blank else f"t.{quote(source[f.attname])}" for f in tracked)
    bulk.insert_select(
        history,
        [*(f.attname for f in tracked), *tail],
        f"SELECT {select}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} t WHERE {{ids}}",
        [bulk.param(tail["history_date"]), None, kind, actor_id],
        id_column="t.id",
        ids=ids,
    )


def _history(stamp: Any, kind: str, actor_id: int | None) -> dict[str, Any]:
    return {
        "history_date": stamp,
        "history_change_reason": None,
        "history_type": kind,
        "history_user_id": actor_id,
    }
