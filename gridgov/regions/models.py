"""The region tree: district → street/town → community/village → grid → micro-grid.

One table for all five levels. `path` is the materialised chain of codes ("/330109/330109001/…/")
so a subtree is one indexed prefix scan; every big table elsewhere copies the path of the
region it belongs to (`region_path`) for the same reason.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    DISTRICT = "district", _("区/县")
    STREET = "street", _("街道/镇")
    COMMUNITY = "community", _("社区/村")
    GRID = "grid", _("网格")
    MICROGRID = "microgrid", _("微网格")


LEVEL_ORDER: list[str] = [Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID, Level.MICROGRID]
DEPTH_OF: dict[str, int] = {level: i for i, level in enumerate(LEVEL_ORDER)}
# Code lengths: GB/T 2260 (6), 统计用区划代码 (9, 12), then 3 derived digits per level below,
# as Beijing's DB11 unit-grid code does (6+3+3+3).
CODE_LENGTH: dict[str, int] = {
    Level.DISTRICT: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
    Level.GRID: 15,
    Level.MICROGRID: 18,
}


class Kind(models.TextChoices):
    DISTRICT = "district", _("区县")
    SUBDISTRICT = "subdistrict", _("街道")
    TOWN = "town", _("镇")
    TOWNSHIP = "township", _("乡")
    TOWN_LIKE = "town_like", _("类似乡级单位")
    RESIDENTS_COMMITTEE = "residents", _("社区（居委会）")
    VILLAGE = "village", _("村（村委会）")
    GRID = "grid", _("网格")
    DEDICATED_GRID = "dedicated_grid", _("专属网格")
    MICROGRID = "microgrid", _("微网格")


class Region(models.Model):
    code = models.CharField(_("代码"), max_length=24, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("路径"), max_length=160, unique=True)
    depth = models.PositiveSmallIntegerField(_("深度"))
    # 类似乡级单位 (town code ≥ 400: development zones, farms): kept in the tree, not counted as towns.
    is_town_like = models.BooleanField(_("类似乡级单位"), default=False)
    dedicated_kind = models.CharField(_("专属网格类别"), max_length=32, blank=True)
    polygon = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    centroid_lat = models.FloatField(_("中心纬度"), null=True, blank=True)
    centroid_lng = models.FloatField(_("中心经度"), null=True, blank=True)
    households = models.PositiveIntegerField(_("户数"), default=0)
    population = models.PositiveIntegerField(_("人口"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        ordering: ClassVar = ["path"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(level__in=[choice.value for choice in Level]), name="region_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, level=Level.DISTRICT)
                | Q(parent__isnull=False) & ~Q(level=Level.DISTRICT),
                name="region_only_district_is_root",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["level", "path"], name="region_level_path")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def ancestor_codes(self) -> list[str]:
        return [c for c in self.path.strip("/").split("/") if c][:-1]

    @property
    def is_dedicated(self) -> bool:
        return self.kind == Kind.DEDICATED_GRID


class RegionVersion(models.Model):
    """A single row whose token is replaced in the same transaction as any polygon change.

    Each process keeps its spatial index tagged with the token it was built from and rebuilds
    when the token differs, so a new grid is locatable everywhere without a restart. A random
    token rather than a counter: a rolled-back change can never leave two different polygon
    sets under the same number.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32, default="")

    class Meta:
        verbose_name = _("区域版本")
