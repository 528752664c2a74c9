"""Default Open311 service attributes (GeoReport v2 service definitions) for the categories whose
handling needs a detail the description rarely carries. Administrators edit them in the admin;
the installer only adds rows that are missing."""

from __future__ import annotations

from typing import Any

# category code → [(code, description, datatype, required, order, values [(key, name)])]
ATTRIBUTES: dict[str, list[tuple[str, str, str, bool, int, list[tuple[str, str]]]]] = {
    "0301": [("plate", "占用车辆的车牌号（如能看清）", "string", False, 1, [])],
    "0602": [("plate", "违停车辆的车牌号（如能看清）", "string", False, 1, [])],
    "0701": [
        (
            "period",
            "噪声出现的时段",
            "singlevaluelist",
            True,
            1,
            [("day", "白天（6–22 时）"), ("night", "夜间（22–6 时）"), ("all_day", "全天")],
        ),
        (
            "source",
            "噪声来源",
            "singlevaluelist",
            False,
            2,
            [
                ("construction", "施工"),
                ("business", "商业经营"),
                ("traffic", "交通"),
                ("residential", "居民生活"),
                ("other", "其他"),
            ],
        ),
    ],
    "0704": [("site", "工地或项目名称（如知道）", "string", False, 1, [])],
    "0802": [
        (
            "hazard",
            "井盖情况",
            "singlevaluelist",
            True,
            1,
            [("missing", "缺失"), ("broken", "破损"), ("loose", "松动或异响")],
        ),
    ],
    "0803": [("pole_no", "路灯杆编号（灯杆上的铭牌）", "string", False, 1, [])],
}


def install(apps: Any = None) -> int:
    if apps is None:
        from django.apps import apps as django_apps

        apps = django_apps
    category_model = apps.get_model("cases", "CaseCategory")
    attribute_model = apps.get_model("integrations", "ServiceAttribute")
    added = 0
    for code, rows in ATTRIBUTES.items():
        category = category_model.objects.filter(code=code).first()
        if category is None:
            continue
        for attr_code, description, datatype, required, order, values in rows:
            _, created = attribute_model.objects.get_or_create(
                category=category,
                code=attr_code,
                defaults={
                    "description": description,
                    "datatype": datatype,
                    "required": required,
                    "order": order,
                    "values": [{"key": k, "name": n} for k, n in values],
                },
            )
            added += int(created)
    return added
