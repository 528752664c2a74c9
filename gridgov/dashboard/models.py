"""Rollups behind the command centre, kept current as cases change (rollups.py).

- `RegionDayStat`: per region (district, town, village, grid) and local day, the counts of what
  happened that day. A screen's "today" and "this month" figures and its trend lines are sums
  over a few dozen of these rows instead of scans over a city's cases. A district's and a town's
  day is split over `SHARDS` rows (`shard`, by the case's tracking code): every report of a
  district adds to its district row, and one row would make them all wait, in turn, for each
  other's commit; readers always sum.
- `LiveCase`: one narrow row per open case — where it is, and the deadline of its current step.
  The three-colour warning depends on the clock, so it is judged at read time from these rows;
  closed cases leave the table, which therefore stays the size of the open workload.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

# Rows per district and town day (depth < SHARDED_DEPTH); villages and grids have one (shard 0).
SHARDS = 8
SHARDED_DEPTH = 2

COUNTERS = ("reported", "closed", "closed_on_time", "rated", "satisfied", "settled_on_spot", "urgent")


class RegionDayStat(models.Model):
    region_path = models.CharField(max_length=160)
    depth = models.PositiveSmallIntegerField()
    day = models.DateField()
    shard = models.PositiveSmallIntegerField(default=0)
    reported = models.PositiveIntegerField(_("上报"), default=0)
    urgent = models.PositiveIntegerField(_("紧急/特急上报"), default=0)
    closed = models.PositiveIntegerField(_("结案"), default=0)
    closed_on_time = models.PositiveIntegerField(_("按期结案"), default=0)
    settled_on_spot = models.PositiveIntegerField(_("就地化解"), default=0)
    rated = models.PositiveIntegerField(_("评价"), default=0)
    satisfied = models.PositiveIntegerField(_("满意"), default=0)

    class Meta:
        verbose_name = _("区域日统计")
        verbose_name_plural = _("区域日统计")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["region_path", "day", "shard"], name="region_day_shard_once")
        ]
        indexes: ClassVar = [models.Index(fields=["depth", "day", "region_path"], name="regionday_depth_day")]

    def __str__(self) -> str:
        return f"{self.region_path} {self.day}"


class LiveCase(models.Model):
    case = models.OneToOneField("cases.Case", primary_key=True, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(max_length=32)
    region_path = models.CharField(max_length=160)
    category = models.CharField(max_length=60)
    state = models.CharField(max_length=16)
    urgency = models.CharField(max_length=16)
    source = models.CharField(max_length=24)
    summary = models.CharField(max_length=80)
    lat = models.FloatField(null=True)
    lng = models.FloatField(null=True)
    reported_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True)
    warn_at = models.DateTimeField(null=True)
    supervised = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("在办案件")
        verbose_name_plural = _("在办案件")
        indexes: ClassVar = [
            models.Index(fields=["region_path", "deadline"], name="livecase_path_deadline"),
            models.Index(fields=["region_path", "reported_at"], name="livecase_path_reported"),
        ]

    def __str__(self) -> str:
        return self.number
