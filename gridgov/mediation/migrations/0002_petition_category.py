"""The case category 11 信访事项 (one sub-category per petition matter) and its time limits.

信访工作条例: decide within 15 days whether to accept, conclude within 60 days. In the case loop the
handling unit signs for the case within 3 working days and concludes within 60 calendar days.
"""

from django.db import migrations

MATTERS = [
    ("1101", "城乡建设", "拆迁,征收,物业,规划,违建"),
    ("1102", "劳动社保", "工资,社保,欠薪,养老金"),
    ("1103", "土地征收", "征地,补偿,安置"),
    ("1104", "农业农村", "承包,宅基地,村务"),
    ("1105", "生态环境", "污染,噪声,排放"),
    ("1106", "政法", "执法,诉讼,公安"),
    ("1107", "民政卫健教育", "低保,医疗,入学"),
    ("1199", "其他信访事项", "信访"),
]


def install(apps, schema_editor):
    category = apps.get_model("cases", "CaseCategory")
    policy = apps.get_model("cases", "SlaPolicy")
    parent, _ = category.objects.get_or_create(
        code="11", defaults={"name": "信访事项", "keywords": "信访,上访,来信,来访", "sort": 11}
    )
    for i, (code, name, keywords) in enumerate(MATTERS):
        category.objects.get_or_create(
            code=code, defaults={"name": name, "keywords": keywords, "parent": parent, "sort": i}
        )
    for urgency, sign, sign_unit, handle, handle_unit in [
        ("normal", 3, "work_days", 60 * 24, "hours"),
        ("urgent", 1, "work_days", 30 * 24, "hours"),
    ]:
        policy.objects.get_or_create(
            category=parent,
            urgency=urgency,
            defaults={"sign_limit": sign, "sign_unit": sign_unit, "handle_limit": handle, "handle_unit": handle_unit},
        )


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_initial"), ("cases", "0002_default_categories")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
