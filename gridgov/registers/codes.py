"""Code tables (值域代码) used by the registers.

Where GB/T 31000-2015 has a table, the codes and names are the standard's, as read from the
screenshots cited in shared/reference/standards.md §1.2 (two-digit codes, "99 其他"). Where it
does not (or the table was not found), the table is marked *local* and is a configurable
extension: new codes can be appended without touching existing data.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


# --- GB/T 31000-2015 ---------------------------------------------------------------------------
class AttentionLevel(models.TextChoices):
    """关注程度."""

    HIGH = "01", _("高")
    MEDIUM = "02", _("中")
    LOW = "03", _("低")


class YouthType(models.TextChoices):
    """人员类型 (重点青少年)."""

    IDLE = "01", _("闲散青少年")
    MISCONDUCT = "02", _("有不良行为或严重不良行为青少年")
    VAGRANT = "03", _("流浪乞讨未成年人")
    PRISONER_CHILD = "04", _("服刑人员未成年子女")
    LEFT_BEHIND = "05", _("农村留守儿童")
    OTHER = "99", _("其他")


class FamilySituation(models.TextChoices):
    """家庭情况."""

    LOW_INCOME = "01", _("低收入家庭")
    SINGLE_PARENT = "02", _("单亲家庭")
    MIGRANT = "03", _("流动家庭")
    LOW_EDUCATION = "04", _("扶养人受教育水平相对较低")
    POOR_RELATION = "05", _("与父母关系不融洽")
    MISCONDUCT = "06", _("家庭成员的不良行为多")
    OTHER = "99", _("其他")


class HelpMeasure(models.TextChoices):
    """帮扶手段."""

    CORRECTION = "01", _("教育矫治")
    GUIDANCE = "02", _("思想引导")
    HARDSHIP = "03", _("困难帮扶")
    PSYCHOLOGICAL = "04", _("心理关爱")
    OTHER = "99", _("其他")


class ReleaseRiskType(models.TextChoices):
    """危险性评估类型 (刑满释放人员)."""

    KEY = "01", _("重点帮教人员")
    GENERAL = "02", _("一般帮教人员")


class Handover(models.TextChoices):
    """衔接情况."""

    GOVERNMENT = "01", _("基层政府接回")
    PRISON = "02", _("监所送回原籍")
    JUSTICE_OFFICE = "03", _("司法所接回")
    POLICE = "04", _("公安机关落实管控措施")
    GRASSROOTS = "05", _("基层组织接回")
    SELF = "06", _("人员自返")
    OTHER = "99", _("其他衔接情况")


class Placement(models.TextChoices):
    """安置情况."""

    FARMLAND = "01", _("落实责任田")
    PUBLIC_POST = "02", _("公益性岗位安置")
    CERTIFIED_BASE = "03", _("企业认证为安置基地安置")
    GOVERNMENT_BASE = "04", _("建设政府投入为主的安置基地安置")
    SELF_EMPLOYED = "05", _("从事个体经营")
    EMPLOYED = "06", _("企业和经济实体吸纳就业")
    STARTUP = "07", _("自主创业")
    OTHER = "99", _("其他安置方式")


class CrimeCategory(models.TextChoices):
    """罪名分类."""

    STATE_SECURITY = "01", _("危害国家安全罪")
    PUBLIC_SECURITY = "02", _("危害公共安全罪")
    MARKET_ORDER = "03", _("破坏社会主义市场经济秩序罪")
    PERSONAL_RIGHTS = "04", _("侵犯公民人身权利、民主权利罪")
    PROPERTY = "05", _("侵犯财产罪")
    SOCIAL_ORDER = "06", _("妨害社会管理秩序罪")
    DEFENCE = "07", _("危害国防利益罪")
    CORRUPTION = "08", _("贪污贿赂罪")
    MALFEASANCE = "09", _("渎职罪")
    MILITARY = "10", _("军人违反职责罪")


class CorrectionCategory(models.TextChoices):
    """矫正类别."""

    CONTROL = "01", _("管制")
    PROBATION = "02", _("缓刑")
    PAROLE = "03", _("假释")
    OUTSIDE_CUSTODY = "04", _("暂予监外执行")
    DEPRIVATION = "05", _("剥夺政治权利")


class ReceiveMode(models.TextChoices):
    """接收方式."""

    SELF_REPORT = "01", _("自行报到")
    ESCORTED = "02", _("狱所押送")
    COURT = "03", _("当庭交接")
    OTHER = "99", _("其他")


class Diagnosis(models.TextChoices):
    """目前诊断类型 (严重精神障碍)."""

    SCHIZOPHRENIA = "01", _("精神分裂症")
    SCHIZOAFFECTIVE = "02", _("分裂情感性障碍")
    DELUSIONAL = "03", _("持久的妄想性障碍(偏执性精神病)")
    BIPOLAR = "04", _("双相(情感)障碍")
    EPILEPSY = "05", _("癫痫所致精神障碍")
    RETARDATION = "06", _("精神发育迟滞伴发精神障碍")
    DEPRESSION = "07", _("重度抑郁发作")
    SUBSTANCE = "08", _("精神活性物质所致精神障碍")
    OTHER = "99", _("其他")


class MentalRiskGrade(models.TextChoices):
    """目前危险性评估等级."""

    G0 = "01", _("0级")
    G1 = "02", _("1级")
    G2 = "03", _("2级")
    G3 = "04", _("3级")
    G4 = "05", _("4级")
    G5 = "06", _("5级")


class Treatment(models.TextChoices):
    """治疗情况."""

    INPATIENT = "01", _("住院治疗")
    HOME_MEDICATION = "02", _("居家服用抗精神病药物治疗")
    OTHER = "03", _("其他治疗")
    NONE = "04", _("未接受过治疗")


class DrugControl(models.TextChoices):
    """管控情况 (吸毒人员)."""

    CONTROLLED = "01", _("在控")
    LOST = "02", _("失控")
    DEAD = "03", _("死亡")
    ABROAD = "04", _("出国(境)")
    ABSTINENT_3Y = "05", _("社会面戒断三年未复吸")
    ABSTINENT_LT_3Y = "06", _("社会面戒断不满三年")


class InfectionRoute(models.TextChoices):
    """感染途径."""

    HETEROSEXUAL = "01", _("异性性传播")
    HOMOSEXUAL = "02", _("同性性传播")
    INJECTION = "03", _("注射毒品传播")
    MOTHER_CHILD = "04", _("母婴传播")
    BLOOD = "05", _("输血及使用血制品传播")
    SEX_AND_INJECTION = "06", _("性接触加注射毒品传播")
    PLASMA = "07", _("既往采血浆传播")
    UNKNOWN = "99", _("不详")


class Admission(models.TextChoices):
    """收治情况."""

    NONE = "00", _("无")
    CUSTODY = "01", _("羁押")
    ANTIVIRAL = "02", _("抗病毒治疗")
    MAINTENANCE = "03", _("戒毒药物维持治疗")
    OTHER = "99", _("其他")


class InflowReason(models.TextChoices):
    """流入原因 (流动人口)."""

    WORK = "01", _("务工")
    FARMING = "02", _("务农")
    BUSINESS = "03", _("经商")
    STUDY = "04", _("学习培训")
    MARRIAGE = "05", _("婚嫁")
    FOLLOW = "06", _("随迁")
    MEDICAL = "07", _("治病疗养")
    RELATIVES = "08", _("投亲靠友")
    TRANSFER = "09", _("工作调动")
    OTHER = "99", _("其他")


class PermitType(models.TextChoices):
    """办证类型."""

    RESIDENCE = "01", _("居住证")
    TEMPORARY = "02", _("暂住证")
    OTHER = "99", _("其他")


class ResidenceType(models.TextChoices):
    """住所类型."""

    OWNED = "01", _("自购房屋")
    RENTED = "02", _("租赁房屋")
    LODGING = "03", _("寄宿")
    BORROWED = "04", _("借住")
    DORMITORY = "05", _("单位宿舍")
    TEMP_DORMITORY = "06", _("临时性宿舍")
    WORKER_APARTMENT = "07", _("农民工公寓")
    OTHER = "99", _("其他")


class HukouConsistency(models.TextChoices):
    """人户一致标识."""

    SAME = "01", _("一致")
    DIFFERENT = "02", _("不一致")


class VisitPurpose(models.TextChoices):
    """来华目的 (境外人员)."""

    BUSINESS = "01", _("商务")
    EMPLOYMENT = "02", _("就业")
    STUDY = "03", _("学习")
    SETTLE = "04", _("定居")
    FAMILY = "05", _("探亲")
    OTHER = "99", _("其他")


class BuildingUse(models.TextChoices):
    """建筑用途."""

    RESIDENTIAL = "01", _("住宅")
    COMMERCIAL = "02", _("商业")
    OFFICE = "03", _("办公")
    INDUSTRIAL = "04", _("工业")
    STORAGE = "05", _("仓储")
    MIXED = "06", _("商住混用")
    OTHER = "99", _("其他")


class RentalUse(models.TextChoices):
    """出租用途."""

    DORMITORY = "01", _("宿舍")
    HOUSING = "02", _("住房")
    SHOP = "03", _("商铺")
    OFFICE = "04", _("办公")
    WAREHOUSE = "05", _("仓库")
    FACTORY = "06", _("厂房")
    OTHER = "99", _("其他")


class RentalHazard(models.TextChoices):
    """隐患类型 (出租房屋)."""

    NONE = "00", _("无")
    FIRE = "01", _("火灾隐患")
    PUBLIC_ORDER = "02", _("治安隐患")
    DISPUTE = "03", _("矛盾纠纷隐患")
    CHEMICALS = "04", _("危化物品隐患")
    EPIDEMIC = "05", _("疾病传染隐患")
    OTHER = "99", _("其他")


class EnterpriseCategory(models.TextChoices):
    """企业类别."""

    DOMESTIC = "01", _("内资企业")
    FOREIGN = "02", _("外资企业")
    INDIVIDUAL = "03", _("个体工商户")
    COOPERATIVE = "04", _("农民专业合作社")
    OTHER = "99", _("其他企业")


class RegistrationType(models.TextChoices):
    """登记注册类型."""

    STATE = "110", _("国有")
    COLLECTIVE = "120", _("集体")
    JOINT_STOCK_COOP = "130", _("股份合作")
    ASSOCIATION = "140", _("联营")
    LIMITED = "150", _("有限责任公司")
    SHARE = "160", _("股份有限公司")
    PRIVATE = "170", _("私营")
    OTHER_DOMESTIC = "190", _("其他内资企业")
    HK_MO_TW = "200", _("港澳台商投资企业")
    FOREIGN = "300", _("外商投资企业")


class Holding(models.TextChoices):
    """控股情况."""

    STATE = "110", _("国有控股")
    COLLECTIVE = "120", _("集体控股")
    PRIVATE = "210", _("私人控股")
    HK_MO_TW = "220", _("港澳台控股")
    FOREIGN = "230", _("外商控股")


class SecurityHazard(models.TextChoices):
    """安全隐患类型."""

    NONE = "00", _("无")
    PUBLIC_ORDER = "01", _("治安隐患")
    FIRE = "02", _("消防隐患")
    DISPUTE = "03", _("矛盾纠纷隐患")
    LABOUR = "04", _("劳资纠纷隐患")
    OTHER = "99", _("其他")


class SocialOrgType(models.TextChoices):
    """社会组织类型."""

    ASSOCIATION = "01", _("社会团体")
    NON_ENTERPRISE = "02", _("民办非企业单位")
    FOUNDATION = "03", _("基金会")
    OTHER = "99", _("其他")


class TeamType(models.TextChoices):
    """组织类型 (群防群治 / 护路护线队伍)."""

    FULL_TIME_PATROL = "01", _("专职巡防队伍")
    VOLUNTEER_PATROL = "02", _("义务巡防队伍")
    SECURITY_COMPANY = "03", _("保安服务公司")
    VOLUNTEERS = "04", _("志愿者队伍")
    OTHER = "99", _("其他")


class InstitutionType(models.TextChoices):
    """机构类型 (综治组织)."""

    COMMITTEE = "01", _("综治委")
    OFFICE = "02", _("综治办")
    CENTER = "03", _("综治中心")


class InstitutionLevel(models.TextChoices):
    """层级."""

    CENTRAL = "01", _("中央")
    PROVINCE = "02", _("省、自治区、直辖市")
    PREFECTURE = "03", _("地、市、州、盟")
    COUNTY = "04", _("县、市、区、旗")
    TOWN = "05", _("乡镇、街道")
    VILLAGE = "06", _("村、社区")


# --- other national code standards cited by GB/T 31000 -----------------------------------------
class Gender(models.TextChoices):
    """GB/T 2261.1."""

    UNKNOWN = "0", _("未知的性别")
    MALE = "1", _("男")
    FEMALE = "2", _("女")
    UNSTATED = "9", _("未说明的性别")


class DocumentType(models.TextChoices):
    """证件代码, the subset of GA/T 517 a register meets."""

    RESIDENT_ID = "111", _("居民身份证")
    PASSPORT = "414", _("普通护照")
    TAIWAN_PERMIT = "511", _("台湾居民来往大陆通行证")
    HK_MACAO_PERMIT = "516", _("港澳居民来往内地通行证")
    OTHER = "990", _("其他证件")


class Relation(models.TextChoices):
    """与户主关系, the GB/T 4761 family-relation categories (the two-digit group codes)."""

    HEAD = "02", _("户主")
    SPOUSE = "10", _("配偶")
    SON = "20", _("子")
    DAUGHTER = "30", _("女")
    GRANDCHILD = "40", _("孙子女或外孙子女")
    PARENT = "50", _("父母")
    GRANDPARENT = "60", _("祖父母或外祖父母")
    SIBLING = "70", _("兄弟姐妹")
    OTHER = "80", _("其他亲属")
    NON_RELATIVE = "99", _("非亲属")


ETHNICITIES: list[tuple[str, str]] = [
    # GB/T 3304, the groups a Zhejiang register meets most; "99" is not in GB/T 3304 and is kept
    # for records whose ethnicity was not collected.
    ("01", "汉族"),
    ("02", "蒙古族"),
    ("03", "回族"),
    ("04", "藏族"),
    ("05", "维吾尔族"),
    ("06", "苗族"),
    ("07", "彝族"),
    ("08", "壮族"),
    ("09", "布依族"),
    ("10", "朝鲜族"),
    ("11", "满族"),
    ("12", "侗族"),
    ("13", "瑶族"),
    ("14", "白族"),
    ("15", "土家族"),
    ("18", "黎族"),
    ("22", "畲族"),
    ("99", "未采集"),
]


# --- local (configurable) tables ---------------------------------------------------------------
class PopulationType(models.TextChoices):
    """实有人口类别."""

    REGISTERED = "registered", _("户籍人口")
    FLOATING = "floating", _("流动人口")
    FOREIGN = "foreign", _("境外人员")


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    MOVED_OUT = "moved_out", _("已迁出")
    CANCELLED = "cancelled", _("已注销")
    ARCHIVED = "archived", _("已归档")


class CancelReason(models.TextChoices):
    DEATH = "death", _("死亡")
    DUPLICATE = "duplicate", _("重复登记")
    OTHER = "other", _("其他")


class GroupKind(models.TextChoices):
    """特殊人群 and 重点青少年 (GB/T 31000 categories 3 and 4)."""

    RELEASED = "released", _("刑满释放人员")
    CORRECTION = "correction", _("社区矫正人员")
    MENTAL = "mental", _("严重精神障碍患者")
    DRUG = "drug", _("吸毒人员")
    HIV = "hiv", _("艾滋病危险人员")
    YOUTH = "youth", _("重点青少年")


class PlaceKind(models.TextChoices):
    """重点场所 kinds (the X of 9+X; local)."""

    HAZARDOUS_CHEMICALS = "hazchem", _("危化企业")
    HIGH_RISE = "high_rise", _("高层建筑")
    RENTAL = "rental", _("出租房屋")
    SCHOOL = "school", _("学校")
    MARKET = "market", _("集贸市场")
    ENTERTAINMENT = "entertainment", _("娱乐场所")
    HOTEL = "hotel", _("旅馆")
    INTERNET_CAFE = "internet_cafe", _("网吧")
    HOSPITAL = "hospital", _("医疗机构")
    ELDERLY_CARE = "elderly_care", _("养老机构")
    CONSTRUCTION = "construction", _("建筑工地")
    FUEL_STATION = "fuel_station", _("加油加气站")
    RESTAURANT = "restaurant", _("餐饮场所")
    SMALL_PREMISES = "small_premises", _("三小场所")
    LOGISTICS = "logistics", _("寄递物流")
    OTHER = "other", _("其他")


class RiskLevel(models.TextChoices):
    """安全风险等级, four colours (红橙黄蓝) as in the national risk grading for work safety."""

    MAJOR = "1", _("重大风险（红）")
    HIGH = "2", _("较大风险（橙）")
    GENERAL = "3", _("一般风险（黄）")
    LOW = "4", _("低风险（蓝）")


class OrganisationKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("非公有制经济组织")
    SOCIAL = "social", _("社会组织")


class SchoolType(models.TextChoices):
    """学校办学类型 (GB/T 31000 names the table; values not found: local)."""

    KINDERGARTEN = "kindergarten", _("幼儿园")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初级中学")
    SENIOR = "senior", _("高级中学")
    COMPLETE = "complete", _("完全中学/九年一贯制")
    VOCATIONAL = "vocational", _("中等职业学校")
    HIGHER = "higher", _("高等院校")
    SPECIAL = "special", _("特殊教育学校")
    TRAINING = "training", _("培训机构")


class LineKind(models.TextChoices):
    """路线类型 (护路护线; table named in GB/T 31000, values local)."""

    RAILWAY = "railway", _("铁路")
    HIGH_SPEED_RAIL = "hsr", _("高速铁路")
    HIGHWAY = "highway", _("公路")
    POWER = "power", _("电力线路")
    OIL_GAS = "oil_gas", _("油气管道")
    TELECOM = "telecom", _("通信线路")
    WATER = "water", _("供水管线")


class VisitKind(models.TextChoices):
    ROUTINE = "routine", _("走访")
    HELP = "help", _("帮扶帮教")
    INSPECTION = "inspection", _("巡查检查")
    FOLLOW_UP = "follow_up", _("随访")


class VisitOutcome(models.TextChoices):
    NORMAL = "normal", _("正常")
    ATTENTION = "attention", _("需关注")
    ABNORMAL = "abnormal", _("异常")
    NOT_MET = "not_met", _("未见到本人")


def label_of(choices: type[models.TextChoices], value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value
