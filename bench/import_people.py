"""Bulk import of residents through the registers import path (the xlsx upload behind
/registers/import: parse, validate every row, duplicate check by ID hash, household grouping,
person + history + timeline rows) against PostgreSQL COPY of the same rows (sealed and hashed with
the same `registers.crypto.BatchSealer`, written straight into registers_person), in the same run.

Both run inside a transaction that is rolled back, so the database is unchanged. Rows: `--rows`
residents in households of three, in empty houses of one town of the DATABASE_URL database
(filled by `gridgov synth`), imported as that town's centre operator.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gridgov_bench .venv/bin/python bench/import_people.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
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
    parser.add_argument("--rows", type=int, default=3000)
    args = parser.parse_args()
    town = Region.objects.filter(level=Level.STREET).order_by("code").first()
    assert town is not None, "empty database: run gridgov synth"
    operator = User.objects.get(username=f"op-{town.code}")
    houses = list(
        House.objects.filter(region_path__startswith=town.path, residents__isnull=True)
        .order_by("id")
        .values("id", "code", "region_id", "region_path", "lat", "lng")[: args.rows // 3 + 1]
    )
    if len(houses) * 3 < args.rows:
        houses = list(
            House.objects.filter(region_path__startswith=town.path)
            .order_by("-id")
            .values("id", "code", "region_id", "region_path", "lat", "lng")[: args.rows // 3 + 1]
        )
    # ID numbers of an origin code synth never uses, so none is a duplicate.
    people = []
    for i in range(args.rows):
        number = make_id_number("110101", dt.date(1960, 1, 1) + dt.timedelta(days=i // 1000 * 7 + i % 7), i % 1000)
        people.append(
            {
                "house": houses[i // 3],
                "household_number": f"B{i // 3:05d}",
                "relation": "02" if i % 3 == 0 else "20",
                "name": f"测试{i}",
                "id_number": number,
                "population_type": "registered",
                "phone": f"138{i:08d}",
            }
        )
    wb = Workbook()
    ws = wb.active
    cols = spreadsheets.columns_for("people")
    ws.append([c.header for c in cols])
    for p in people:
        values = {**p, "house_code": p["house"]["code"]}
        ws.append([values.get(c.key, "") for c in cols])
    buf = io.BytesIO()
    wb.save(buf)
    content = buf.getvalue()

    print(
        f"{args.rows:,} residents into {len(houses):,} houses of {town.name}; {Person.objects.count():,} residents already; {load()}"
    )
    t0 = time.perf_counter()
    try:
        with transaction.atomic():
            report = spreadsheets.import_workbook(actor=operator, register="people", content=content)
            took_import = time.perf_counter() - t0
            if report.errors:
                print("import errors:", [e for e in report.errors[:5]])
            assert report.created == args.rows, report.created
            raise Rollback
    except Rollback:
        pass

    t0 = time.perf_counter()
    try:
        with transaction.atomic():
            sealer = BatchSealer()
            today = timezone.localdate()
            cols_ = [
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

            def rows():
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

            written = BulkWriter(Person, cols_).write(rows())
            took_copy = time.perf_counter() - t0
            assert written == args.rows
            raise Rollback
    except Rollback:
        pass
    rate_import, rate_copy = args.rows / took_import, args.rows / took_copy
    method = "COPY" if connection.vendor == "postgresql" else "executemany"
    print(f"{'path':<52}{'rows/s':>10}{'seconds':>10}")
    print(f"{'registers import (xlsx → services, per household)':<52}{rate_import:>10,.0f}{took_import:>10.2f}")
    print(f"{method + ' of the same rows, sealed (baseline)':<52}{rate_copy:>10,.0f}{took_copy:>10.2f}")
    print(f"import / {method}: {rate_import / rate_copy:.1%}   ({load()})")


if __name__ == "__main__":
    main()
