"""Code tables of mediation and petitions.

Dispute kinds: GB/T 31000-2015 事件类型 (矛盾纠纷), two levels, as verified from the standard's
screenshot (reference/standards.md §1.2). Parent "13" is not visible there; implementations name
it 其他行政执法纠纷. Dispute scale: 事件规模. The standard's 化解方式 values were not found, so
the methods below are the usual kinds of mediation (local).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

DISPUTE_KINDS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "01",
        "婚恋家庭纠纷",
        [("0101", "恋爱及婚姻"), ("0102", "抚养赡养监护"), ("0103", "分家与继承"), ("0199", "其他")],
    ),
    (
        "02",
        "邻里纠纷",
        [
            ("0201", "用水排水通行通风采光"),
            ("0202", "相邻土地建筑利用"),
            ("0203", "相邻污染损害防止"),
            ("0299", "其他"),
        ],
    ),
    (
        "03",
        "人格权纠纷",
        [("0301", "姓名肖像"), ("0302", "名誉隐私"), ("0303", "身体健康及人身自由"), ("0399", "其他")],
    ),
    (
        "04",
        "物权相关纠纷",
        [("0401", "财物返还及损害赔偿"), ("0402", "物业及其管理"), ("0403", "房屋等不动产登记"), ("0499", "其他")],
    ),
    (
        "05",
        "侵权相关纠纷",
        [
            ("0501", "教育机构"),
            ("0502", "医疗损害"),
            ("0503", "交通事故"),
            ("0504", "环境污染"),
            ("0505", "产品责任"),
            ("0506", "网络侵权"),
            ("0507", "劳务损害"),
            ("0599", "其他"),
        ],
    ),
    (
        "06",
        "合同及相关纠纷",
        [
            ("0601", "消费及服务"),
            ("0602", "房产买卖租赁"),
            ("0603", "交易贸易"),
            ("0604", "运输仓储"),
            ("0699", "其他"),
        ],
    ),
    (
        "07",
        "劳动人事争议",
        [
            ("0701", "劳动合同、劳务派遣"),
            ("0702", "社会保险"),
            ("0703", "福利待遇"),
            ("0704", "人事争议"),
            ("0799", "其他"),
        ],
    ),
    (
        "08",
        "金融借贷纠纷",
        [
            ("0801", "证券基金期货"),
            ("0802", "投资信托理财"),
            ("0803", "保险"),
            ("0804", "借贷及担保"),
            ("0899", "其他"),
        ],
    ),
    (
        "09",
        "土地及资源权属纠纷",
        [
            ("0901", "土地承包经营"),
            ("0902", "宅基地使用"),
            ("0903", "山林矿产"),
            ("0904", "水域水利"),
            ("0999", "其他"),
        ],
    ),
    (
        "10",
        "其他民商事纠纷",
        [
            ("1001", "知识产权"),
            ("1002", "公司企业设立解散"),
            ("1003", "海事海商"),
            ("1004", "竞争纠纷"),
            ("1005", "票据与信用证"),
            ("1006", "无因管理与不当得利"),
            ("1099", "其他"),
        ],
    ),
    (
        "11",
        "城乡建设发展纠纷",
        [
            ("1101", "国有土地上房屋征收"),
            ("1102", "农村集体土地征用"),
            ("1103", "城乡规划及拆违"),
            ("1104", "基础设施建设及市政市容"),
            ("1105", "移民安置"),
            ("1199", "其他"),
        ],
    ),
    (
        "12",
        "涉民政纠纷",
        [("1201", "村(社区)选举和管理"), ("1202", "优抚救助"), ("1203", "区划边界"), ("1299", "其他")],
    ),
    (
        "13",
        "其他行政执法纠纷",
        [
            ("1301", "城市管理"),
            ("1302", "教育文体管理"),
            ("1303", "工商税务管理"),
            ("1304", "安全生产管理"),
            ("1305", "交通运输管理"),
            ("1306", "海事渔事管理"),
            ("1307", "计划生育管理"),
            ("1399", "其他"),
        ],
    ),
    ("14", "涉法涉诉纠纷", [("1401", "涉公安"), ("1402", "涉检察院"), ("1403", "涉法院"), ("1404", "涉司法行政机关")]),
    ("15", "涉组织涉纪检纠纷", [("1501", "组织人事"), ("1502", "干部作风"), ("1599", "其他")]),
    ("16", "涉民族宗教纠纷", [("1601", "涉民族问题"), ("1602", "涉宗教问题")]),
    ("99", "其他", [("9999", "其他纠纷")]),
]

KIND_PARENT: dict[str, str] = {code: name for code, name, _subs in DISPUTE_KINDS}
KIND_NAMES: dict[str, str] = {sub: f"{pname} / {sname}" for _p, pname, subs in DISPUTE_KINDS for sub, sname in subs}

# Case categories (cases/defaults.py 01xx) → the dispute kind a dispute opened from them starts with.
CASE_CATEGORY_KIND: dict[str, str] = {
    "0101": "0101",
    "0102": "0201",
    "0103": "0402",
    "0104": "0701",
    "0105": "0902",
    "0106": "0601",
    "0199": "9999",
}


def kind_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    return [(f"{code} {name}", [(sub, f"{sub} {sname}") for sub, sname in subs]) for code, name, subs in DISPUTE_KINDS]


def kind_label(code: str) -> str:
    return KIND_NAMES.get(code, code)


def kind_parent(code: str) -> str:
    return code[:2]


class Scale(models.TextChoices):
    """事件规模 (GB/T 31000)."""

    INDIVIDUAL = "01", _("个体性事件")
    GROUP = "02", _("一般群体性事件")
    MAJOR_GROUP = "03", _("重大群体性事件")


class Method(models.TextChoices):
    """化解方式 (local: the standard's values were not found)."""

    PEOPLES = "01", _("人民调解")
    ADMINISTRATIVE = "02", _("行政调解")
    JUDICIAL = "03", _("司法调解")
    PROFESSIONAL = "04", _("行业性专业性调解")
    JOINT = "05", _("联合调解")
    OTHER = "99", _("其他")


class CentreLevel(models.TextChoices):
    DISTRICT = "district", _("区级矛调中心")
    STREET = "street", _("镇街矛调中心")
    COMMUNITY = "community", _("村社调解室")


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    RESPONDENT = "respondent", _("被申请人")
    THIRD = "third", _("第三人")


class SessionMode(models.TextChoices):
    IN_PERSON = "in_person", _("现场调解")
    ONLINE = "online", _("在线调解")


class SessionResult(models.TextChoices):
    CONTINUE = "continue", _("继续调解")
    AGREED = "agreed", _("达成一致")
    DEADLOCK = "deadlock", _("分歧较大")


class Transfer(models.TextChoices):
    COURT = "court", _("引导诉讼")
    ARBITRATION = "arbitration", _("转仲裁")
    PETITION = "petition", _("转信访")


class Performance(models.TextChoices):
    FULL = "full", _("已履行")
    PARTIAL = "partial", _("部分履行")
    NONE = "none", _("未履行")


class PetitionChannel(models.TextChoices):
    VISIT = "visit", _("来访")
    LETTER = "letter", _("来信")
    ONLINE = "online", _("网上信访")
    PHONE = "phone", _("电话")


class PetitionMatter(models.TextChoices):
    """信访事项 kinds; each maps to a sub-category of the case category 11 信访事项."""

    URBAN = "1101", _("城乡建设")
    LABOUR = "1102", _("劳动社保")
    LAND = "1103", _("土地征收")
    RURAL = "1104", _("农业农村")
    ENVIRONMENT = "1105", _("生态环境")
    LAW = "1106", _("政法")
    CIVIL = "1107", _("民政卫健教育")
    OTHER = "1199", _("其他信访事项")
