"""Monthly assessment (考核) of villages/communities and towns, and of grid workers.

A `Scheme` (考核方案) holds the indicator library and the list thresholds. Computing a month
writes `Assessment` → `RegionScore` → `IndicatorScore` rows (and `WorkerScore`); each indicator
score keeps the ids of exactly the records it counted, so it explains itself. Publishing freezes
the month: the rows carry copies of every definition they were scored with (name, weight, rule,
thresholds), and the services refuse any change to a published month, so later edits to cases,
visits or the scheme never alter a published result.

Process indicators (过程指标) are self-assessed by towns for their villages with evidence, then
reviewed by the district (`ProcessEntry`, `ProcessEvidence`).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.regions.models import Region


class Group(models.TextChoices):
    OUTCOME = "outcome", _("结果指标")
    PROCESS = "process", _("过程指标")


class Direction(models.TextChoices):
    HIGHER = "higher", _("越高越好")
    LOWER = "lower", _("越低越好")


class Normalise(models.TextChoices):
    NONE = "none", _("不折算")
    PER_1000_HOUSEHOLDS = "per_1000_households", _("每千户")


class Scheme(models.Model):
    """考核方案: the indicator library of one district and how lists are drawn."""

    region = models.ForeignKey(Region, verbose_name=_("考核区域"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("方案名称"), max_length=100)
    is_active = models.BooleanField(_("启用"), default=True)
    # 红黄黑榜 thresholds on the 100-point total. Red: the best (score ≥ red_min_score, at most
    # red_top_n entries when set); black: below black_below; yellow: below yellow_below.
    red_min_score = models.FloatField(_("红榜最低分"), default=90.0)
    red_top_n = models.PositiveSmallIntegerField(_("红榜名额（0 为不限）"), default=10)
    yellow_below = models.FloatField(_("黄榜分数线（低于）"), default=75.0)
    black_below = models.FloatField(_("黑榜分数线（低于）"), default=60.0)
    # A region enters the ranking only when indicators carrying at least this share of the total
    # weight have enough sample to be scored (the rest score neutral).
    min_scored_share = models.FloatField(_("参与排名的最低计分权重占比"), default=0.6)
    # Grid workers: reports + visits per month that earn the full workload marks.
    worker_workload_target = models.PositiveSmallIntegerField(_("网格员月工作量满分标准（件次）"), default=20)
    worker_min_cases = models.PositiveSmallIntegerField(_("网格员质量指标最低样本（件）"), default=3)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        ordering: ClassVar = ["region__path", "-is_active", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["region"], condition=Q(is_active=True), name="scheme_one_active"),
            models.CheckConstraint(
                condition=Q(black_below__lte=models.F("yellow_below"), yellow_below__lte=models.F("red_min_score")),
                name="scheme_thresholds_ordered",
            ),
            models.CheckConstraint(
                condition=Q(min_scored_share__gte=0, min_scored_share__lte=1), name="scheme_share_0_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def rules(self) -> dict[str, float | int]:
        return {
            "red_min_score": self.red_min_score,
            "red_top_n": self.red_top_n,
            "yellow_below": self.yellow_below,
            "black_below": self.black_below,
            "min_scored_share": self.min_scored_share,
            "worker_workload_target": self.worker_workload_target,
            "worker_min_cases": self.worker_min_cases,
        }


class Indicator(models.Model):
    """One line of the scheme. Outcome indicators are computed by the registered function named
    by `compute_key` (indicators.py); process indicators come from reviewed self-assessments.

    Scoring rule (满分规则): linear between `zero_at` (0 marks) and `full_at` (full marks = weight),
    clamped, so "higher is better" has full_at > zero_at and "lower is better" the reverse. Below
    `min_sample` records the indicator scores neutral: it gets the average score of the peers that
    could be scored on it, and the region is ranked only when indicators carrying at least the
    scheme's `min_scored_share` of the weight were really measured."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("考核方案"), on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(_("编号"), max_length=16)
    name = models.CharField(_("指标名称"), max_length=60)
    group = models.CharField(_("类别"), max_length=8, choices=Group.choices)
    compute_key = models.CharField(_("计算口径"), max_length=48, blank=True)
    params = models.JSONField(_("口径参数"), default=dict, blank=True)
    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    normalise = models.CharField(_("折算"), max_length=24, choices=Normalise.choices, default=Normalise.NONE)
    weight = models.FloatField(_("权重（满分）"))
    full_at = models.FloatField(_("满分值"))
    zero_at = models.FloatField(_("零分值"))
    min_sample = models.PositiveIntegerField(_("最低样本量"), default=0)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering: ClassVar = ["scheme", "group", "sort", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["scheme", "code"], name="indicator_code_once"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="indicator_weight_positive"),
            models.CheckConstraint(condition=~Q(full_at=models.F("zero_at")), name="indicator_rule_span"),
            models.CheckConstraint(
                condition=Q(direction="higher", full_at__gt=models.F("zero_at"))
                | Q(direction="lower", full_at__lt=models.F("zero_at")),
                name="indicator_rule_matches_direction",
            ),
            models.CheckConstraint(condition=Q(group="process") | ~Q(compute_key=""), name="indicator_outcome_has_key"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Status(models.TextChoices):
    DRAFT = "draft", _("试算")
    PUBLISHED = "published", _("已发布")


class Assessment(models.Model):
    """One month of one scheme. `as_of` is the instant deadlines were judged at: the computation
    never reads the wall clock, so recomputing a draft with the same data gives the same numbers."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("考核方案"), on_delete=models.PROTECT, related_name="assessments")
    region = models.ForeignKey(Region, verbose_name=_("考核区域"), on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("考核月份"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    as_of = models.DateTimeField(_("数据截止"))
    rules = models.JSONField(_("榜单规则快照"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"))
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A digest of every number written: two computations with equal digests gave equal results.
    digest = models.CharField(_("结果摘要"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("月度考核")
        verbose_name_plural = _("月度考核")
        ordering: ClassVar = ["-month", "region__path"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["scheme", "month"], name="assessment_month_once"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="assessment_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme} {self.month:%Y-%m}"

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED


class ListColour(models.TextChoices):
    RED = "red", _("红榜")
    YELLOW = "yellow", _("黄榜")
    BLACK = "black", _("黑榜")


class RegionScore(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="region_scores")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=160)
    region_name = models.CharField(max_length=100)
    level = models.CharField(max_length=16)
    parent_name = models.CharField(max_length=100, blank=True)
    total = models.FloatField(_("综合得分"), null=True)
    outcome_score = models.FloatField(default=0)
    process_score = models.FloatField(default=0)
    scored_weight = models.FloatField(default=0)
    full_weight = models.FloatField(default=0)
    ranked = models.BooleanField(default=False)
    rank = models.PositiveIntegerField(null=True)
    rank_of = models.PositiveIntegerField(default=0)
    list_colour = models.CharField(max_length=8, choices=ListColour.choices, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("区域得分")
        verbose_name_plural = _("区域得分")
        ordering: ClassVar = ["assessment", "level", "rank", "region_path"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["assessment", "region"], name="region_score_once"),
        ]
        indexes: ClassVar = [models.Index(fields=["assessment", "level", "region_path"], name="rscore_level_path")]

    def __str__(self) -> str:
        return f"{self.region_name} {self.total}"


class IndicatorScore(models.Model):
    region_score = models.ForeignKey(RegionScore, on_delete=models.CASCADE, related_name="indicator_scores")
    indicator_code = models.CharField(max_length=16)
    indicator_name = models.CharField(max_length=60)
    group = models.CharField(max_length=8, choices=Group.choices)
    compute_key = models.CharField(max_length=48, blank=True)
    unit = models.CharField(max_length=12, blank=True)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    weight = models.FloatField()
    full_at = models.FloatField()
    zero_at = models.FloatField()
    min_sample = models.PositiveIntegerField(default=0)
    value = models.FloatField(null=True)
    numerator = models.FloatField(default=0)
    denominator = models.FloatField(default=0)
    sample = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=0)
    neutral = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True)
    # The records counted: {"model": "cases.case", "ids": [...], "numerator_ids": [...]}.
    records = models.JSONField(default=dict, blank=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("指标得分")
        verbose_name_plural = _("指标得分")
        ordering: ClassVar = ["region_score", "group", "sort", "indicator_code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["region_score", "indicator_code"], name="indicator_score_once"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_code} {self.score}"


class WorkerScore(models.Model):
    """Grid-worker score of the month: workload (reports, visits) and quality (on-time
    completion, satisfaction and rework of the cases in the worker's grid)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="worker_scores")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    user_label = models.CharField(max_length=150)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=160)
    region_name = models.CharField(max_length=100)
    reports = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    cases = models.PositiveIntegerField(default=0)
    on_time_rate = models.FloatField(null=True)
    satisfaction_rate = models.FloatField(null=True)
    rework_rate = models.FloatField(null=True)
    workload_score = models.FloatField(default=0)
    quality_score = models.FloatField(default=0)
    total = models.FloatField(null=True)
    ranked = models.BooleanField(default=False)
    rank = models.PositiveIntegerField(null=True)
    records = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("网格员得分")
        verbose_name_plural = _("网格员得分")
        ordering: ClassVar = ["assessment", "rank", "region_path"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["assessment", "user"], name="worker_score_once"),
        ]
        indexes: ClassVar = [models.Index(fields=["assessment", "region_path"], name="wscore_path")]

    def __str__(self) -> str:
        return f"{self.user_label} {self.total}"


class EntryState(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("已审核")
    RETURNED = "returned", _("已退回")


class ProcessEntry(models.Model):
    """A town's self-assessment of one process indicator for one village and month (自评), with
    evidence; the district reviews it (审核) and may adjust the score."""

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="entries")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=160, db_index=True)
    month = models.DateField(_("考核月份"))
    self_value = models.FloatField(_("自评完成度（%）"))
    evidence = models.TextField(_("佐证说明"))
    state = models.CharField(max_length=12, choices=EntryState.choices, default=EntryState.SUBMITTED)
    reviewed_value = models.FloatField(_("审核完成度（%）"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("过程指标自评")
        verbose_name_plural = _("过程指标自评")
        ordering: ClassVar = ["-month", "region_path", "indicator__sort"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["indicator", "region", "month"], name="process_entry_once"),
            models.CheckConstraint(condition=Q(self_value__gte=0, self_value__lte=100), name="process_self_0_100"),
            models.CheckConstraint(
                condition=Q(reviewed_value__isnull=True) | Q(reviewed_value__gte=0, reviewed_value__lte=100),
                name="process_reviewed_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.indicator_id} {self.month:%Y-%m}"


class ProcessEvidence(models.Model):
    entry = models.ForeignKey(ProcessEntry, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="assessment/%Y/%m/", max_length=200)
    name = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering: ClassVar = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name
