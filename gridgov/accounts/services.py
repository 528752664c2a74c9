"""Writes for accounts: users, departments, team memberships. Admin only, inside the admin's
own jurisdiction; every change is audited in the same transaction."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from gridgov.common.audit import audit_record
from gridgov.common.errors import Conflict, PermissionRefused, ValidationFailed
from gridgov.regions.models import Level, Region

from .models import DEPARTMENT_ROLES, Department, DepartmentKind, Duty, Role, TeamMembership, User
from .scope import Scope

# Which levels a role's jurisdiction may sit at.
ROLE_LEVELS: dict[str, set[str]] = {
    Role.GRID_WORKER: {Level.GRID},
    Role.MICROGRID_WORKER: {Level.MICROGRID},
    Role.GRID_LEADER: {Level.GRID},
    Role.DEPARTMENT_LIAISON: {Level.GRID, Level.COMMUNITY, Level.STREET},
    Role.CENTER_OPERATOR: {Level.DISTRICT, Level.STREET, Level.COMMUNITY},
    Role.MEDIATOR: {Level.DISTRICT, Level.STREET, Level.COMMUNITY},
    Role.LEADER: {Level.DISTRICT, Level.STREET, Level.COMMUNITY},
    Role.ADMIN: {Level.DISTRICT, Level.STREET},
}


def _check_admin(actor: User) -> Scope:
    if not actor.is_admin_role:
        raise PermissionRefused("只有系统管理员可以管理用户和部门", rule="accounts.admin_only")
    return Scope.for_user(actor)


def _validate_placement(
    scope: Scope, role: str, jurisdiction: Region | None, department: Department | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = [f"未知角色 {role!r}"]
        return errors
    if role in DEPARTMENT_ROLES:
        if department is None:
            errors["department"] = ["处置部门人员必须属于一个部门"]
        elif not scope.covers(department.region.path):
            errors["department"] = ["该部门不在您的辖区内"]
    else:
        if jurisdiction is None:
            errors["jurisdiction"] = ["请选择辖区"]
        else:
            if not scope.covers(jurisdiction.path):
                errors["jurisdiction"] = ["该辖区不在您的管理范围内"]
            elif jurisdiction.level not in ROLE_LEVELS[role]:
                allowed = "、".join(str(Level(level).label) for level in sorted(ROLE_LEVELS[role]))
                errors["jurisdiction"] = [f"{Role(role).label}的辖区应为：{allowed}"]
    return errors


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    jurisdiction: Region | None = None,
    department: Department | None = None,
    phone: str = "",
) -> User:
    scope = _check_admin(actor)
    errors = _validate_placement(scope, role, jurisdiction, department)
    username = username.strip()
    if not username:
        errors.setdefault("username", []).append("用户名不能为空")
    elif User.objects.filter(username=username).exists():
        errors.setdefault("username", []).append("用户名已被使用")
    candidate = User(username=username, display_name=display_name, role=role)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        errors.setdefault("password", []).extend(exc.messages)
    if errors:
        raise ValidationFailed("用户信息有误", errors=errors)
    user = User(
        username=username,
        display_name=display_name.strip(),
        role=role,
        jurisdiction=None if role in DEPARTMENT_ROLES else jurisdiction,
        department=department,
        phone=phone.strip(),
    )
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict("用户名已被使用", field="username") from exc
    audit_record(
        actor=actor,
        action="accounts.user_created",
        target=user,
        detail={
            "role": role,
            "jurisdiction": jurisdiction.code if jurisdiction else None,
            "department": department.code if department else None,
        },
        region_path=(jurisdiction.path if jurisdiction else department.region.path if department else ""),
    )
    return user


@transaction.atomic
def user_change_role(
    *, actor: User, user: User, role: str, jurisdiction: Region | None, department: Department | None
) -> User:
    scope = _check_admin(actor)
    target = User.objects.select_for_update().get(pk=user.pk)
    current = (
        target.jurisdiction.path
        if target.jurisdiction
        else target.department.region.path
        if target.department
        else None
    )
    if not scope.covers(current):
        raise PermissionRefused("该用户不在您的辖区内", rule="scope.jurisdiction")
    errors = _validate_placement(scope, role, jurisdiction, department)
    if errors:
        raise ValidationFailed("用户信息有误", errors=errors)
    before = {"role": target.role, "jurisdiction_id": target.jurisdiction_id, "department_id": target.department_id}
    target.role = role
    target.jurisdiction = None if role in DEPARTMENT_ROLES else jurisdiction
    target.department = department
    target.save(update_fields=["role", "jurisdiction", "department"])
    audit_record(
        actor=actor,
        action="accounts.permission_changed",
        target=target,
        detail={
            "before": before,
            "after": {"role": role, "jurisdiction_id": target.jurisdiction_id, "department_id": target.department_id},
        },
    )
    return target


@transaction.atomic
def user_set_active(*, actor: User, user: User, active: bool) -> User:
    scope = _check_admin(actor)
    if user.pk == actor.pk and not active:
        raise ValidationFailed("不能停用自己的账号", field="is_active")
    place = user.jurisdiction.path if user.jurisdiction else user.department.region.path if user.department else None
    if not scope.covers(place):
        raise PermissionRefused("该用户不在您的辖区内", rule="scope.jurisdiction")
    User.objects.filter(pk=user.pk).update(is_active=active)
    user.refresh_from_db()
    audit_record(actor=actor, action="accounts.user_activated" if active else "accounts.user_deactivated", target=user)
    return user


@transaction.atomic
def user_change_password(*, user: User, old_password: str, new_password: str) -> User:
    if not user.check_password(old_password):
        raise ValidationFailed("原密码不正确", field="old_password")
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed("新密码不符合要求", errors={"new_password": list(exc.messages)}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(actor=user, action="auth.password_changed", target=user)
    return user


@transaction.atomic
def department_create(*, actor: User, code: str, name: str, kind: str, region: Region, phone: str = "") -> Department:
    scope = _check_admin(actor)
    errors: dict[str, list[str]] = {}
    code = code.strip()
    if not code:
        errors["code"] = ["编码不能为空"]
    elif Department.objects.filter(code=code).exists():
        errors["code"] = ["编码已存在"]
    if not name.strip():
        errors["name"] = ["名称不能为空"]
    if kind not in DepartmentKind.values:
        errors["kind"] = [f"未知部门类别 {kind!r}"]
    if not scope.covers(region.path):
        errors["region"] = ["服务辖区不在您的管理范围内"]
    elif region.level not in (Level.DISTRICT, Level.STREET):
        errors["region"] = ["部门服务辖区应为区县或街道/镇"]
    if errors:
        raise ValidationFailed("部门信息有误", errors=errors)
    department = Department.objects.create(code=code, name=name.strip(), kind=kind, region=region, phone=phone.strip())
    audit_record(actor=actor, action="accounts.department_created", target=department, region_path=region.path)
    return department


@transaction.atomic
def team_member_add(*, actor: User, region: Region, user: User, duty: str) -> TeamMembership:
    scope = _check_admin(actor)
    if not scope.covers(region.path):
        raise PermissionRefused("该网格不在您的辖区内", rule="scope.jurisdiction")
    if duty not in Duty.values:
        raise ValidationFailed(f"未知职责 {duty!r}", field="duty")
    expected = Level.MICROGRID if duty == Duty.MICROGRID_WORKER else Level.GRID
    if region.level != expected:
        raise ValidationFailed(f"{Duty(duty).label}只能加入{Level(expected).label}", field="region")
    membership, created = TeamMembership.objects.get_or_create(region=region, user=user, defaults={"duty": duty})
    if not created:
        raise Conflict("该用户已在此团队中", field="user")
    audit_record(actor=actor, action="accounts.team_member_added", target=membership, region_path=region.path)
    return membership
