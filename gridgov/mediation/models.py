"""Mediation (矛盾纠纷调处化解) and petitions (信访).

Three levels of mediation centre, each anchored on a region node (district, street, community).
A dispute runs through the transition table in `states.py`, with sessions, an outcome, an
agreement and follow-up visits; its personal data (parties' ID and phone numbers) is sealed at
rest like the registers' and masked everywhere it is listed. A petition is handled through the
case loop (its own case category and time limits) and linked to earlier petitions of the same
person and subject.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.regions.models import Region
from gridgov.registers.crypto import EncryptedTextField

from . import codes


class MediationCentre(models.Model):
    region = models.OneToOneField(
        Region, verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="mediation_centre"
    )
    region_path = models.CharField(max_length=160, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=codes.CentreLevel.choices)
    address = models.CharField(_("地址"), max_length=160, blank=True)
    phone = models.CharField(_("联系电话"), max_length=24, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("矛调中心")
        verbose_name_plural = _("矛调中心")
        ordering: ClassVar = ["region_path"]

    def __str__(self) -> str:
        return self.name


class DisputeState(models.TextChoices):
    REGISTERED = "registered", _("待受理")
    MEDIATING = "mediating", _("调解中")
    SETTLED = "settled", _("调解成功")
    CONFIRMED = "confirmed", _("已司法确认")
    FAILED = "failed", _("调解不成")
    TRANSFERRED = "transferred", _("已移交")
    WITHDRAWN = "withdrawn", _("已撤回")


DISPUTE_SUCCESS_STATES = frozenset({DisputeState.SETTLED, DisputeState.CONFIRMED})
DISPUTE_CONCLUDED_STATES = frozenset(
    {DisputeState.SETTLED, DisputeState.CONFIRMED, DisputeState.FAILED, DisputeState.TRANSFERRED}
)
DISPUTE_OPEN_STATES = frozenset({DisputeState.REGISTERED, DisputeState.MEDIATING})


class DisputeSource(models.TextChoices):
    WALK_IN = "walk_in", _("来访登记")
    CASE = "case", _("事件转入")
    REFERRAL = "referral", _("部门移送")
    ONLINE = "online", _("在线申请")


class Dispute(models.Model):
    number = models.CharField(_("纠纷编号"), max_length=32, unique=True)
    title = models.CharField(_("纠纷名称"), max_length=100)
    kind = models.CharField(_("纠纷类型"), max_length=4)
    scale = models.CharField(_("事件规模"), max_length=2, choices=codes.Scale.choices, default=codes.Scale.INDIVIDUAL)
    involved = models.PositiveIntegerField(_("涉及人数"), default=2)
    amount = models.DecimalField(_("涉及金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    description = models.TextField(_("纠纷简述"))
    occurred_on = models.DateField(_("发生日期"), null=True, blank=True)
    address = models.CharField(_("发生地点"), max_length=200, blank=True)
    region = models.ForeignKey(Region, verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=160)
    centre = models.ForeignKey(
        MediationCentre, verbose_name=_("受理中心"), on_delete=models.PROTECT, related_name="disputes"
    )
    source = models.CharField(_("来源"), max_length=12, choices=DisputeSource.choices, default=DisputeSource.WALK_IN)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("来源事件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disputes",
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调解员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disputes",
    )
    method = models.CharField(_("化解方式"), max_length=2, choices=codes.Method.choices, default=codes.Method.PEOPLES)
    state = models.CharField(_("状态"), max_length=12, choices=DisputeState.choices, default=DisputeState.REGISTERED)
    version = models.PositiveIntegerField(default=1)
    deadline = models.DateField(_("化解时限"), null=True, blank=True)
    registered_at = models.DateTimeField(_("登记时间"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # Outcome.
    agreement_no = models.CharField(_("协议书编号"), max_length=40, blank=True)
    agreement = models.TextField(_("协议内容"), blank=True)
    performance_term = models.CharField(_("履行方式及期限"), max_length=300, blank=True)
    transfer_to = models.CharField(_("移交去向"), max_length=12, choices=codes.Transfer.choices, blank=True)
    outcome_note = models.TextField(_("化解情况"), blank=True)
    judicial_court = models.CharField(_("确认法院"), max_length=100, blank=True)
    judicial_ref = models.CharField(_("司法确认文书号"), max_length=60, blank=True)
    judicial_on = models.DateField(_("确认日期"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("矛盾纠纷")
        verbose_name_plural = _("矛盾纠纷")
        ordering: ClassVar = ["-registered_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["state", "region_path"], name="dispute_state_path"),
            models.Index(fields=["centre", "state"], name="dispute_centre_state"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(state__in=DisputeState.values), name="dispute_state_valid"),
            models.CheckConstraint(
                condition=~Q(state__in=["settled", "confirmed"]) | ~Q(agreement=""), name="dispute_settled_agreement"
            ),
            models.CheckConstraint(
                condition=~Q(state="transferred") | ~Q(transfer_to=""), name="dispute_transfer_target"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def kind_label(self) -> str:
        return codes.kind_label(self.kind)

    @property
    def is_open(self) -> bool:
        return self.state in DISPUTE_OPEN_STATES


class DisputeParty(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("身份"), max_length=12, choices=codes.PartyRole.choices)
    name = models.CharField(_("姓名/名称"), max_length=60)
    id_number = EncryptedTextField(_("证件号码"), hash_field="id_hash", hash_kind="id")
    id_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_masked = models.CharField(_("证件号码"), max_length=40, blank=True, editable=False)
    phone = EncryptedTextField(_("联系电话"), hash_field="phone_hash", hash_kind="phone")
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone_masked = models.CharField(_("联系电话"), max_length=24, blank=True, editable=False)
    address = models.CharField(_("住址"), max_length=160, blank=True)
    seq = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering: ClassVar = ["dispute", "seq", "id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"


class MediationSession(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField(_("调解时间"))
    mode = models.CharField(_("方式"), max_length=12, choices=codes.SessionMode.choices)
    location = models.CharField(_("地点/会议链接"), max_length=200, blank=True)
    mediator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    attendees = models.CharField(_("参加人员"), max_length=300, blank=True)
    summary = models.TextField(_("调解经过"))
    result = models.CharField(_("本次结果"), max_length=12, choices=codes.SessionResult.choices)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("调解记录")
        verbose_name_plural = _("调解记录")
        ordering: ClassVar = ["held_at", "id"]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.held_at:%Y-%m-%d}"


class FollowUp(models.Model):
    """回访: after a settlement, whether the agreement is being performed."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="follow_ups")
    at = models.DateTimeField(_("回访时间"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("回访方式"), max_length=12, choices=[("phone", _("电话")), ("visit", _("上门"))])
    performance = models.CharField(_("协议履行"), max_length=8, choices=codes.Performance.choices)
    note = models.CharField(_("回访情况"), max_length=500)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.at:%Y-%m-%d}"


class DisputeEvent(models.Model):
    """Append-only timeline of a dispute."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=24)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("纠纷流转记录")
        verbose_name_plural = _("纠纷流转记录")
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("dispute events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("dispute events are append-only")


class Counter(models.Model):
    """Per kind and year sequence behind dispute, agreement and petition numbers."""

    key = models.CharField(max_length=32, primary_key=True)
    value = models.PositiveIntegerField(default=0)


class Petition(models.Model):
    number = models.CharField(_("信访编号"), max_length=32, unique=True)
    channel = models.CharField(_("信访形式"), max_length=8, choices=codes.PetitionChannel.choices)
    matter = models.CharField(_("信访事项类别"), max_length=4, choices=codes.PetitionMatter.choices)
    subject = models.CharField(_("信访事项"), max_length=120)
    content = models.TextField(_("诉求内容"))
    petitioner_name = models.CharField(_("信访人"), max_length=50)
    id_number = EncryptedTextField(_("证件号码"), hash_field="id_hash", hash_kind="id")
    id_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_masked = models.CharField(_("证件号码"), max_length=40, blank=True, editable=False)
    phone = EncryptedTextField(_("联系电话"), hash_field="phone_hash", hash_kind="phone")
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone_masked = models.CharField(_("联系电话"), max_length=24, blank=True, editable=False)
    # Keyed hash of name + phone: the repeat key when no ID number was given.
    person_key = models.CharField(max_length=64, db_index=True)
    people_count = models.PositiveIntegerField(_("人数"), default=1)
    address = models.CharField(_("事项发生地"), max_length=200)
    region = models.ForeignKey(Region, verbose_name=_("所在网格"), on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=160, db_index=True)
    received_at = models.DateTimeField(_("登记时间"), db_index=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    case = models.OneToOneField(
        "cases.Case", verbose_name=_("办理案卷"), on_delete=models.PROTECT, related_name="petition"
    )
    # Repeat detection: the first petition of this person on this subject, and how many came before.
    first = models.ForeignKey(
        "self", verbose_name=_("首次信访"), null=True, blank=True, on_delete=models.PROTECT, related_name="repeats"
    )
    repeat_no = models.PositiveSmallIntegerField(_("重复次数"), default=0)
    subject_key = models.CharField(max_length=120, blank=True)

    class Meta:
        verbose_name = _("信访件")
        verbose_name_plural = _("信访件")
        ordering: ClassVar = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def is_repeat(self) -> bool:
        return self.first_id is not None

    @property
    def is_group(self) -> bool:
        # 集体访: five or more people (信访工作条例).
        return self.people_count >= 5
