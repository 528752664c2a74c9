from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridgov.regions.generator import DEFAULT_SEED
from gridgov.synth.build import SCALES, SynthError, synthesize


class Command(BaseCommand):
    help = (
        "Write a deterministic synthetic district or city (regions, accounts, residents, places, a year of "
        "cases, rollups) into an empty migrated database, through COPY on PostgreSQL. For benchmarks: "
        "never point it at a real installation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="district")
        parser.add_argument("--people", type=int, default=None, help="residents (default: the scale's)")
        parser.add_argument("--cases", type=int, default=None, help="cases over the year (default: the scale's)")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--until", default="", help="YYYY-MM-DD: the year of cases ends here (default today)")
        parser.add_argument("--processes", type=int, default=2, help="processes planning districts in parallel")

    def handle(self, *args: Any, **options: Any) -> None:
        until = dt.date.fromisoformat(options["until"]) if options["until"] else None
        try:
            synthesize(
                scale=options["scale"],
                people=options["people"],
                cases=options["cases"],
                seed=options["seed"],
                until=until,
                processes=options["processes"],
                log=self.stdout.write,
            )
        except SynthError as exc:
            raise CommandError(str(exc)) from exc
