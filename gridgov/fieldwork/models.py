"""Field work: where a visit was recorded from, patrols with their check-ins, and hazard campaigns
(专项整治) — campaigns, inspections of units, hazards and their rectification timeline.

Visits themselves are the registers' `Visit` rows (the registers own visit obligations); this app
adds the location check and the cases reported from a finding. Every big table carries
`region_path` so a jurisdiction filter is one indexed prefix scan.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.accounts.models import Department
from gridgov.regions.models import Region
from gridgov.registers.codes import PlaceKind
from gridgov.registers.models import Place, Visit

# --- visits and patrols ----------------------------------------------------------------------------


class LocationCheck(models.TextChoices):
    INSIDE = "inside", _("在本网格内")
    OUTSIDE = "outside", _("不在本网格（已确认）")
    NONE = "none", _("未定位")


class VisitLocation(models.Model):
    """Where the phone was when a visit was recorded, and whether that lay in the worker's grid."""

    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="fieldwork_location")
    located_region = models.ForeignKey(
        Region, verbose_name=_("定位所在网格"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("定位核验"), max_length=8, choices=LocationCheck.choices)
    accuracy_m = models.PositiveIntegerField(_("定位精度（米）"), null=True, blank=True)
    outside_reason = models.CharField(_("网格外说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("走访定位")
        verbose_name_plural = _("走访定位")

    def __str__(self) -> str:
        return f"{self.visit_id} {self.status}"


class FindingCase(models.Model):
    """A case reported from a visit's or a check-in's finding ("一键上报")."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="fieldwork_finding")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    checkin = models.ForeignKey("PatrolCheckin", null=True, blank=True, on_delete=models.CASCADE, related_name="cases")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("走访发现上报")
        verbose_name_plural = _("走访发现上报")

    def __str__(self) -> str:
        return str(self.case_id)


class PatrolState(models.TextChoices):
    ACTIVE = "active", _("巡查中")
    ENDED = "ended", _("已结束")


class Patrol(models.Model):
    """One round of a worker's patrol (巡查) through their grid."""

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("巡查人"), on_delete=models.PROTECT, related_name="patrols"
    )
    region = models.ForeignKey(Region, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=160, db_index=True)
    state = models.CharField(_("状态"), max_length=8, choices=PatrolState.choices, default=PatrolState.ACTIVE)
    started_at = models.DateTimeField(_("开始时间"), db_index=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    summary = models.CharField(_("巡查小结"), max_length=500, blank=True)
    distance_m = models.PositiveIntegerField(_("巡查里程（米）"), default=0)

    class Meta:
        verbose_name = _("巡查")
        verbose_name_plural = _("巡查")
        ordering: ClassVar = ["-started_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["worker", "started_at"], name="patrol_worker_started")]
        constraints: ClassVar = [
            # A worker walks one patrol at a time.
            models.UniqueConstraint(fields=["worker"], condition=Q(state="active"), name="patrol_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.worker_id} {self.started_at:%Y-%m-%d %H:%M}"


class PatrolCheckin(models.Model):
    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="checkins")
    at = models.DateTimeField(_("打卡时间"))
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    located_region = models.ForeignKey(
        Region, verbose_name=_("所在网格"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inside_grid = models.BooleanField(_("在本网格内"), default=True)
    place = models.ForeignKey(
        Place, verbose_name=_("巡查点位"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("发现情况"), max_length=500, blank=True)
    has_issue = models.BooleanField(_("发现问题"), default=False)
    region_path = models.CharField(max_length=160, db_index=True)

    class Meta:
        verbose_name = _("巡查打卡")
        verbose_name_plural = _("巡查打卡")
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.patrol_id} {self.at:%H:%M}"


# --- hazard campaigns ----------------------------------------------------------------------------


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("筹备中")
    RUNNING = "running", _("进行中")
    CLOSED = "closed", _("已结束")


class Campaign(models.Model):
    """专项整治: a kind of risk targeted in a period over some regions, with a checklist."""

    name = models.CharField(_("名称"), max_length=100)
    theme = models.CharField(_("整治领域"), max_length=40, blank=True)
    description = models.TextField(_("工作要求"), blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    # The organising node (the operator's level); scope regions lie inside it.
    region = models.ForeignKey(Region, verbose_name=_("组织单位辖区"), on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=160, db_index=True)
    scope_regions = models.ManyToManyField(Region, verbose_name=_("整治范围"), related_name="campaigns")
    target_place_kinds = models.JSONField(_("对象场所类别"), default=list, blank=True)
    state = models.CharField(_("状态"), max_length=8, choices=CampaignState.choices, default=CampaignState.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("专项整治")
        verbose_name_plural = _("专项整治")
        ordering: ClassVar = ["-starts_on", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_period_order"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def target_kind_labels(self) -> list[str]:
        out = []
        for k in self.target_place_kinds or []:
            try:
                out.append(str(PlaceKind(k).label))
            except ValueError:
                out.append(k)
        return out


class ChecklistItem(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    seq = models.PositiveSmallIntegerField(_("序号"))
    text = models.CharField(_("检查项"), max_length=200)

    class Meta:
        verbose_name = _("检查项")
        verbose_name_plural = _("检查项")
        ordering: ClassVar = ["campaign", "seq"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["campaign", "seq"], name="checklist_seq_once")]

    def __str__(self) -> str:
        return f"{self.seq}. {self.text}"


class InspectionState(models.TextChoices):
    ASSIGNED = "assigned", _("待检查")
    DONE = "done", _("已检查")


class Inspection(models.Model):
    """A unit (a registered place, or a named unit) to be checked under a campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="inspections")
    place = models.ForeignKey(
        Place, verbose_name=_("检查对象"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit_name = models.CharField(_("单位名称"), max_length=120)
    address = models.CharField(_("地址"), max_length=160, blank=True)
    region = models.ForeignKey(Region, verbose_name=_("所在网格"), on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=160, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("检查人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("检查单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    due_on = models.DateField(_("检查期限"))
    state = models.CharField(_("状态"), max_length=8, choices=InspectionState.choices, default=InspectionState.ASSIGNED)
    inspected_at = models.DateTimeField(_("检查时间"), null=True, blank=True)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("检查情况"), max_length=1000, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("检查任务")
        verbose_name_plural = _("检查任务")
        ordering: ClassVar = ["due_on", "id"]
        indexes: ClassVar = [models.Index(fields=["campaign", "state", "region_path"], name="inspection_campaign")]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(assignee__isnull=False) | Q(department__isnull=False), name="inspection_has_assignee"
            ),
            models.UniqueConstraint(
                fields=["campaign", "place"], condition=Q(place__isnull=False), name="inspection_place_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.unit_name}"

    @property
    def assignee_label(self) -> str:
        if self.department_id and self.department:
            return self.department.name
        return self.assignee.label if self.assignee else ""


class InspectionResult(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField(_("合格"))
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("检查结果")
        verbose_name_plural = _("检查结果")
        ordering: ClassVar = ["item__seq"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["inspection", "item"], name="result_item_once")]

    def __str__(self) -> str:
        return f"{self.inspection_id} {self.item_id} {'✓' if self.passed else '✗'}"


class HazardState(models.TextChoices):
    FOUND = "found", _("待落实整改")
    RECTIFYING = "rectifying", _("整改中")
    RECTIFIED = "rectified", _("待复查")
    SIGNED_OFF = "signed_off", _("已销号")
    VOIDED = "voided", _("已核销（不构成隐患）")


HAZARD_OPEN_STATES = frozenset({HazardState.FOUND, HazardState.RECTIFYING, HazardState.RECTIFIED})


class HazardLevel(models.TextChoices):
    GENERAL = "general", _("一般隐患")
    MAJOR = "major", _("重大隐患")


class Hazard(models.Model):
    number = models.CharField(_("隐患编号"), max_length=32, unique=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="hazards")
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="hazards")
    item = models.ForeignKey(
        ChecklistItem, verbose_name=_("检查项"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("隐患描述"))
    level = models.CharField(_("隐患等级"), max_length=8, choices=HazardLevel.choices, default=HazardLevel.GENERAL)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=160)
    state = models.CharField(_("状态"), max_length=12, choices=HazardState.choices, default=HazardState.FOUND)
    version = models.PositiveIntegerField(default=1)
    found_at = models.DateTimeField(_("发现时间"))
    found_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # 四落实: target, measures, responsible party, deadline.
    target = models.CharField(_("整改目标"), max_length=300, blank=True)
    measures = models.TextField(_("整改措施"), blank=True)
    responsible = models.CharField(_("整改责任人"), max_length=100, blank=True)
    responsible_department = models.ForeignKey(
        Department,
        verbose_name=_("责任部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hazards",
    )
    deadline = models.DateField(_("整改期限"), null=True, blank=True)
    rectified_at = models.DateTimeField(_("整改完成时间"), null=True, blank=True)
    rectification = models.TextField(_("整改情况"), blank=True)
    signed_off_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    send_back_count = models.PositiveSmallIntegerField(_("复查退回次数"), default=0)
    # 挂牌整治: listed supervision, a named owner and a public list.
    listed = models.BooleanField(_("挂牌整治"), default=False)
    listed_at = models.DateTimeField(_("挂牌时间"), null=True, blank=True)
    listed_owner = models.CharField(_("挂牌督办责任人"), max_length=100, blank=True)
    listed_note = models.CharField(_("督办要求"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("隐患")
        verbose_name_plural = _("隐患")
        ordering: ClassVar = ["-found_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["state", "region_path"], name="hazard_state_path"),
            models.Index(fields=["campaign", "state", "deadline"], name="hazard_campaign_state"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(state__in=HazardState.values), name="hazard_state_valid"),
            # Rectification starts only once the four implementations are in place.
            models.CheckConstraint(
                condition=Q(state__in=["found", "voided"]) | Q(deadline__isnull=False) & ~Q(measures=""),
                name="hazard_four_implementations",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state in HAZARD_OPEN_STATES

    def is_overdue(self, today: Any) -> bool:
        return self.state == HazardState.RECTIFYING and self.deadline is not None and self.deadline < today


class HazardEvent(models.Model):
    """Append-only timeline: one row per action, written in the action's transaction."""

    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=24)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("隐患流转记录")
        verbose_name_plural = _("隐患流转记录")
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.hazard_id} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("hazard events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("hazard events are append-only")


class HazardPhoto(models.Model):
    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=12, choices=[("found", _("隐患照片")), ("rectified", _("整改照片"))])
    image = models.FileField(upload_to="hazards/%Y/%m/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("隐患照片")
        verbose_name_plural = _("隐患照片")
        ordering: ClassVar = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.hazard_id} {self.kind}"


class HazardCounter(models.Model):
    """Per campaign sequence behind hazard numbers (YH-<campaign>-0001)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, primary_key=True, related_name="+")
    value = models.PositiveIntegerField(default=0)
