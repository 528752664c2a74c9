"""The default category code table and time limits a fresh installation starts with.

Sources (reference/standards.md): the dispute kinds of GB/T 31000-2015 事件类型 (矛盾纠纷), the
city-appearance, street-order and construction items of GB/T 47678.5 (06/08/09 classes), the
public-order problems of the 治安突出问题 table, the special groups of the 9+X registers, and the
12345 norms for limits (急件当日, 求助 3 个工作日, 投诉 13–15 个工作日). Administrators edit the
table afterwards in the admin; the loader only adds rows that are missing.
"""

from __future__ import annotations

from typing import Any

# (code, name, keywords); level-2 codes start with their level-1 code.
CATEGORIES: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    (
        "01",
        "矛盾纠纷",
        "纠纷,矛盾,吵架,争执",
        [
            ("0101", "婚恋家庭纠纷", "夫妻,离婚,赡养,抚养,家暴,分家,继承"),
            ("0102", "邻里纠纷", "邻居,漏水,采光,通行,噪音,排水"),
            ("0103", "物业纠纷", "物业,物业费,小区,业委会,停车位"),
            ("0104", "劳资纠纷", "工资,欠薪,拖欠,讨薪,工钱,劳动合同"),
            ("0105", "土地山林纠纷", "宅基地,土地,承包,山林,边界"),
            ("0106", "消费合同纠纷", "退款,消费,合同,租房,押金"),
            ("0199", "其他矛盾纠纷", "纠纷"),
        ],
    ),
    (
        "02",
        "安全隐患",
        "隐患,危险,安全",
        [
            ("0201", "安全生产隐患", "违规作业,危化品,仓库,工厂,安全生产"),
            ("0202", "危房及建筑安全", "危房,裂缝,倒塌,墙体,脚手架"),
            ("0203", "燃气安全隐患", "燃气,煤气,液化气,漏气,钢瓶"),
            ("0204", "防汛及地质灾害", "积水,内涝,塌方,滑坡,河堤"),
            ("0299", "其他安全隐患", "隐患"),
        ],
    ),
    (
        "03",
        "消防安全",
        "消防,火灾,着火",
        [
            ("0301", "占用消防通道", "消防通道,堵塞,占用,停车"),
            ("0302", "电动车违规充电", "电动车,充电,飞线,楼道充电"),
            ("0303", "消防设施损坏", "灭火器,消防栓,烟感,过期"),
            ("0304", "火情火警", "起火,冒烟,着火,火情"),
            ("0399", "其他消防隐患", "消防"),
        ],
    ),
    (
        "04",
        "社会治安",
        "治安,报警,可疑",
        [
            ("0401", "治安突出问题", "盗窃,偷,抢劫,打架,斗殴"),
            ("0402", "电信诈骗线索", "诈骗,转账,冒充,刷单"),
            ("0403", "黄赌毒线索", "赌博,吸毒,卖淫,麻将馆"),
            ("0404", "可疑人员物品", "可疑,陌生人,包裹,徘徊"),
            ("0499", "其他治安问题", "治安"),
        ],
    ),
    (
        "05",
        "市容环境",
        "市容,环境卫生,脏乱",
        [
            ("0501", "私搭乱建", "违建,搭建,私搭乱建,违章建筑"),
            ("0502", "暴露垃圾", "垃圾,乱倒,堆放,暴露垃圾"),
            ("0503", "道路不洁", "路面,脏,污渍,清扫"),
            ("0504", "乱堆杂物", "杂物,堆物,堆放"),
            ("0505", "非法小广告", "小广告,牛皮癣,张贴,涂写"),
            ("0506", "垃圾站满溢", "垃圾桶,满溢,垃圾站,清运"),
            ("0599", "其他市容问题", "市容"),
        ],
    ),
    (
        "06",
        "街面秩序",
        "街面,秩序,占道",
        [
            ("0601", "占道经营", "摊贩,占道,流动摊,夜市"),
            ("0602", "机动车乱停放", "乱停,停车,占道停车,汽车"),
            ("0603", "非机动车乱停放", "共享单车,电瓶车,乱停"),
            ("0604", "店外经营", "出店,店外,门口经营"),
            ("0699", "其他街面秩序问题", "秩序"),
        ],
    ),
    (
        "07",
        "生态环境",
        "污染,环保",
        [
            ("0701", "噪声扰民", "噪音,噪声,扰民,夜间施工,广场舞"),
            ("0702", "油烟污染", "油烟,饭店,餐馆,排烟"),
            ("0703", "河道污染", "河道,河水,发黑,发臭,排污"),
            ("0704", "工地扬尘", "扬尘,工地,灰尘,渣土"),
            ("0705", "露天焚烧", "焚烧,烧垃圾,烧秸秆,浓烟"),
            ("0799", "其他环境问题", "环境"),
        ],
    ),
    (
        "08",
        "交通与市政设施",
        "道路,设施,市政",
        [
            ("0801", "道路破损", "坑洼,破损,塌陷,路面"),
            ("0802", "井盖缺失破损", "井盖,窨井,缺失"),
            ("0803", "路灯故障", "路灯,不亮,灯坏"),
            ("0804", "交通设施损坏", "红绿灯,信号灯,护栏,标志牌"),
            ("0805", "供排水故障", "水管,爆管,停水,下水道,堵塞"),
            ("0899", "其他设施问题", "设施"),
        ],
    ),
    (
        "09",
        "特殊人群预警",
        "特殊人群,异常",
        [
            ("0901", "严重精神障碍患者异常", "精神,发病,肇事,情绪激动"),
            ("0902", "社区矫正人员异常", "矫正,脱管,外出"),
            ("0903", "刑满释放人员异常", "刑满释放,帮教"),
            ("0904", "吸毒人员异常", "吸毒,复吸"),
            ("0905", "重点青少年异常", "青少年,辍学,留守,未成年"),
            ("0999", "其他特殊人群预警", "预警"),
        ],
    ),
    (
        "10",
        "民生求助",
        "求助,帮助,困难",
        [
            ("1001", "困难帮扶", "困难,低保,救助,生活困难"),
            ("1002", "独居老人关爱", "老人,独居,高龄,没人照顾"),
            ("1003", "医疗救助", "看病,生病,医疗,就医"),
            ("1004", "咨询建议", "咨询,建议,政策,办事"),
            ("1099", "其他求助", "求助"),
        ],
    ),
    ("99", "其他", "其他", [("9999", "其他事项", "其他")]),
]

# (category code or None for the default row, urgency, sign limit, unit, handle limit, unit)
SLA: list[tuple[str | None, str, int, str, int, str]] = [
    (None, "normal", 4, "work_hours", 5, "work_days"),
    (None, "urgent", 1, "work_hours", 1, "work_days"),
    (None, "critical", 1, "hours", 24, "hours"),
    ("01", "normal", 4, "work_hours", 15, "work_days"),  # disputes: mediation takes time
    ("03", "normal", 2, "work_hours", 2, "work_days"),  # fire hazards
    ("0304", "normal", 1, "hours", 12, "hours"),  # a fire is never "normal" business
    ("04", "normal", 2, "work_hours", 3, "work_days"),
    ("05", "normal", 4, "work_hours", 3, "work_days"),
    ("06", "normal", 4, "work_hours", 2, "work_days"),
    ("07", "normal", 4, "work_hours", 5, "work_days"),
    ("08", "normal", 4, "work_hours", 5, "work_days"),
    ("09", "normal", 1, "work_hours", 1, "work_days"),  # special-group alerts
    ("10", "normal", 4, "work_hours", 3, "work_days"),  # 求助: 3 个工作日
]


def install(apps: Any = None) -> tuple[int, int]:
    """Add missing default categories and SLA rows; returns (categories, policies) added.
    Works with real models or a migration's historical `apps`."""
    if apps is None:
        from django.apps import apps as django_apps

        apps = django_apps
    category_model = apps.get_model("cases", "CaseCategory")
    policy_model = apps.get_model("cases", "SlaPolicy")
    added_c = added_p = 0
    existing = {c.code: c for c in category_model.objects.all()}
    for i, (code, name, keywords, children) in enumerate(CATEGORIES):
        parent = existing.get(code)
        if parent is None:
            parent = category_model.objects.create(code=code, name=name, keywords=keywords, sort=i)
            existing[code] = parent
            added_c += 1
        for j, (ccode, cname, ckw) in enumerate(children):
            if ccode not in existing:
                existing[ccode] = category_model.objects.create(
                    code=ccode, name=cname, keywords=ckw, parent=parent, sort=j
                )
                added_c += 1
    for sla_code, urgency, sv, su, hv, hu in SLA:
        cat = existing.get(sla_code) if sla_code else None
        if sla_code and cat is None:
            continue
        if policy_model.objects.filter(category=cat, urgency=urgency).exists():
            continue
        policy_model.objects.create(
            category=cat, urgency=urgency, sign_limit=sv, sign_unit=su, handle_limit=hv, handle_unit=hu
        )
        added_p += 1
    return added_c, added_p
