from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgov.common.audit import client_ip
from gridgov.regions.models import Region

from .models import Department, DepartmentKind, Role, ThrottleKind
from .throttle import login_lock


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("原密码"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        label=_("新密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("确认新密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的新密码不一致"))
        return data


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    display_name = forms.CharField(label=_("姓名"), max_length=50)
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    jurisdiction = forms.CharField(label=_("辖区代码"), required=False, help_text=_("区域代码，如 330109001001"))
    department = forms.ModelChoiceField(label=_("部门"), queryset=Department.objects.none(), required=False)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, departments: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments  # type: ignore[attr-defined]

    def clean_jurisdiction(self) -> Region | None:
        code = (self.cleaned_data.get("jurisdiction") or "").strip()
        if not code:
            return None
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise forms.ValidationError(_("区域代码不存在"))
        return region


class DepartmentCreateForm(forms.Form):
    code = forms.CharField(label=_("编码"), max_length=32)
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类别"), choices=DepartmentKind.choices)
    region = forms.CharField(label=_("服务辖区代码"), help_text=_("区县或街道/镇的代码"))
    phone = forms.CharField(label=_("值班电话"), max_length=32, required=False)

    def clean_region(self) -> Region:
        code = (self.cleaned_data.get("region") or "").strip()
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise forms.ValidationError(_("区域代码不存在"))
        return region


class ThrottledAuthenticationForm(AuthenticationForm):
    """The login form: refuses a locked username or address up front, with a clear message."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。"),
        "locked": _("登录失败次数过多，该账号已被临时锁定，请于 %(until)s 后再试，或联系系统管理员解锁。"),
        "ip_locked": _("来自您所在网络地址的登录失败次数过多，请于 %(until)s 后再试。"),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        lock = login_lock(username=username, ip=client_ip(self.request))
        if lock is not None:
            until = timezone.localtime(lock.until).strftime("%H:%M")
            code = "locked" if lock.kind == ThrottleKind.USERNAME else "ip_locked"
            raise forms.ValidationError(self.error_messages[code], code=code, params={"until": until})
        return super().clean()


class OTPForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "placeholder": "123456"}
        ),
        help_text=_("手机验证器中显示的 6 位数字；丢失手机时可输入一个恢复码"),
    )


class TOTPConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "placeholder": "123456"}
        ),
        help_text=_("在验证器中添加账户后显示的 6 位数字"),
    )


class APITokenCreateForm(forms.Form):
    name = forms.CharField(label=_("名称（用途）"), max_length=100)
    expires_in_days = forms.IntegerField(
        label=_("有效期（天）"),
        required=False,
        min_value=1,
        max_value=730,
        initial=90,
        help_text=_("留空表示长期有效（不建议）"),
    )
