"""TOTP two-factor authentication (RFC 6238) with one-time recovery codes.

Required for admins and leaders when GRIDGOV["REQUIRE_2FA"] is on (the default): they are sent to
set it up before they can use anything else. Any user may enable it. The secret is sealed with a
key derived from SECRET_KEY (and SECRET_KEY_FALLBACKS, so a key rotation keeps devices working).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from gridgov.common import clock
from gridgov.common.audit import audit_record
from gridgov.common.errors import NotFound, PermissionRefused, ValidationFailed

from .models import RecoveryCode, Role, TOTPDevice, User
from .scope import Scope

ISSUER = "gridgov"
ROLES_REQUIRING_2FA = {Role.ADMIN, Role.LEADER}
RECOVERY_CODE_COUNT = 10
# 16 characters of a 32-letter alphabet: 80 bits per code.
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# Accept the previous and next 30-second step: phones drift and people type slowly.
VALID_WINDOW = 1


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"gridgov.totp:{k}".encode()).digest())) for k in keys]
    )


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise ValidationFailed("双因素认证密钥无法解密，请联系系统管理员重置", rule="2fa.sealed") from exc


def requires_2fa(user: User) -> bool:
    return bool(settings.GRIDGOV.get("REQUIRE_2FA", True)) and user.role in ROLES_REQUIRING_2FA


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code, rendered here (no network, no script)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False, svgns=True, dark="#1d2b3a")
    return out.getvalue().decode()


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).upper()


def _hash_recovery(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{_normalise_code(code)}".encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    now = clock.now()
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    rows = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        salt = secrets.token_hex(8)
        codes.append(code)
        rows.append(RecoveryCode(user=user, salt=salt, code_hash=_hash_recovery(code, salt), created_at=now))
    RecoveryCode.objects.bulk_create(rows)
    return codes


@dataclass(frozen=True)
class PendingSetup:
    secret: str
    uri: str


@transaction.atomic
def totp_setup_begin(*, user: User) -> PendingSetup:
    """Start (or restart) enrolment: a fresh secret on an unconfirmed device. A confirmed device
    is replaced only through `totp_setup_confirm`, so an abandoned setup never locks anyone out."""
    existing = TOTPDevice.objects.select_for_update().filter(user=user).first()
    if existing is not None and existing.is_confirmed:
        raise ValidationFailed("双因素认证已启用；如需更换手机，请先停用再重新设置", rule="2fa.already_enabled")
    secret = pyotp.random_base32()
    if existing is None:
        TOTPDevice.objects.create(user=user, secret_sealed=seal(secret), created_at=clock.now())
    else:
        existing.secret_sealed = seal(secret)
        existing.last_used_step = 0
        existing.save(update_fields=["secret_sealed", "last_used_step"])
    return PendingSetup(secret=secret, uri=provisioning_uri(user, secret))


def pending_setup(*, user: User) -> PendingSetup | None:
    device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    if device is None:
        return None
    secret = unseal(device.secret_sealed)
    return PendingSetup(secret=secret, uri=provisioning_uri(user, secret))


def _match_step(secret: str, code: str, last_step: int) -> int | None:
    """The time step the code belongs to, if it is valid and newer than the last one used."""
    code = _normalise_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(clock.now().timestamp()) // totp.interval
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if step > last_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_setup_confirm(*, user: User, code: str, request: HttpRequest | None = None) -> list[str]:
    """Confirm enrolment with a first code from the app; returns the new recovery codes (shown once)."""
    codes = _setup_confirm(user, code, request)
    if codes is None:
        # Audited outside the refused transaction, so the failed attempt stays on record.
        audit_record(actor=user, action="auth.2fa_setup_failed", target=user, request=request, region_path=_place(user))
        raise ValidationFailed("验证码不正确，请核对手机时间后重试", field="code")
    return codes


@transaction.atomic
def _setup_confirm(user: User, code: str, request: HttpRequest | None) -> list[str] | None:
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=True).first()
    if device is None:
        raise NotFound("没有待确认的双因素认证设置，请重新开始", rule="2fa.no_pending")
    step = _match_step(unseal(device.secret_sealed), code, device.last_used_step)
    if step is None:
        return None
    device.confirmed_at = clock.now()
    device.last_used_step = step
    device.save(update_fields=["confirmed_at", "last_used_step"])
    codes = _new_recovery_codes(user)
    audit_record(actor=user, action="auth.2fa_enabled", target=user, request=request, region_path=_place(user))
    return codes


def _place(user: User) -> str:
    if user.jurisdiction_id and user.jurisdiction is not None:
        return user.jurisdiction.path
    if user.department_id and user.department is not None:
        return user.department.region.path
    return ""


@transaction.atomic
def totp_verify(*, user: User, code: str, request: HttpRequest | None = None) -> str | None:
    """Check a login's second factor: a current TOTP code, or an unused recovery code.
    Returns "totp" or "recovery" on success, None on failure (the caller counts the failure)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return None
    step = _match_step(unseal(device.secret_sealed), code, device.last_used_step)
    if step is not None:
        device.last_used_step = step
        device.save(update_fields=["last_used_step"])
        return "totp"
    normalised = _normalise_code(code)
    if len(normalised) == 16:
        for row in RecoveryCode.objects.select_for_update().filter(user=user, used_at__isnull=True):
            if hmac.compare_digest(row.code_hash, _hash_recovery(normalised, row.salt)):
                row.used_at = clock.now()
                row.save(update_fields=["used_at"])
                left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
                audit_record(
                    actor=user, action="auth.2fa_recovery_used", target=user, request=request, detail={"left": left}
                )
                return "recovery"
    audit_record(actor=user, action="auth.2fa_failed", target=user, request=request, region_path=_place(user))
    return None


@transaction.atomic
def recovery_codes_regenerate(*, user: User, code: str, request: HttpRequest | None = None) -> list[str]:
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        raise ValidationFailed("尚未启用双因素认证", rule="2fa.not_enabled")
    step = _match_step(unseal(device.secret_sealed), code, device.last_used_step)
    if step is None:
        raise ValidationFailed("验证码不正确", field="code")
    device.last_used_step = step
    device.save(update_fields=["last_used_step"])
    codes = _new_recovery_codes(user)
    audit_record(actor=user, action="auth.2fa_recovery_regenerated", target=user, request=request)
    return codes


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def totp_disable(*, actor: User, user: User, code: str = "", request: HttpRequest | None = None) -> None:
    """Turn 2FA off: by the user (with a current code), or by an admin for an account in their
    jurisdiction (a lost phone). Roles that must have 2FA will be asked to set it up again."""
    if actor.pk == user.pk:
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
        if device is None:
            raise ValidationFailed("尚未启用双因素认证", rule="2fa.not_enabled")
        if _match_step(unseal(device.secret_sealed), code, device.last_used_step) is None:
            raise ValidationFailed("验证码不正确", field="code")
    else:
        if not actor.is_admin_role:
            raise PermissionRefused("只有系统管理员可以重置他人的双因素认证", rule="accounts.admin_only")
        if not Scope.for_user(actor).covers(_place(user)):
            raise PermissionRefused("该用户不在您的辖区内", rule="scope.jurisdiction")
        if not TOTPDevice.objects.filter(user=user).exists():
            raise ValidationFailed("该用户尚未设置双因素认证", rule="2fa.not_enabled")
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    audit_record(
        actor=actor,
        action="auth.2fa_disabled" if actor.pk == user.pk else "auth.2fa_reset",
        target=user,
        request=request,
        region_path=_place(user),
    )


@transaction.atomic
def totp_install_fixed(*, user: User, secret: str) -> TOTPDevice:
    """Demo data only: a confirmed device with a documented secret (see README)."""
    device, _ = TOTPDevice.objects.update_or_create(
        user=user,
        defaults={
            "secret_sealed": seal(secret),
            "confirmed_at": clock.now(),
            "last_used_step": 0,
            "created_at": clock.now(),
        },
    )
    return device
