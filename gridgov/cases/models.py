"""The case loop: one `Case` model for everything reported, its append-only timeline, and the
configuration it runs on (category code table, SLA limits, routing rules).

Every case carries the `region_path` of its micro-grid so a jurisdiction filter is one indexed
prefix scan; the queue indexes below lead with `state` because every work queue is "cases in
state X inside my subtree / for my unit, by deadline".
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.accounts.models import Department, User
from gridgov.regions.models import Region


class Source(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员上报")
    MICROGRID_WORKER = "microgrid_worker", _("微网格员上报")
    CITIZEN = "citizen", _("群众随手拍")
    HOTLINE_12345 = "hotline_12345", _("12345热线")
    POLICE_110 = "police_110", _("110警情")
    ONLINE_OPINION = "online_opinion", _("网络舆情")
    SENSOR = "sensor", _("物联感知")
    DEPARTMENT = "department", _("部门移交")
    INSPECTION = "inspection", _("巡查督查")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


class State(models.TextChoices):
    REPORTED = "reported", _("待受理")
    ACCEPTED = "accepted", _("待派遣")
    DISPATCHED = "dispatched", _("待签收")
    HANDLING = "handling", _("处置中")
    HANDLED = "handled", _("待核查")
    VERIFIED = "verified", _("待结案")
    CLOSED = "closed", _("已结案")
    SETTLE_PENDING = "settle_pending", _("就地化解待审核")
    SUPERVISING = "supervising", _("督办中")
    REJECTED = "rejected", _("不予受理")
    MERGED = "merged", _("已合并")


FINAL_STATES = frozenset({State.CLOSED, State.REJECTED, State.MERGED})
OPEN_STATES = frozenset(set(State.values) - {str(s) for s in FINAL_STATES})


class LimitUnit(models.TextChoices):
    WORK_HOURS = "work_hours", _("工作时")
    WORK_DAYS = "work_days", _("工作日")
    HOURS = "hours", _("自然小时")


class CaseCategory(models.Model):
    """Two-level code table (大类 / 小类). Level-1 codes are two digits, level-2 codes four digits
    beginning with their parent's code, as the GB/T 31000 dispute table does (01 → 0101)."""

    code = models.CharField(_("编码"), max_length=8, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("大类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"parent__isnull": True},
    )
    keywords = models.CharField(_("关键词"), max_length=300, blank=True, help_text=_("用于分类建议，逗号分隔"))
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("事件类别")
        verbose_name_plural = _("事件类别")
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=~Q(code=""), name="case_category_code_nonempty"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def level(self) -> int:
        return 1 if self.parent_id is None else 2

    @property
    def full_name(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name


class SlaPolicy(models.Model):
    """Time limits per category and urgency. Lookup falls back from the sub-category to its
    main category to the default row (category empty) of the same urgency."""

    category = models.ForeignKey(
        CaseCategory,
        verbose_name=_("类别"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        help_text=_("留空表示默认"),
    )
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices)
    sign_limit = models.PositiveIntegerField(_("签收时限"))
    sign_unit = models.CharField(_("签收时限单位"), max_length=16, choices=LimitUnit.choices)
    handle_limit = models.PositiveIntegerField(_("办结时限"))
    handle_unit = models.CharField(_("办结时限单位"), max_length=16, choices=LimitUnit.choices)

    class Meta:
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        ordering: ClassVar = ["category__code", "urgency"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["category", "urgency"], name="sla_policy_once"),
            models.UniqueConstraint(
                fields=["urgency"], condition=Q(category__isnull=True), name="sla_policy_default_once"
            ),
            models.CheckConstraint(condition=Q(sign_limit__gt=0, handle_limit__gt=0), name="sla_policy_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category or _('默认')} · {self.get_urgency_display()}"


class RoutingRule(models.Model):
    """Category × region → handling unit. The most specific matching rule wins: a sub-category
    beats its main category beats "any"; a deeper region beats a shallower one; then priority."""

    category = models.ForeignKey(
        CaseCategory, verbose_name=_("类别"), null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("区域（含下级）"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="case_rules",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("主办单位"), on_delete=models.CASCADE, related_name="case_rules"
    )
    assist_departments = models.ManyToManyField(
        Department, verbose_name=_("协办单位"), blank=True, related_name="case_assist_rules"
    )
    auto_dispatch = models.BooleanField(_("受理后自动派遣"), default=False)
    priority = models.SmallIntegerField(_("优先级"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("派遣规则")
        verbose_name_plural = _("派遣规则")
        ordering: ClassVar = ["category__code", "region__path", "-priority"]

    def __str__(self) -> str:
        return f"{self.category or _('全部类别')} @ {self.region or _('全辖区')} → {self.department}"


class Case(models.Model):
    number = models.CharField(_("案卷编号"), max_length=32, unique=True)
    # Given to the reporter (citizens have no account); random, not guessable from the number.
    tracking_code = models.CharField(_("查询码"), max_length=12, unique=True)
    source = models.CharField(_("来源"), max_length=24, choices=Source.choices)
    category = models.ForeignKey(CaseCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="cases")
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    description = models.TextField(_("描述"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    region = models.ForeignKey(Region, verbose_name=_("所在网格"), on_delete=models.PROTECT, related_name="cases")
    region_path = models.CharField(_("区域路径"), max_length=160)
    # The centre (村/镇/区 综治中心 node) currently holding the case: it accepts, dispatches,
    # verifies and closes. Escalation moves it up, dispatch to a lower centre moves it down.
    center = models.ForeignKey(Region, verbose_name=_("承办中心"), on_delete=models.PROTECT, related_name="held_cases")
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.REPORTED)
    version = models.PositiveIntegerField(_("版本"), default=1)

    reporter = models.ForeignKey(
        User, verbose_name=_("上报人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="reported_cases"
    )
    reporter_name = models.CharField(_("报告人姓名"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("报告人电话"), max_length=20, blank=True)

    department = models.ForeignKey(
        Department,
        verbose_name=_("主办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_cases",
    )
    handler = models.ForeignKey(
        User, verbose_name=_("签收人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="handled_cases"
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("合并至"), null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )

    reported_at = models.DateTimeField(_("上报时间"))
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    sign_deadline = models.DateTimeField(_("签收时限"), null=True, blank=True)
    handle_deadline = models.DateTimeField(_("办结时限"), null=True, blank=True)
    # The deadline of the step the case is in now, and when it turns yellow; stored so that
    # queues and the overdue filter are plain indexed comparisons.
    deadline = models.DateTimeField(_("当前环节时限"), null=True, blank=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    # Did the case ever sign / complete late? Kept so rates need no timeline scan.
    signed_late = models.BooleanField(default=False)

    result = models.TextField(_("处置结果"), blank=True)
    public_reply = models.TextField(_("答复群众"), blank=True)
    settled_on_spot = models.BooleanField(_("就地化解"), default=False)
    extension_pending = models.BooleanField(_("延期待审批"), default=False)
    extension_days = models.PositiveSmallIntegerField(_("申请延期工作日"), default=0)
    extension_reason = models.CharField(_("延期理由"), max_length=500, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    supervised = models.BooleanField(_("督办"), default=False)
    supervision_listed = models.BooleanField(_("挂牌督办"), default=False)
    supervision_owner = models.CharField(_("督办责任人"), max_length=100, blank=True)
    supervision_deadline = models.DateTimeField(_("督办期限"), null=True, blank=True)
    supervision_note = models.CharField(_("督办要求"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("案卷")
        verbose_name_plural = _("案卷")
        ordering: ClassVar = ["-reported_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["state", "region_path"], name="case_state_path"),
            models.Index(fields=["state", "center", "deadline"], name="case_state_center"),
            models.Index(fields=["state", "department", "deadline"], name="case_state_dept"),
            models.Index(fields=["state", "deadline"], name="case_state_deadline"),
            models.Index(fields=["region_path", "reported_at"], name="case_path_reported"),
            models.Index(fields=["category", "state", "reported_at"], name="case_cat_state_rep"),
            # Subtree scans are LIKE '/330109/330109001/%'; on PostgreSQL only a pattern-ops
            # btree serves that under a non-C collation (SQLite ignores opclasses).
            models.Index(
                fields=["region_path", "reported_at"], opclasses=["varchar_pattern_ops", ""], name="case_path_like"
            ),
            # The open workload (a few % of a year's cases) by subtree and deadline: overdue,
            # supervision and warning-colour queues.
            models.Index(
                fields=["region_path", "deadline"],
                opclasses=["varchar_pattern_ops", ""],
                condition=~Q(state__in=["closed", "rejected", "merged"]),
                name="case_open_path_deadline",
            ),
            # "All cases", newest first: a big scope reads the first page straight off this index.
            models.Index(fields=["-reported_at", "-id"], name="case_reported_desc"),
            # The open workload in queue order (deadline, id): a district's or a leader's overdue
            # and supervision queues read their first page off it instead of sorting thousands.
            models.Index(
                fields=["deadline", "id"],
                condition=~Q(state__in=["closed", "rejected", "merged"]),
                name="case_open_deadline",
            ),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(state__in=State.values), name="case_state_valid"),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="case_satisfaction_1_5",
            ),
            models.CheckConstraint(
                condition=~Q(state="merged") | Q(merged_into__isnull=False), name="case_merged_has_target"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class Assist(models.TextChoices):
    LEAD = "lead", _("主办")
    ASSIST = "assist", _("协办")


class CaseAssignment(models.Model):
    """A unit working the case: the lead department, and co-handling ones (协办). Rows of earlier
    rounds stay with `active=False` so a department keeps seeing what it once worked on."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="case_assignments")
    role = models.CharField(max_length=8, choices=Assist.choices)
    active = models.BooleanField(default=True)
    assigned_at = models.DateTimeField()

    class Meta:
        verbose_name = _("承办单位")
        verbose_name_plural = _("承办单位")
        indexes: ClassVar = [models.Index(fields=["department", "active", "case"], name="case_assign_dept")]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["case", "department"], condition=Q(active=True), name="case_assign_once_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.department} · {self.get_role_display()}"


class CaseEvent(models.Model):
    """Append-only timeline: one row per action, written in the action's transaction."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="case_events")
    actor_label = models.CharField(max_length=150, blank=True)
    # The unit acting (centre or department name): what the public timeline shows instead of a person.
    unit_label = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)
    public_note = models.CharField(max_length=500, blank=True)
    is_public = models.BooleanField(default=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("案卷流转记录")
        verbose_name_plural = _("案卷流转记录")
        ordering: ClassVar = ["at", "id"]
        indexes: ClassVar = [models.Index(fields=["case", "at"], name="case_event_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("case events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("case events are append-only")


class PhotoKind(models.TextChoices):
    REPORT = "report", _("现场照片")
    RESULT = "result", _("处置照片")
    PROOF = "proof", _("化解佐证")


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=8, choices=PhotoKind.choices)
    image = models.FileField(upload_to="cases/%Y/%m/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("案卷照片")
        verbose_name_plural = _("案卷照片")
        ordering: ClassVar = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.pk}"


class CaseCounter(models.Model):
    """Per district and day sequence behind human-readable case numbers (330109-20261122-000123)."""

    key = models.CharField(max_length=24, primary_key=True)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("编号计数器")


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("新派遣")
    NEARING = "nearing", _("临近时限")
    OVERDUE = "overdue", _("已超时")
    RETURNED = "returned", _("被退回")
    REOPENED = "reopened", _("重新办理")
    MERGED = "merged", _("已合并")
    SUPERVISED = "supervised", _("督办")
    TO_REVIEW = "to_review", _("待审核")


class Notification(models.Model):
    """The in-app inbox. Other channels (SMS, DingTalk) are adapters fed the same message."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["user", "read_at", "created_at"], name="notif_user_unread")]

    def __str__(self) -> str:
        return self.title


class ConfigVersion(models.Model):
    """Version tokens of the configuration that processes cache (gridgov.cases.config).

    Database triggers (installed after every `migrate`, config.install_triggers) replace a row's
    token whenever its tables change — through the services, the admin, a bulk `update()`, a
    loader or plain SQL — so a cached copy is never used after an edit. Random tokens rather
    than counters, as `RegionVersion` does: a rolled-back edit can never leave two different
    states under one value. A missing row means "unknown": the caches reload every time.
    """

    name = models.CharField(max_length=16, primary_key=True)
    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("配置版本")
        verbose_name_plural = _("配置版本")

    def __str__(self) -> str:
        return f"{self.name} {self.token}"
