"""The "9+X" base data (GB/T 31000-2015 categories plus local extras).

Every table carries the region it lies in (`region`, always a leaf: a micro-grid, or a grid that
has none) and that region's materialised path (`region_path`), so a jurisdiction filter is one
indexed prefix scan. Identifiers of people are sealed (see `crypto`): the `*_masked` columns are
what lists show, the `*_hash` columns are what lookups and uniqueness use, and the plaintext is
only decrypted for a logged reveal.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from gridgov.regions.models import Region

from . import codes
from .crypto import EncryptedTextField


class Placed(models.Model):
    """Where a register row lies, and who touched it last."""

    region = models.ForeignKey(Region, verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(_("区域路径"), max_length=160, db_index=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True


# --- 统一地址库: standard address → building → unit → house --------------------------------------
class Address(Placed):
    """标准地址: a door-plate address (road + number), possibly an estate with several buildings."""

    code = models.CharField(_("地址编码"), max_length=24, unique=True)
    road = models.CharField(_("街路巷"), max_length=60)
    number = models.CharField(_("门牌号"), max_length=20)
    estate = models.CharField(_("小区/单位名称"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("标准地址")
        verbose_name_plural = _("标准地址")
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["region", "road", "number"], name="address_door_plate_once"),
        ]

    def __str__(self) -> str:
        return self.full_text

    @property
    def full_text(self) -> str:
        return f"{self.road}{self.number}号{(' ' + self.estate) if self.estate else ''}"


class Building(Placed):
    address = models.ForeignKey(Address, verbose_name=_("标准地址"), on_delete=models.PROTECT, related_name="buildings")
    code = models.CharField(_("楼栋编码"), max_length=26, unique=True)
    name = models.CharField(_("楼栋名称"), max_length=40)
    use = models.CharField(
        _("建筑用途"), max_length=2, choices=codes.BuildingUse.choices, default=codes.BuildingUse.RESIDENTIAL
    )
    floors = models.PositiveSmallIntegerField(_("层数"), default=1)
    unit_count = models.PositiveSmallIntegerField(_("单元数"), default=1)
    manager_name = models.CharField(_("楼栋长"), max_length=30, blank=True)
    history = HistoricalRecords(inherit=False)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["address", "name"], name="building_name_once_per_address"),
            models.CheckConstraint(condition=Q(floors__gte=1) & Q(floors__lte=200), name="building_floors_range"),
        ]

    def __str__(self) -> str:
        return f"{self.address.full_text} {self.name}"

    @property
    def is_high_rise(self) -> bool:
        # GB 50016: residential buildings above 27 m (≈ 10 storeys) are high-rise.
        return self.floors >= 10


class Unit(models.Model):
    building = models.ForeignKey(Building, verbose_name=_("楼栋"), on_delete=models.CASCADE, related_name="units")
    number = models.PositiveSmallIntegerField(_("单元号"))

    class Meta:
        verbose_name = _("单元")
        verbose_name_plural = _("单元")
        ordering: ClassVar = ["building", "number"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["building", "number"], name="unit_once_per_building")]

    def __str__(self) -> str:
        return f"{self.number}单元"


class House(Placed):
    """房屋: one dwelling or premises (a flat, a shop), the place a household lives."""

    building = models.ForeignKey(Building, verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="houses")
    unit = models.ForeignKey(Unit, verbose_name=_("单元"), on_delete=models.PROTECT, related_name="houses")
    code = models.CharField(_("房屋编码"), max_length=32, unique=True)
    floor = models.SmallIntegerField(_("楼层"))
    number = models.CharField(_("房号"), max_length=12)
    area = models.DecimalField(_("建筑面积（平方米）"), max_digits=8, decimal_places=2, null=True, blank=True)
    use = models.CharField(
        _("房屋用途"), max_length=2, choices=codes.BuildingUse.choices, default=codes.BuildingUse.RESIDENTIAL
    )
    is_rental = models.BooleanField(_("出租房屋"), default=False)
    rental_use = models.CharField(_("出租用途"), max_length=2, choices=codes.RentalUse.choices, blank=True)
    rental_hazard = models.CharField(_("隐患类型"), max_length=2, choices=codes.RentalHazard.choices, blank=True)
    history = HistoricalRecords(inherit=False)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["unit", "number"], name="house_number_once_per_unit"),
            models.CheckConstraint(
                condition=Q(is_rental=True) | Q(rental_use="", rental_hazard=""),
                name="house_rental_fields_only_if_rental",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.building} {self.unit.number}单元{self.number}室"


class HouseholdKind(models.TextChoices):
    REGISTERED = "registered", _("户籍户")
    RESIDENT = "resident", _("居住户")


class Household(Placed):
    house = models.ForeignKey(House, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="households")
    number = models.CharField(_("户号"), max_length=20)
    kind = models.CharField(_("户类别"), max_length=16, choices=HouseholdKind.choices, default=HouseholdKind.RESIDENT)
    head = models.ForeignKey(
        "Person", verbose_name=_("户主"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(_("有效"), default=True)
    # History is read per household (by `id`, newest first); indexes on its other columns only
    # slowed every write (a bulk import writes two history rows per household).
    history = HistoricalRecords(inherit=False, no_db_index=["region_path", "created_by", "region", "house", "head"])

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        ordering: ClassVar = ["house", "number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["house", "number"], name="household_number_once_per_house")
        ]

    def __str__(self) -> str:
        return f"户 {self.number}"


# --- 实有人口 ----------------------------------------------------------------------------------
class Person(Placed):
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=codes.Gender.choices)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=2, choices=codes.ETHNICITIES, default="01")
    doc_type = models.CharField(
        _("证件类型"), max_length=3, choices=codes.DocumentType.choices, default=codes.DocumentType.RESIDENT_ID
    )
    id_number = EncryptedTextField(_("证件号码"), hash_field="id_hash", hash_kind="id")
    id_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_masked = models.CharField(_("证件号码"), max_length=40, blank=True, editable=False)
    phone = EncryptedTextField(_("联系电话"), hash_field="phone_hash", hash_kind="phone")
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("联系电话"), max_length=24, blank=True, editable=False)
    population_type = models.CharField(_("人口类别"), max_length=16, choices=codes.PopulationType.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=codes.PersonStatus.choices, default=codes.PersonStatus.ACTIVE
    )
    house = models.ForeignKey(
        House, verbose_name=_("现住房屋"), null=True, blank=True, on_delete=models.PROTECT, related_name="residents"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("所在户"), null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    relation = models.CharField(_("与户主关系"), max_length=2, choices=codes.Relation.choices, blank=True)
    origin_code = models.CharField(_("户籍地区划代码"), max_length=6, blank=True)
    hukou_address = models.CharField(_("户籍地详址"), max_length=120, blank=True)
    occupation = models.CharField(_("职业"), max_length=40, blank=True)
    workplace = models.CharField(_("服务处所"), max_length=80, blank=True)
    # 户籍人口
    hukou_consistency = models.CharField(
        _("人户一致标识"), max_length=2, choices=codes.HukouConsistency.choices, blank=True
    )
    # 流动人口
    inflow_reason = models.CharField(_("流入原因"), max_length=2, choices=codes.InflowReason.choices, blank=True)
    permit_type = models.CharField(_("办证类型"), max_length=2, choices=codes.PermitType.choices, blank=True)
    permit_expiry = models.DateField(_("证件到期日期"), null=True, blank=True)
    residence_type = models.CharField(_("住所类型"), max_length=2, choices=codes.ResidenceType.choices, blank=True)
    # 境外人员
    foreign_name = models.CharField(_("外文姓名"), max_length=80, blank=True)
    nationality = models.CharField(_("国籍（地区）"), max_length=3, blank=True, help_text=_("GB/T 2659 三字母代码"))
    visit_purpose = models.CharField(_("来华目的"), max_length=2, choices=codes.VisitPurpose.choices, blank=True)
    expected_departure = models.DateField(_("预计离开日期"), null=True, blank=True)
    # lifecycle
    moved_in_on = models.DateField(_("入住日期"), null=True, blank=True)
    moved_out_on = models.DateField(_("迁出日期"), null=True, blank=True)
    moved_out_to = models.CharField(_("迁往地"), max_length=120, blank=True)
    cancel_reason = models.CharField(_("注销原因"), max_length=16, choices=codes.CancelReason.choices, blank=True)
    cancelled_on = models.DateField(_("注销日期"), null=True, blank=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    is_key_focus = models.BooleanField(_("重点关注"), default=False)
    note = models.TextField(_("备注"), blank=True)
    # The composite (region_path, status) index serves every scope scan; a second index on the
    # path alone would only slow the inserts of a 200,000-person town.
    region_path = models.CharField(_("区域路径"), max_length=160)
    # Sealed columns stay out of history rows: a change shows through the masked column, and a key
    # rotation has exactly one table per field to re-seal. History is read per person (by `id`,
    # newest first): the lookup indexes of the live table (hashes, foreign keys) are not copied.
    history = HistoricalRecords(
        inherit=False,
        excluded_fields=["id_number", "phone"],
        no_db_index=["id_hash", "phone_hash", "created_by", "region", "house", "household"],
    )

    class Meta:
        verbose_name = _("实有人口")
        verbose_name_plural = _("实有人口")
        ordering: ClassVar = ["region_path", "id"]
        constraints: ClassVar = [
            # One record per person in the whole installation (duplicate detection by ID number).
            models.UniqueConstraint(fields=["id_hash"], condition=~Q(id_hash=""), name="person_id_number_once"),
            models.CheckConstraint(
                condition=Q(population_type__in=codes.PopulationType.values), name="person_population_type_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=codes.PersonStatus.values), name="person_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(house__isnull=False), name="person_active_has_house"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["region_path", "status"], name="person_scope_status"),
            # LIKE '/330109/…%' subtree scans on PostgreSQL need a pattern-ops btree (a town of
            # 200,000 people is otherwise a sequential scan of the city's ten million).
            models.Index(fields=["region_path", "id"], opclasses=["varchar_pattern_ops", ""], name="person_path_like"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def age(self) -> int | None:
        from gridgov.common import clock

        if self.birth_date is None:
            return None
        today = clock.today()
        return (
            today.year
            - self.birth_date.year
            - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))
        )


class PersonEvent(models.Model):
    """Append-only timeline of a person's register life (登记, 迁入, 迁出, 注销, 归档, 修改…)."""

    class Action(models.TextChoices):
        REGISTER = "register", _("登记")
        MOVE_IN = "move_in", _("迁入")
        MOVE_OUT = "move_out", _("迁出")
        CANCEL = "cancel", _("注销")
        ARCHIVE = "archive", _("归档")
        UPDATE = "update", _("修改信息")
        GROUP_ADD = "group_add", _("列为特殊人群")
        GROUP_UPDATE = "group_update", _("更新特殊人群信息")
        GROUP_END = "group_end", _("解除特殊人群")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=16, choices=Action.choices)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    region_path = models.CharField(max_length=160, db_index=True)

    class Meta:
        verbose_name = _("人口登记记录")
        verbose_name_plural = _("人口登记记录")
        ordering: ClassVar = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise RuntimeError("person events are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


# --- 特殊人群 / 重点青少年 ------------------------------------------------------------------------
class GroupMembership(models.Model):
    """A person's membership of a special group (or key youth), with the group's own fields in
    `details` (validated against `groups.GROUP_FIELDS`) and the visit obligation it carries."""

    person = models.ForeignKey(Person, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="groups")
    kind = models.CharField(_("人群类别"), max_length=16, choices=codes.GroupKind.choices)
    attention_level = models.CharField(_("关注程度"), max_length=2, choices=codes.AttentionLevel.choices)
    risk_code = models.CharField(_("危险性评估"), max_length=2, blank=True)
    risk_note = models.CharField(_("评估说明"), max_length=300, blank=True)
    details = models.JSONField(_("专项信息"), default=dict, blank=True)
    helpers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("帮扶责任人"), blank=True, related_name="+"
    )
    helper_note = models.CharField(_("其他帮扶人员"), max_length=200, blank=True)
    started_on = models.DateField(_("列管日期"))
    ended_on = models.DateField(_("解除日期"), null=True, blank=True)
    end_reason = models.CharField(_("解除原因"), max_length=200, blank=True)
    region_path = models.CharField(max_length=160, db_index=True)
    last_visit_at = models.DateTimeField(_("最近走访"), null=True, blank=True)
    next_visit_due = models.DateField(_("下次走访期限"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(inherit=False, m2m_fields=[])

    class Meta:
        verbose_name = _("特殊人群")
        verbose_name_plural = _("特殊人群")
        ordering: ClassVar = ["next_visit_due", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["person", "kind"], condition=Q(ended_on__isnull=True), name="group_membership_once_active"
            ),
            models.CheckConstraint(condition=Q(kind__in=codes.GroupKind.values), name="group_kind_valid"),
            models.CheckConstraint(
                condition=Q(attention_level__in=codes.AttentionLevel.values), name="group_attention_level_valid"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["region_path", "next_visit_due"], name="group_scope_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.person_id}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class VisitRule(models.Model):
    """走访频次: how often a member of a group at an attention level must be visited (configurable)."""

    kind = models.CharField(_("人群类别"), max_length=16, choices=codes.GroupKind.choices)
    attention_level = models.CharField(_("关注程度"), max_length=2, choices=codes.AttentionLevel.choices)
    interval_days = models.PositiveSmallIntegerField(_("走访间隔（天）"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("走访频次")
        verbose_name_plural = _("走访频次")
        ordering: ClassVar = ["kind", "attention_level"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["kind", "attention_level"], name="visit_rule_once"),
            models.CheckConstraint(
                condition=Q(interval_days__gte=1) & Q(interval_days__lte=366), name="visit_rule_interval_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}·{self.get_attention_level_display()}: {self.interval_days}"


# --- 组织 与 重点场所 (X) ---------------------------------------------------------------------------
class Organisation(Placed):
    kind = models.CharField(_("组织类别"), max_length=16, choices=codes.OrganisationKind.choices)
    name = models.CharField(_("名称"), max_length=120)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    category = models.CharField(_("企业类别"), max_length=2, choices=codes.EnterpriseCategory.choices, blank=True)
    registration_type = models.CharField(
        _("登记注册类型"), max_length=3, choices=codes.RegistrationType.choices, blank=True
    )
    holding = models.CharField(_("控股情况"), max_length=3, choices=codes.Holding.choices, blank=True)
    social_org_type = models.CharField(_("社会组织类型"), max_length=2, choices=codes.SocialOrgType.choices, blank=True)
    address = models.CharField(_("地址"), max_length=160)
    building = models.ForeignKey(
        Building, verbose_name=_("楼栋"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    legal_rep_name = models.CharField(_("法定代表人/负责人"), max_length=30, blank=True)
    contact_phone = models.CharField(_("单位联系电话"), max_length=24, blank=True)
    employees = models.PositiveIntegerField(_("从业人数"), default=0)
    security_hazard = models.CharField(
        _("安全隐患类型"), max_length=2, choices=codes.SecurityHazard.choices, default=codes.SecurityHazard.NONE
    )
    attention_level = models.CharField(
        _("关注程度"), max_length=2, choices=codes.AttentionLevel.choices, default=codes.AttentionLevel.LOW
    )
    is_active = models.BooleanField(_("存续"), default=True)
    note = models.TextField(_("备注"), blank=True)
    history = HistoricalRecords(inherit=False)

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering: ClassVar = ["region_path", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["credit_code"], condition=~Q(credit_code=""), name="organisation_credit_code_once"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Place(Placed):
    kind = models.CharField(_("场所类别"), max_length=16, choices=codes.PlaceKind.choices)
    name = models.CharField(_("名称"), max_length=120)
    address = models.CharField(_("地址"), max_length=160)
    building = models.ForeignKey(
        Building, verbose_name=_("楼栋"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    house = models.ForeignKey(
        House, verbose_name=_("房屋"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="places",
    )
    risk_level = models.CharField(
        _("风险等级"), max_length=1, choices=codes.RiskLevel.choices, default=codes.RiskLevel.GENERAL
    )
    inspection_cycle_days = models.PositiveSmallIntegerField(_("巡查周期（天）"), default=30)
    last_inspected_on = models.DateField(_("最近巡查"), null=True, blank=True)
    next_inspection_due = models.DateField(_("下次巡查期限"), null=True, blank=True, db_index=True)
    contact_name = models.CharField(_("负责人"), max_length=30, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=24, blank=True)
    rental_use = models.CharField(_("出租用途"), max_length=2, choices=codes.RentalUse.choices, blank=True)
    rental_hazard = models.CharField(_("隐患类型"), max_length=2, choices=codes.RentalHazard.choices, blank=True)
    occupants = models.PositiveIntegerField(_("居住/从业人数"), default=0)
    is_active = models.BooleanField(_("在用"), default=True)
    note = models.TextField(_("备注"), blank=True)
    history = HistoricalRecords(inherit=False)

    class Meta:
        verbose_name = _("重点场所")
        verbose_name_plural = _("重点场所")
        ordering: ClassVar = ["region_path", "name"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(inspection_cycle_days__gte=1) & Q(inspection_cycle_days__lte=366), name="place_cycle_range"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["region_path", "kind"], name="place_scope_kind")]

    def __str__(self) -> str:
        return self.name


class School(Placed):
    name = models.CharField(_("学校名称"), max_length=120)
    school_type = models.CharField(_("办学类型"), max_length=16, choices=codes.SchoolType.choices)
    address = models.CharField(_("地址"), max_length=160)
    students = models.PositiveIntegerField(_("在校学生数"), default=0)
    staff = models.PositiveIntegerField(_("教职工数"), default=0)
    principal_name = models.CharField(_("校长"), max_length=30, blank=True)
    security_chief = models.CharField(_("安全负责人"), max_length=30, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=24, blank=True)
    guards = models.PositiveSmallIntegerField(_("专职保安数"), default=0)
    has_police_room = models.BooleanField(_("设有警务室"), default=False)
    has_alarm_link = models.BooleanField(_("一键报警联网"), default=False)
    surroundings_note = models.TextField(_("周边情况"), blank=True)
    history = HistoricalRecords(inherit=False)

    class Meta:
        verbose_name = _("学校")
        verbose_name_plural = _("学校")
        ordering: ClassVar = ["region_path", "name"]

    def __str__(self) -> str:
        return self.name


class GovernanceOrg(Placed):
    """综治组织: a committee, office or centre at one level."""

    name = models.CharField(_("名称"), max_length=120)
    institution_type = models.CharField(_("机构类型"), max_length=2, choices=codes.InstitutionType.choices)
    level = models.CharField(_("层级"), max_length=2, choices=codes.InstitutionLevel.choices)
    address = models.CharField(_("地址"), max_length=160, blank=True)
    head_name = models.CharField(_("负责人"), max_length=30, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=24, blank=True)
    member_units = models.TextField(_("组成单位"), blank=True)

    class Meta:
        verbose_name = _("综治组织")
        verbose_name_plural = _("综治组织")
        ordering: ClassVar = ["region_path", "name"]

    def __str__(self) -> str:
        return self.name


class Team(Placed):
    """群防群治 / 护路护线队伍."""

    name = models.CharField(_("队伍名称"), max_length=120)
    team_type = models.CharField(_("组织类型"), max_length=2, choices=codes.TeamType.choices)
    organisation = models.ForeignKey(
        GovernanceOrg,
        verbose_name=_("所属综治组织"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teams",
    )
    leader_name = models.CharField(_("负责人"), max_length=30, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=24, blank=True)
    member_count = models.PositiveIntegerField(_("队员人数"), default=0)
    duties = models.TextField(_("主要职责"), blank=True)

    class Meta:
        verbose_name = _("综治队伍")
        verbose_name_plural = _("综治队伍")
        ordering: ClassVar = ["region_path", "name"]

    def __str__(self) -> str:
        return self.name


class LineSegment(Placed):
    """护路护线: a stretch of railway, road, power line or pipeline and who guards it."""

    kind = models.CharField(_("路线类型"), max_length=16, choices=codes.LineKind.choices)
    name = models.CharField(_("线路名称"), max_length=120)
    section = models.CharField(_("区段（起止）"), max_length=120)
    length_km = models.DecimalField(_("长度（公里）"), max_digits=8, decimal_places=2, default=0)
    team = models.ForeignKey(
        Team, verbose_name=_("护路护线队伍"), null=True, blank=True, on_delete=models.SET_NULL, related_name="segments"
    )
    responsible_unit = models.CharField(_("责任单位"), max_length=120, blank=True)
    risk_level = models.CharField(
        _("风险等级"), max_length=1, choices=codes.RiskLevel.choices, default=codes.RiskLevel.GENERAL
    )
    geometry = models.JSONField(_("线路走向 (GeoJSON)"), null=True, blank=True)
    last_patrolled_on = models.DateField(_("最近巡护"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)
    history = HistoricalRecords(inherit=False)

    class Meta:
        verbose_name = _("护路护线区段")
        verbose_name_plural = _("护路护线区段")
        ordering: ClassVar = ["region_path", "name"]

    def __str__(self) -> str:
        return f"{self.name} {self.section}"


# --- 走访 (visits; the field-work app builds the phone form on this) ----------------------------
class Visit(models.Model):
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("走访人"), on_delete=models.PROTECT, related_name="visits"
    )
    visited_at = models.DateTimeField(_("走访时间"), db_index=True)
    kind = models.CharField(
        _("走访类型"), max_length=16, choices=codes.VisitKind.choices, default=codes.VisitKind.ROUTINE
    )
    outcome = models.CharField(
        _("走访结果"), max_length=16, choices=codes.VisitOutcome.choices, default=codes.VisitOutcome.NORMAL
    )
    findings = models.TextField(_("走访情况"))
    person = models.ForeignKey(
        Person, verbose_name=_("走访对象"), null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("走访户"), null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    place = models.ForeignKey(
        Place, verbose_name=_("巡查场所"), null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    membership = models.ForeignKey(
        GroupMembership,
        verbose_name=_("对应列管"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=160, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering: ClassVar = ["-visited_at", "-id"]
        constraints: ClassVar = [
            # Exactly one target: a person, a household or a place.
            models.CheckConstraint(
                condition=Q(person__isnull=False, household__isnull=True, place__isnull=True)
                | Q(person__isnull=True, household__isnull=False, place__isnull=True)
                | Q(person__isnull=True, household__isnull=True, place__isnull=False),
                name="visit_exactly_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visited_at:%Y-%m-%d} {self.get_kind_display()}"


class VisitPhoto(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("照片"), upload_to="visits/%Y/%m/")
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    taken_at = models.DateTimeField(_("拍摄时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("走访照片")
        verbose_name_plural = _("走访照片")
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return self.caption or self.image.name


# --- 关联事件: a case about a person, household, place, organisation or school ---------------------
LINK_SUBJECTS = ("person", "household", "place", "organisation", "school")


def _exactly_one(fields: tuple[str, ...]) -> Q:
    out = Q()
    for chosen in fields:
        out |= Q(**{f"{f}__isnull": f != chosen for f in fields})
    return out


class CaseLink(models.Model):
    """A case (案卷) linked to exactly one register subject, so the subject's page lists the cases
    about it and the case lists whom it concerns. `region_path` is the subject's: the link is a
    register row and is scoped like one."""

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("案卷"), on_delete=models.CASCADE, related_name="subject_links"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("人员"), null=True, blank=True, on_delete=models.CASCADE, related_name="case_links"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("户"), null=True, blank=True, on_delete=models.CASCADE, related_name="case_links"
    )
    place = models.ForeignKey(
        Place, verbose_name=_("重点场所"), null=True, blank=True, on_delete=models.CASCADE, related_name="case_links"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("组织"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="case_links",
    )
    school = models.ForeignKey(
        School, verbose_name=_("学校"), null=True, blank=True, on_delete=models.CASCADE, related_name="case_links"
    )
    note = models.CharField(_("关联说明"), max_length=200, blank=True)
    region_path = models.CharField(_("区域路径"), max_length=160, db_index=True)
    created_at = models.DateTimeField(_("关联时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("关联人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("关联事件")
        verbose_name_plural = _("关联事件")
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=_exactly_one(LINK_SUBJECTS), name="case_link_exactly_one_subject"),
            *(
                models.UniqueConstraint(
                    fields=["case", name], condition=Q(**{f"{name}__isnull": False}), name=f"case_link_{name}_once"
                )
                for name in LINK_SUBJECTS
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.subject_kind}:{self.subject_id}"

    @property
    def subject_kind(self) -> str:
        return next((n for n in LINK_SUBJECTS if getattr(self, f"{n}_id") is not None), "")

    @property
    def subject_id(self) -> int | None:
        kind = self.subject_kind
        return getattr(self, f"{kind}_id") if kind else None

    @property
    def subject(self) -> models.Model | None:
        kind = self.subject_kind
        return getattr(self, kind) if kind else None
