"""The default scheme: 萧山 "双十条" (平安村社创建评审办法), adapted to the data gridgov holds.

Ten outcome indicators (十条结果指标, scored by district departments in 萧山: non-compliant
petitions, case control, traffic accidents, fires, crimes by villagers…) become measures computed
from the case loop and the registers; ten process indicators (十条过程指标, self-scored by towns:
patrols, dispute settlement, help to special groups, village rules…) are self-assessed with
evidence and reviewed by the district. Outcome 60 marks, process 40. Administrators edit the
library afterwards (admin); the installer only adds what is missing.
"""

from __future__ import annotations

from typing import Any

# code, name, compute_key, params, direction, normalise, weight, full_at, zero_at, min_sample, description
OUTCOME: list[tuple[str, str, str, dict[str, Any], str, str, float, float, float, int, str]] = [
    ("O01", "案件控发", "cases.count", {"category": "04"}, "lower", "per_1000_households", 6, 0, 5, 0,
     "治安类案件数（每千户），0 件满分，5 件及以上 0 分"),
    ("O02", "火灾事故", "cases.count", {"category": "0304"}, "lower", "none", 6, 0, 2, 0,
     "火情火警案件数，0 起满分，2 起及以上 0 分"),
    ("O03", "特殊人群管控", "cases.count", {"category": "09"}, "lower", "none", 6, 0, 3, 0,
     "特殊人群异常预警事件数（人员帮教成效）"),
    ("O04", "矛盾纠纷化解", "disputes.settled_rate", {}, "higher", "none", 6, 100, 60, 3,
     "矛盾纠纷化解率，100% 满分，60% 及以下 0 分；不足 3 件按同级平均计分"),
    ("O05", "隐患整改销号", "hazards.rectified_rate", {}, "higher", "none", 6, 100, 60, 3,
     "安全隐患、消防类问题整改率"),
    ("O06", "按时签收", "cases.on_time_sign_rate", {}, "higher", "none", 6, 100, 70, 5,
     "按时签收率，不足 5 件按同级平均计分"),
    ("O07", "按时办结", "cases.on_time_completion_rate", {}, "higher", "none", 6, 100, 60, 5,
     "按时办结率，不足 5 件按同级平均计分"),
    ("O08", "群众满意", "cases.satisfaction_rate", {}, "higher", "none", 6, 100, 60, 5,
     "综合满意率，不足 5 条评价按同级平均计分"),
    ("O09", "超期积案", "cases.overdue_open", {}, "lower", "none", 6, 0, 5, 0,
     "当月超期未办结案件数"),
    ("O10", "重点人员走访", "visits.obligation_rate", {}, "higher", "none", 6, 100, 50, 3,
     "特殊人群按频次走访完成率"),
]  # fmt: skip

# code, name, description — each worth 4 marks, scored on the reviewed completion (0–100 %).
PROCESS: list[tuple[str, str, str]] = [
    ("P01", "治安巡逻", "群防群治队伍按要求开展日常巡逻，有巡逻记录"),
    ("P02", "矛盾排查化解", "每月开展矛盾纠纷排查，建立台账并跟踪化解"),
    ("P03", "人员帮教", "特殊人群帮扶帮教责任落实，有帮教记录"),
    ("P04", "村规民约", "村规民约（居民公约）修订完善并公开执行"),
    ("P05", "网格走访", "网格员按要求走访入户，信息及时更新"),
    ("P06", "平安宣传", "开展平安宣传、反诈宣传等活动"),
    ("P07", "隐患排查", "组织风险隐患排查整治，问题闭环销号"),
    ("P08", "基础数据", "人口、房屋、单位等基础数据及时采集维护"),
    ("P09", "综治中心运行", "村级综治中心（矛调站）规范运行，值班到位"),
    ("P10", "平安创建", "平安家庭、平安小区等创建活动有序开展"),
]
PROCESS_WEIGHT = 4.0
