"""Bulk import of residents through the registers import path (the xlsx upload behind
/registers/import and POST /api/v1/registers/import/people: `spreadsheets.import_workbook` — parse,
validate every row, duplicate check by ID hash, household grouping, person + household + history +
timeline rows, audit) against PostgreSQL COPY of the same rows (sealed and hashed with the same
`registers.crypto.BatchSealer`, written straight into registers_person), in the same run.

Both run inside a transaction that is rolled back, so the database is unchanged; each ends with
`SET CONSTRAINTS ALL IMMEDIATE` inside its timing, so the deferred foreign-key checks a commit
would run are paid by both. Rows: `--rows` residents in households of three, spread over the houses
of one town of the DATABASE_URL database (filled by `gridgov synth`), imported as that town's
centre operator. The workbook is written the way a filled-in template is: only the cells that have
a value. `--repeat` rounds (import, then COPY) are run and their medians compared; `--profile`
adds a cProfile of the first import (top functions by own time).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gridgov_bench .venv/bin/python bench/import_people.py --rows 20000
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import load, setup_django

setup_django()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from gridgov.accounts.models import User  # noqa: E402
from gridgov.common.masking import mask_id_number, mask_phone  # noqa: E402
from gridgov.regions.models import Level, Region  # noqa: E402
from gridgov.registers import spreadsheets  # noqa: E402
from gridgov.registers.crypto import BatchSealer  # noqa: E402
from gridgov.registers.idnumber import make_id_number  # noqa: E402
from gridgov.registers.models import House, Person  # noqa: E402
from gridgov.synth.writer import BulkWriter  # noqa: E402


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of import then COPY (medians are reported)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the first import")
    args = parser.parse_args()
    town = Region.objects.filter(level=Level.STREET).order_by("code").first()
    assert town is not None, "empty database: run gridgov synth"
    operator = User.objects.get(username=f"op-{town.code}")
    # Households of three, round-robin over the town's houses (several households per house when
    # the town has fewer houses than households; household numbers are unique per house).
    houses = list(
        House.objects.filter(region_path__startswith=town.path)
        .order_by("id")
        .values("id", "code", "region_id", "region_path", "lat", "lng")[: args.rows // 3 + 1]
    )
    assert houses, f"no houses in {town.name}"

    # ID numbers of origin codes synth never uses (1101xx), so none is a duplicate; every round
    # and each path gets its own origin code: re-importing the numbers of a rolled-back round
    # would probe the dead index entries it left and time the bench's leftovers, not the import.
    def people_of(origin: str) -> list[dict]:
        return [
            {
                "house": houses[(i // 3) % len(houses)],
                "household_number": f"B{i // 3:05d}",
                "relation": "02" if i % 3 == 0 else "20",
                "name": f"测试{i}",
                "id_number": make_id_number(
                    origin, dt.date(1960, 1, 1) + dt.timedelta(days=i // 1000 * 7 + i % 7), i % 1000
                ),
                "population_type": "registered",
                "phone": f"138{i:08d}",
            }
            for i in range(args.rows)
        ]

    def workbook_of(people: list[dict]) -> bytes:
        wb = Workbook()
        ws = wb.active
        cols = spreadsheets.columns_for("people")
        ws.append([c.header for c in cols])
        for p in people:
            values = {**p, "house_code": p["house"]["code"]}
            ws.append([values.get(c.key) for c in cols])
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    assert args.repeat <= 49, "one origin code 1101xx per round and path"
    size = len(workbook_of(people_of("110101")))
    print(
        f"{args.rows:,} residents into {len(houses):,} houses of {town.name} ({size / 1e6:.1f} MB xlsx); "
        f"{Person.objects.count():,} residents already; {load()}"
    )
    sealer = BatchSealer()
    today = timezone.localdate()
    copy_cols = [
        "region_id",
        "region_path",
        "lat",
        "lng",
        "name",
        "gender",
        "birth_date",
        "id_number",
        "id_hash",
        "id_masked",
        "phone",
        "phone_hash",
        "phone_masked",
        "population_type",
        "status",
        "house_id",
        "relation",
        "moved_in_on",
    ]

    def copy_rows(people: list[dict]):
        for p in people:
            h, n, ph = p["house"], p["id_number"], p["phone"]
            yield (
                h["region_id"],
                h["region_path"],
                h["lat"],
                h["lng"],
                p["name"],
                "1" if int(n[16]) % 2 else "2",
                dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14])),
                sealer.encrypt(n, context="registers.person.id_number"),
                sealer.hash(n, kind="id"),
                mask_id_number(n),
                sealer.encrypt(ph, context="registers.person.phone"),
                sealer.hash(ph, kind="phone"),
                mask_phone(ph),
                "registered",
                "active",
                h["id"],
                p["relation"],
                today,
            )

    def run_import(content: bytes, profile: cProfile.Profile | None) -> tuple[float, spreadsheets.ImportReport]:
        t0 = time.perf_counter()
        try:
            with transaction.atomic():
                if profile:
                    profile.enable()
                report = spreadsheets.import_workbook(actor=operator, register="people", content=content)
                t1 = time.perf_counter()
                _check_constraints()
                report.timings["checks"] = time.perf_counter() - t1
                if profile:
                    profile.disable()
                took = time.perf_counter() - t0
                if report.errors:
                    print("import errors:", [e for e in report.errors[:5]])
                assert report.created == args.rows, report.created
                raise Rollback
        except Rollback:
            pass
        return took, report

    def run_copy(people: list[dict]) -> tuple[float, float]:
        t0 = time.perf_counter()
        try:
            with transaction.atomic():
                written = BulkWriter(Person, copy_cols).write(copy_rows(people))
                t1 = time.perf_counter()
                _check_constraints()
                took = time.perf_counter() - t0
                checks = time.perf_counter() - t1
                assert written == args.rows
                raise Rollback
        except Rollback:
            pass
        return took, checks

    method = "COPY" if connection.vendor == "postgresql" else "executemany"
    phases = ("parse", "validate", "seal", "write", "checks")
    print(f"{'round':<7}{'import rows/s':>15}{method + ' rows/s':>16}{'ratio':>8}   import breakdown (s)")
    rounds = []
    for i in range(args.repeat):
        profile = cProfile.Profile() if args.profile and i == 0 else None
        content = workbook_of(people_of(f"1101{2 * i + 1:02d}"))
        to_copy = people_of(f"1101{2 * i + 2:02d}")
        took_import, report = run_import(content, profile)
        took_copy, copy_checks = run_copy(to_copy)
        rounds.append((took_import, took_copy))
        other = took_import - sum(report.timings.get(p, 0.0) for p in phases)
        breakdown = ", ".join(f"{p} {report.timings.get(p, 0.0):.2f}" for p in phases)
        print(
            f"{i + 1:<7}{args.rows / took_import:>15,.0f}{args.rows / took_copy:>16,.0f}"
            f"{took_copy / took_import:>8.1%}   {breakdown}, other {other:.2f}; {method} checks {copy_checks:.2f}   ({load()})"
        )
        if profile:
            stats = io.StringIO()
            pstats.Stats(profile, stream=stats).sort_stats("tottime").print_stats(25)
            profiled = stats.getvalue()
    took_import = statistics.median(r[0] for r in rounds)
    took_copy = statistics.median(r[1] for r in rounds)
    print(f"{'path':<52}{'rows/s':>10}{'seconds':>10}   (median of {len(rounds)})")
    print(f"{'registers import (xlsx → import_workbook)':<52}{args.rows / took_import:>10,.0f}{took_import:>10.2f}")
    print(f"{method + ' of the same rows, sealed (baseline)':<52}{args.rows / took_copy:>10,.0f}{took_copy:>10.2f}")
    print(f"import / {method}: {took_copy / took_import:.1%}   ({load()})")
    print(
        "validate includes the lookups (houses, households, ID hashes); checks = the deferred foreign-key "
        "checks a commit runs; other = audit row, transaction"
        + ("; the first round's profile follows" if args.profile else "")
    )
    if args.profile:
        print(profiled)


def _check_constraints() -> None:
    """Run the deferred foreign-key checks now (a commit would), so the rollback skips nothing."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


if __name__ == "__main__":
    main()
