"""UI text of the 一件事 page (issue 18): journeys, pairs of items, departments people must both visit, bundles."""

from text import Text

JOURNEY_TEXT: dict[str, Text] = {
    "nav_journeys": Text("一件事", "Journeys"),
    "journeys_intro": Text(
        "同一位群众（按证件号码加盐生成的标识，不含原号码）在同一乡镇前后相隔不超过 {w} 天办的事，算作一个“旅程”。"
        "看群众为一件事要跑几个部门、提交几次材料，哪些事项适合合并为“高效办成一件事”。",
        "One person's cases (a salted key from the ID number, never the number) filed in one town no more than {w} "
        "days apart make one journey: how many offices and submissions one matter costs people, and which "
        "items could be bundled (高效办成一件事).",
    ),
    "journeys_headline": Text(
        "{month}：{applicants} 位群众本月开始了 {journeys} 个旅程，其中 {multi} 个办了两项及以上事项（{multi_rate}），"
        "{cross} 个要跑两个及以上部门（{cross_rate}）。合并办理可少提交 {avoidable} 次。",
        "{month}: {applicants} people began {journeys} journeys; {multi} filed two or more items ({multi_rate}), "
        "{cross} went to two or more departments ({cross_rate}). Combined applications would save {avoidable} "
        "submissions.",
    ),
    "journeys_unknown": Text(
        "所选范围的办件都没有申请人证件号码或手机号，无法识别旅程（数字为“未知”，不是 0）。",
        "No case in the selection carries an applicant ID or phone number: journeys are unknown (not 0).",
    ),
    "journeys_coverage": Text(
        "{share} 的办件带有申请人标识（{keyed}/{total}），其余不计入旅程。",
        "{share} of cases carry an applicant key ({keyed}/{total}); the others are left out of journeys.",
    ),
    "journeys_no_comparison": Text("旅程未结束，暂不与上月比较", "journeys not over: no comparison yet"),
    "journeys_suppressed_all": Text(
        "共 {n} 组，申请人均少于 {k} 位，不予显示（人数太少可能认出个人）。",
        "{n} in all, each with fewer than {k} applicants: not shown (so few could identify a person).",
    ),
    "journeys_bundles_saved": Text(
        "按这些“一件事”合并办理，可少提交 {submissions} 次、少跑 {trips} 次（占全部可减少提交 {avoidable} 次中的一部分："
        "其余为清单以外的事项组合）。",
        "Combined as these bundles, people would submit {submissions} times and travel {trips} times less (part of "
        "the {avoidable} avoidable submissions; the rest are pairs outside the list).",
    ),
    "journeys_window": Text("旅程间隔（天）", "Journey window (days)"),
    "journeys_window_help": Text(
        "同一人两件办件相隔不超过这么多天，算同一个旅程（默认 15 天）。",
        "Two cases of one person no more than this many days apart belong to one journey (default 15).",
    ),
    "journeys_filters_ignored": Text(
        "旅程跨部门、事项和渠道，本页只按月份和乡镇统计，侧栏的部门、事项、渠道筛选不适用。",
        "Journeys span departments, items and channels: this page counts by month and town only; the sidebar's "
        "department, item and channel choices do not apply.",
    ),
    "journeys_not_settled": Text(
        "{month} 的旅程尚未全部结束：{w} 天内的后续办件还会计入，数字到 {day} 后基本定型，在此之前不与上月比较。",
        "{month}'s journeys are not all over: cases within {w} days still join them, so the figures mostly settle "
        "after {day}; until then they are not compared with last month.",
    ),
    "journeys_pairs_title": Text("一起办理的事项（同一旅程）", "Items filed in the same journey"),
    "journeys_matrix_title": Text(
        "事项两两组合：格中为申请人数，事项前的色块为其部门",
        "Pairs of items: applicants per cell; the square is the department",
    ),
    "journeys_pairs_pick": Text(
        "点击表中一行，查看该组合的旅程示例（只显示办件编号和日期，不显示任何个人信息）。",
        "Click a row to see example journeys of that pair (case numbers and dates only, nothing about a person).",
    ),
    "journeys_suppressed": Text(
        "另有 {n} 组申请人少于 {k} 位，不予显示（人数太少可能认出个人）。",
        "{n} more have fewer than {k} applicants and are not shown (so few could identify a person).",
    ),
    "journeys_suppressed_bundles": Text(
        "另有 {n} 个“一件事”申请人少于 {k} 位，不予显示。",
        "{n} more bundles have fewer than {k} applicants and are not shown.",
    ),
    "journeys_no_pairs": Text(
        "本月没有申请人达到 {k} 位的事项组合。", "No pair of items has {k} or more applicants this month."
    ),
    "journeys_examples_title": Text("旅程示例：{a} + {b}", "Example journeys: {a} + {b}"),
    "journeys_examples_none": Text("这组事项没有可显示的示例。", "No example to show for this pair."),
    "journeys_departments_title": Text(
        "同一批群众要跑的部门（部门壁垒）", "Departments the same people must both visit"
    ),
    "journeys_departments_none": Text(
        "本月没有申请人达到 {k} 位的部门组合。", "No pair of departments has {k} or more applicants this month."
    ),
    "journeys_bundles_title": Text("可合并办理的“一件事”", "Bundles that could be combined"),
    "journeys_bundles_note": Text(
        "按已知“一件事”清单（data/bundles.csv）匹配：旅程中办了其中两项及以上即算。可少提交 = 所含办件数 − 1；"
        "可少跑动 = 各办件跑动次数之和 − 其中最多的一件。",
        "Matched against the known bundles (data/bundles.csv): a journey that filed two or more of a bundle's items. "
        "Submissions saved = its cases − 1; trips saved = the cases' visits − the most of any one.",
    ),
    "journeys_bundles_none": Text(
        "本月没有旅程匹配已知“一件事”（或申请人少于 {k} 位）。",
        "No journey matched a known bundle this month (or fewer than {k} applicants).",
    ),
    "journeys_bundles_bad": Text("一件事清单无法使用：{why}", "The bundles file cannot be used: {why}"),
}

#: Column headings of the page's tables (joined to ui.i18n_dashboard.COLUMN_LABELS).
JOURNEY_COLUMNS: dict[str, Text] = {
    "journey_no": Text("旅程", "Journey"),
    "item_a": Text("事项 A", "Item A"),
    "item_b": Text("事项 B", "Item B"),
    "applicants": Text("申请人", "Applicants"),
    "journeys": Text("旅程", "Journeys"),
    "median_gap_days": Text("中位间隔（天）", "Median gap (days)"),
    "departments": Text("部门", "Departments"),
    "visits_total": Text("合计跑动（次）", "Visits in all"),
    "bundle": Text("一件事", "Bundle"),
    "bundle_items": Text("包含事项", "Items"),
    "submissions_saved": Text("可少提交", "Submissions saved"),
    "trips_saved": Text("可少跑动", "Trips saved"),
}
