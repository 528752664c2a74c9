"""Users, roles, departments and grid teams.

Every user acts inside a jurisdiction: a node of the region tree, or — for department handlers —
the area of their department's mandate. `Scope.for_user` turns that into the filter every
selector applies.
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.regions.models import Region


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员")
    MICROGRID_WORKER = "microgrid_worker", _("微网格员")
    GRID_LEADER = "grid_leader", _("网格长")
    DEPARTMENT_LIAISON = "department_liaison", _("部门联管员")
    CENTER_OPERATOR = "center_operator", _("综治中心坐席")
    DEPARTMENT_HANDLER = "department_handler", _("处置部门人员")
    MEDIATOR = "mediator", _("调解员")
    LEADER = "leader", _("领导")
    ADMIN = "admin", _("系统管理员")


# Roles whose jurisdiction comes from their department rather than a region node of their own.
DEPARTMENT_ROLES = {Role.DEPARTMENT_HANDLER}


class DepartmentKind(models.TextChoices):
    POLICE = "police", _("公安")
    URBAN_MANAGEMENT = "urban_management", _("城管")
    MUNICIPAL = "municipal", _("市政")
    HOUSING = "housing", _("住建")
    FIRE = "fire", _("消防")
    MARKET = "market", _("市场监管")
    EMERGENCY = "emergency", _("应急管理")
    ENVIRONMENT = "environment", _("生态环境")
    TRANSPORT = "transport", _("交通运输")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    JUSTICE = "justice", _("司法")
    HEALTH = "health", _("卫生健康")
    EDUCATION = "education", _("教育")
    WATER = "water", _("水利")
    HUMAN_RESOURCES = "human_resources", _("人力社保")
    PETITION = "petition", _("信访")
    OTHER = "other", _("其他")


class Department(models.Model):
    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=32, choices=DepartmentKind.choices)
    # The node whose subtree the department serves (a district bureau: the district; a town's
    # squadron: that town).
    region = models.ForeignKey(Region, verbose_name=_("服务辖区"), on_delete=models.PROTECT, related_name="departments")
    phone = models.CharField(_("值班电话"), max_length=32, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, default=Role.GRID_WORKER)
    jurisdiction = models.ForeignKey(
        Region, verbose_name=_("辖区"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints: ClassVar = [
            # Every account acts somewhere: a region node, or a department for handlers.
            models.CheckConstraint(
                condition=Q(role="department_handler", department__isnull=False)
                | ~Q(role="department_handler") & Q(jurisdiction__isnull=False)
                | Q(is_superuser=True),
                name="user_has_jurisdiction",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def label(self) -> str:
        return self.display_name or self.username


class Duty(models.TextChoices):
    GRID_LEADER = "grid_leader", _("网格长")
    FULL_TIME = "full_time", _("专职网格员")
    PART_TIME = "part_time", _("兼职网格员")
    DEPARTMENT_LIAISON = "department_liaison", _("部门联管员")
    MICROGRID_WORKER = "microgrid_worker", _("微网格员")


class TeamMembership(models.Model):
    """A member of a grid team ("1+3+N": leader, full- and part-time workers, liaisons) or the
    volunteer of a micro-grid."""

    region = models.ForeignKey(Region, verbose_name=_("网格"), on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(User, verbose_name=_("成员"), on_delete=models.CASCADE, related_name="memberships")
    duty = models.CharField(_("职责"), max_length=32, choices=Duty.choices)
    since = models.DateField(_("起始日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("网格团队成员")
        verbose_name_plural = _("网格团队成员")
        constraints: ClassVar = [models.UniqueConstraint(fields=["region", "user"], name="team_member_once")]
        ordering: ClassVar = ["region", "duty", "user"]

    def __str__(self) -> str:
        return f"{self.region} · {self.get_duty_display()} · {self.user}"


# --- authentication hardening -------------------------------------------------------------------


class ThrottleKind(models.TextChoices):
    USERNAME = "username", _("用户名")
    IP = "ip", _("IP 地址")


class LoginThrottle(models.Model):
    """Failed-login counter for one username or one client address, kept in the database so every
    server worker process sees the same count (等保 2.0: 登录失败处理, lock after repeated failures).

    A row counts failures inside a sliding window that starts at the first failure; reaching the
    limit sets `locked_until`. Usernames are stored case-folded and whether or not an account by
    that name exists, so a lock-out never tells an attacker which names are real."""

    kind = models.CharField(_("类型"), max_length=16, choices=ThrottleKind.choices)
    key = models.CharField(_("用户名或地址"), max_length=150)
    failures = models.PositiveIntegerField(_("失败次数"), default=0)
    window_started_at = models.DateTimeField(_("计数开始"))
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("登录失败计数")
        verbose_name_plural = _("登录失败计数")
        constraints: ClassVar = [models.UniqueConstraint(fields=["kind", "key"], name="login_throttle_once")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key} ×{self.failures}"


class TOTPDevice(models.Model):
    """A user's authenticator app (RFC 6238 TOTP, 6 digits, 30 s). The shared secret is encrypted
    at rest with a key derived from SECRET_KEY; `last_used_step` refuses a code twice."""

    user = models.OneToOneField(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="totp_device")
    secret_sealed = models.TextField(_("密钥（加密）"))
    confirmed_at = models.DateTimeField(_("启用时间"), null=True, blank=True)
    last_used_step = models.BigIntegerField(_("最近使用的时间步"), default=0)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("双因素认证设备")
        verbose_name_plural = _("双因素认证设备")

    def __str__(self) -> str:
        return f"TOTP · {self.user}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """One-time codes for a lost phone. Only a salted SHA-256 is stored; the codes carry 80 bits of
    randomness, so a leaked hash cannot be brute-forced in any useful time."""

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="recovery_codes")
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("恢复码")
        verbose_name_plural = _("恢复码")

    def __str__(self) -> str:
        return f"recovery code #{self.pk} · {self.user}"


class APIToken(models.Model):
    """A bearer token for a machine client, acting as its owner (owner's role and jurisdiction).
    Only the SHA-256 of the token is stored — the token itself is shown once, at creation; the
    prefix identifies it in lists and logs."""

    user = models.ForeignKey(User, verbose_name=_("所属用户"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"))
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("最近使用地址"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, verbose_name=_("吊销人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
