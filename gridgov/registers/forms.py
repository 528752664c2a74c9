"""Forms for the register screens. They render and coerce types; the services validate (one set of
rules for forms, API and imports) and their field-level errors are put back on the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gridgov.regions.models import Region

from . import codes, groups
from .services.entities import ENTITIES


def _choices(table: Any, blank: str = "—") -> list[tuple[str, str]]:
    pairs = table if isinstance(table, list) else list(table.choices)
    return [("", blank), *[(str(c), f"{c} {label}") for c, label in pairs]]


def region_choices(regions: list[Region]) -> list[tuple[str, str]]:
    return [("", "—"), *[(r.code, f"{r.name}（{r.code}）") for r in regions]]


DATE = forms.DateInput(attrs={"type": "date"})


class MultiFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PersonForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    population_type = forms.ChoiceField(label=_("人口类别"), choices=codes.PopulationType.choices)
    doc_type = forms.ChoiceField(label=_("证件类型"), choices=_choices(codes.DocumentType)[1:], initial="111")
    id_number = forms.CharField(
        label=_("证件号码"), max_length=30, widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"})
    )
    gender = forms.ChoiceField(
        label=_("性别"), choices=_choices(codes.Gender), required=False, help_text=_("居民身份证可不填，由号码推出")
    )
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=DATE)
    ethnicity = forms.ChoiceField(label=_("民族"), choices=_choices(codes.ETHNICITIES)[1:], initial="01")
    phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    relation = forms.ChoiceField(label=_("与户主关系"), choices=_choices(codes.Relation), required=False)
    hukou_address = forms.CharField(label=_("户籍地详址"), max_length=120, required=False)
    occupation = forms.CharField(label=_("职业"), max_length=40, required=False)
    workplace = forms.CharField(label=_("服务处所"), max_length=80, required=False)
    hukou_consistency = forms.ChoiceField(
        label=_("人户一致标识（户籍人口）"), choices=_choices(codes.HukouConsistency), required=False
    )
    inflow_reason = forms.ChoiceField(
        label=_("流入原因（流动人口）"), choices=_choices(codes.InflowReason), required=False
    )
    permit_type = forms.ChoiceField(label=_("办证类型（流动人口）"), choices=_choices(codes.PermitType), required=False)
    residence_type = forms.ChoiceField(
        label=_("住所类型（流动人口）"), choices=_choices(codes.ResidenceType), required=False
    )
    nationality = forms.CharField(
        label=_("国籍（境外人员）"), max_length=3, required=False, help_text=_("三字母代码，如 USA、JPN、KOR")
    )
    foreign_name = forms.CharField(label=_("外文姓名（境外人员）"), max_length=80, required=False)
    visit_purpose = forms.ChoiceField(
        label=_("来华目的（境外人员）"), choices=_choices(codes.VisitPurpose), required=False
    )
    moved_in_on = forms.DateField(label=_("入住日期"), required=False, widget=DATE)
    is_key_focus = forms.BooleanField(label=_("重点关注"), required=False)
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["moved_in_on"]
            self.fields["id_number"].help_text = _("修改证件号码须在下方填写原因")
            self.fields["reason"] = forms.CharField(label=_("修改原因"), max_length=100, required=False)

    def data_for_service(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "reason" and v not in (None, "")} | {
            "is_key_focus": bool(self.cleaned_data.get("is_key_focus"))
        }


class MemberForm(PersonForm):
    """One member in the household form: the short list a door-to-door registration needs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("hukou_address", "workplace", "note", "moved_in_on", "is_key_focus", "permit_type"):
            del self.fields[name]
        self.fields["relation"].required = True
        self.empty_permitted = True
        self.use_required_attribute = False


MemberFormSet = forms.formset_factory(MemberForm, extra=0, min_num=1, validate_min=True, max_num=20)


class HouseholdForm(forms.Form):
    kind = forms.ChoiceField(label=_("户类别"), choices=[("resident", _("居住户")), ("registered", _("户籍户"))])
    number = forms.CharField(label=_("户号"), max_length=20, required=False, help_text=_("不填则自动编号"))


class MoveOutForm(forms.Form):
    moved_out_to = forms.CharField(label=_("迁往地"), max_length=120)
    moved_out_on = forms.DateField(label=_("迁出日期"), required=False, widget=DATE)
    reason = forms.CharField(label=_("说明"), max_length=300, required=False)


class CancelForm(forms.Form):
    cancel_reason = forms.ChoiceField(label=_("注销原因"), choices=codes.CancelReason.choices)
    on = forms.DateField(label=_("注销日期"), required=False, widget=DATE)
    reason = forms.CharField(label=_("说明"), max_length=300, required=False)


class ArchiveForm(forms.Form):
    reason = forms.CharField(label=_("归档说明"), max_length=300, required=False)


class MoveInForm(forms.Form):
    house_code = forms.CharField(label=_("房屋编码"), max_length=32, help_text=_("迁入房屋的编码（房屋详情页可见）"))
    relation = forms.ChoiceField(label=_("与户主关系"), choices=_choices(codes.Relation), required=False)
    moved_in_on = forms.DateField(label=_("迁入日期"), required=False, widget=DATE)


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("查看原因"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("如：上门核实身份、电话联系走访")}),
    )


class AddressForm(forms.Form):
    road = forms.CharField(label=_("街路巷"), max_length=60)
    number = forms.CharField(label=_("门牌号"), max_length=20)
    estate = forms.CharField(label=_("小区/单位名称"), max_length=80, required=False)
    region_code = forms.ChoiceField(
        label=_("所属微网格"), choices=[], required=False, help_text=_("不选则按经纬度自动落格")
    )
    lat = forms.FloatField(label=_("纬度"), required=False)
    lng = forms.FloatField(label=_("经度"), required=False)

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = region_choices(regions)  # type: ignore[attr-defined]


class BuildingForm(forms.Form):
    name = forms.CharField(label=_("楼栋名称"), max_length=40, help_text=_("如：3幢"))
    use = forms.ChoiceField(label=_("建筑用途"), choices=codes.BuildingUse.choices)
    floors = forms.IntegerField(label=_("层数"), min_value=1, max_value=200, initial=6)
    unit_count = forms.IntegerField(label=_("单元数"), min_value=1, max_value=30, initial=1)
    houses_per_floor = forms.IntegerField(
        label=_("每单元每层户数"), min_value=0, max_value=40, initial=2, help_text=_("大于0时自动生成房屋")
    )
    manager_name = forms.CharField(label=_("楼栋长"), max_length=30, required=False)


class HouseForm(forms.Form):
    unit_number = forms.IntegerField(label=_("单元号"), min_value=1, initial=1)
    floor = forms.IntegerField(label=_("楼层"), min_value=-5, max_value=200)
    number = forms.CharField(label=_("房号"), max_length=12)
    area = forms.DecimalField(label=_("建筑面积（平方米）"), required=False, max_digits=8, decimal_places=2)
    use = forms.ChoiceField(label=_("房屋用途"), choices=codes.BuildingUse.choices)
    is_rental = forms.BooleanField(label=_("出租房屋"), required=False)
    rental_use = forms.ChoiceField(label=_("出租用途"), choices=_choices(codes.RentalUse), required=False)
    rental_hazard = forms.ChoiceField(label=_("隐患类型"), choices=_choices(codes.RentalHazard), required=False)


class RentalForm(forms.Form):
    is_rental = forms.BooleanField(label=_("出租房屋"), required=False)
    rental_use = forms.ChoiceField(label=_("出租用途"), choices=_choices(codes.RentalUse), required=False)
    rental_hazard = forms.ChoiceField(label=_("隐患类型"), choices=_choices(codes.RentalHazard), required=False)


class GroupForm(forms.Form):
    attention_level = forms.ChoiceField(label=_("关注程度"), choices=_choices(codes.AttentionLevel)[1:])
    started_on = forms.DateField(label=_("列管日期"), required=False, widget=DATE)
    risk_code = forms.CharField(label=_("危险性评估代码"), required=False, max_length=2)
    risk_note = forms.CharField(label=_("评估说明"), required=False, max_length=300)
    helper_ids = forms.MultipleChoiceField(
        label=_("帮扶责任人"), required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    helper_note = forms.CharField(
        label=_("其他帮扶人员"), required=False, max_length=200, help_text=_("如民警、司法所人员、家属")
    )

    def __init__(
        self, *args: Any, kind: str, helpers: list[tuple[int, str]], fixed_kind: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.group_kind = kind
        self.fields["helper_ids"].choices = [(str(pk), label) for pk, label in helpers]  # type: ignore[attr-defined]
        if fixed_kind:
            del self.fields["started_on"]
        table = groups.RISK_TABLES.get(kind)
        if table is not None:
            self.fields["risk_code"] = forms.ChoiceField(label=_("危险性评估"), choices=_choices(table), required=False)
        else:
            del self.fields["risk_code"]
        for spec in groups.GROUP_FIELDS[kind]:
            name = f"d_{spec.name}"
            field: forms.Field
            if spec.kind == "code":
                field = forms.ChoiceField(choices=_choices(spec.choices), required=spec.required)
            elif spec.kind == "date":
                field = forms.DateField(required=spec.required, widget=DATE)
            elif spec.kind == "bool":
                field = forms.BooleanField(required=False)
            else:
                field = forms.CharField(max_length=spec.max_length, required=spec.required)
            field.label = spec.label
            self.fields[name] = field

    def details(self) -> dict[str, Any]:
        return {k[2:]: v for k, v in self.cleaned_data.items() if k.startswith("d_") and v not in (None, "")}


class EndGroupForm(forms.Form):
    reason = forms.CharField(label=_("解除原因"), max_length=200)
    ended_on = forms.DateField(label=_("解除日期"), required=False, widget=DATE)


class VisitForm(forms.Form):
    kind = forms.ChoiceField(label=_("走访类型"), choices=codes.VisitKind.choices)
    outcome = forms.ChoiceField(label=_("走访结果"), choices=codes.VisitOutcome.choices)
    visited_at = forms.DateTimeField(
        label=_("走访时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("不填为现在"),
    )
    findings = forms.CharField(label=_("走访情况"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
    lat = forms.FloatField(label=_("纬度"), required=False)
    lng = forms.FloatField(label=_("经度"), required=False)
    photos = forms.FileField(
        label=_("照片"),
        required=False,
        widget=MultiFileInput(attrs={"accept": "image/*"}),
        help_text=_("最多9张，可直接拍照"),
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("xlsx 文件"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))


class ExportForm(forms.Form):
    reveal = forms.BooleanField(label=_("导出完整证件号码和电话"), required=False)
    reason = forms.CharField(label=_("导出原因"), max_length=300, required=False)


class VisitRuleForm(forms.Form):
    kind = forms.ChoiceField(choices=codes.GroupKind.choices)
    attention_level = forms.ChoiceField(choices=codes.AttentionLevel.choices)
    interval_days = forms.IntegerField(min_value=1, max_value=366)


def entity_form_class(entity: str) -> type[forms.ModelForm]:  # type: ignore[type-arg]
    spec = ENTITIES[entity]
    fields = [f for f in spec.fields if f != "geometry"]
    types = {name: spec.model._meta.get_field(name).get_internal_type() for name in fields}  # type: ignore[union-attr]
    widgets: dict[str, Any] = {name: DATE for name, t in types.items() if t == "DateField"}
    widgets |= {name: forms.Textarea(attrs={"rows": 2}) for name, t in types.items() if t == "TextField"}
    return forms.modelform_factory(spec.model, fields=fields, widgets=widgets)


class PlacementForm(forms.Form):
    region_code = forms.ChoiceField(
        label=_("所属微网格"), choices=[], required=False, help_text=_("不选则按经纬度自动落格")
    )
    lat = forms.FloatField(label=_("纬度"), required=False)
    lng = forms.FloatField(label=_("经度"), required=False)

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = region_choices(regions)  # type: ignore[attr-defined]


class CaseLinkForm(forms.Form):
    number = forms.CharField(label=_("案卷编号"), max_length=32)
    note = forms.CharField(label=_("关联说明"), max_length=200, required=False)
