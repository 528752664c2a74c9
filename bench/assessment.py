"""Monthly assessment of every village of the DATABASE_URL database (a city from
`gridgov synth --scale city`: five districts, ~3,000 villages/communities): the default 双十条
scheme of each district computed for the last full month, through `assessment_compute` (the
command `assessment_compute` runs). Baseline in the same run: only reading that month's case rows
of the same districts (what any computation has to read at least).

`--repeat N` computes every district N times (the first over an existing draft recomputes it, as
the service always does) and reads its rows N times, keeping the best of each: on a shared,
loaded machine the minimum is the least disturbed figure.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gridgov_bench .venv/bin/python bench/assessment.py
    DATABASE_URL=… .venv/bin/python bench/assessment.py --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import load, setup_django

setup_django()

from gridgov.assessment import services  # noqa: E402
from gridgov.assessment.models import Scheme  # noqa: E402
from gridgov.cases.models import Case  # noqa: E402
from gridgov.common import clock  # noqa: E402
from gridgov.regions.models import Level, Region  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--month", default="", help="YYYY-MM (default: last month)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per district; the best is kept")
    args = parser.parse_args()
    repeat = max(1, args.repeat)
    month = services.parse_month(args.month) if args.month else services.previous_month(clock.today())
    start, end = services.month_window(month)
    districts = list(Region.objects.filter(level=Level.DISTRICT).order_by("code"))
    print(
        f"{len(districts)} district(s), best of {repeat} run(s), {Region.objects.filter(level=Level.COMMUNITY).count():,} villages/communities, month {month:%Y-%m}; {load()}"
    )
    total = raw = 0.0
    villages = cases = 0
    for d in districts:
        services.scheme_install_default(region=d)
        scheme = Scheme.objects.get(region=d, is_active=True)
        took = took_raw = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = services.assessment_compute(actor=None, scheme=scheme, month=month)
            took = min(took, time.perf_counter() - t0)
            t0 = time.perf_counter()
            n = len(
                list(
                    Case.objects.filter(
                        region_path__startswith=d.path, reported_at__gte=start, reported_at__lt=end
                    ).values_list("id", "region_path", "state", "reported_at", "handled_at", "handle_deadline")
                )
            )
            took_raw = min(took_raw, time.perf_counter() - t0)
        total, raw = total + took, raw + took_raw
        villages, cases = villages + result.villages, cases + n
        print(
            f"  {d.code} {d.name}: {result.villages} villages, {result.towns} towns, {result.workers} workers, "
            f"{n:,} cases in the month: {took:.2f} s (reading the rows alone {took_raw:.2f} s); {load()}"
        )
    print(
        f"all {villages:,} villages ({cases:,} cases): {total:.2f} s; reading the month's case rows alone: {raw:.2f} s "
        f"(compute / read {total / raw:.1f}x); {load()}"
    )


if __name__ == "__main__":
    main()
