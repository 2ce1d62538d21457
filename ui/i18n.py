"""UI text in Chinese (default) and English; pages ask for text by key."""

from __future__ import annotations

import streamlit as st

from text import Text
from ui.i18n_dashboard import DASHBOARD_TEXT
from ui.i18n_journeys import JOURNEY_TEXT
from ui.i18n_towns import TOWN_TEXT

LANGS = {"zh": "中文", "en": "English"}

TEXT: dict[str, Text] = {
    "app_title": Text("一网通办效能监测看板", "E-Gov Service Monitor"),
    "nav_overview": Text("总览", "Overview"),
    "nav_uploads": Text("上传记录", "Uploads"),
    "language": Text("语言 / Language", "Language / 语言"),
    "month": Text("月份", "Month"),
    "cases": Text("办件量", "Cases"),
    "online_rate": Text("网办率", "Online rate"),
    "median_days": Text("办理时长中位数", "Median processing time"),
    "workdays": Text("个工作日", "working days"),
    "natural_days": Text("自然日", "natural days"),
    "of": Text("／", " of "),
    "no_data": Text(
        "数据库中还没有办件数据。请用 `python cli.py ingest 文件` 导入平台导出的办件表，"
        "或用 `python cli.py demo` 载入演示数据。",
        "No cases in the database yet. Load an export with `python cli.py ingest FILE`, "
        "or the demo data with `python cli.py demo`.",
    ),
    "unknown": Text("未知", "unknown"),
    "trend_title": Text("近 12 个月办件量与网办率", "Cases and online rate, last 12 months"),
    "data_source": Text("数据库", "Database"),
    "uploads_title": Text("上传记录", "Upload history"),
    "uploads_empty": Text("尚无上传。", "No uploads yet."),
    "local_mode": Text(
        "本地模式：未配置用户，仅限本机访问",
        "Local mode: no users configured; this machine only",
    ),
    # --- navigation, login, roles (issue 5) ---
    "nav_section_dashboard": Text("看板", "Dashboard"),
    "nav_section_data": Text("数据与设置", "Data & settings"),
    "nav_upload": Text("数据上传", "Upload"),
    "nav_data_quality": Text("数据质量", "Data quality"),
    "nav_settings": Text("目标设置", "Targets"),
    "nav_users": Text("用户与审计", "Users & audit"),
    "yes": Text("是", "yes"),
    "no": Text("否", "no"),
    "local_mode_banner": Text(
        "本地模式：尚未创建任何用户，本机的每位访问者都是管理员，看板只对本机开放。"
        "若要在镇内网供多人使用，请先在“用户与审计”页或用 `python cli.py users add 用户名 --role admin` 创建管理员。",
        "Local mode: no users exist yet, so everyone on this machine is an admin and the app serves this machine "
        "only. To serve the town's intranet, first create an admin on the Users page or with "
        "`python cli.py users add NAME --role admin`.",
    ),
    "local_mode_short": Text("本地模式：尚无用户，只对本机开放", "Local mode: no users yet, this machine only"),
    "local_mode_sidebar": Text("本地模式（管理员）", "Local mode (admin)"),
    "local_mode_remote": Text(
        "本看板处于本地模式（尚未创建用户），只允许在服务器本机访问。请联系管理员创建用户账号。",
        "This app is in local mode (no users yet) and serves only the server itself. Ask the admin to create "
        "user accounts.",
    ),
    "login_title": Text("登录", "Sign in"),
    "login_name": Text("用户名", "User name"),
    "login_password": Text("密码", "Password"),
    "login_submit": Text("登录", "Sign in"),
    "login_missing": Text("请输入用户名和密码。", "Enter your user name and password."),
    "login_failed": Text("用户名或密码不正确。", "Wrong user name or password."),
    "login_locked": Text(
        "密码错误次数过多，请 {minutes} 分钟后再试。",
        "Too many wrong passwords; try again in {minutes} minutes.",
    ),
    "login_help": Text(
        "没有账号或忘记密码？请联系看板管理员（党政办）。",
        "No account, or forgot the password? Ask the app's admin.",
    ),
    "forbidden": Text(
        "您没有权限使用此页面：需要“{role}”角色，您的角色是“{mine}”。",
        "You may not use this page: it needs the role “{role}”; yours is “{mine}”.",
    ),
    "session_expired": Text(
        "登录已超时，请重新登录。",
        "Your session has expired; please sign in again.",
    ),
    "session_user_gone": Text(
        "您的账号已被管理员删除。",
        "Your account has been removed by an admin.",
    ),
    "logged_out": Text("已退出登录。", "Signed out."),
    "signed_in_as": Text("当前用户：{name}（{role}）", "Signed in as {name} ({role})"),
    "logout": Text("退出登录", "Sign out"),
    "sso_login": Text("使用单位统一身份认证登录", "Sign in with single sign-on"),
    "sso_logout": Text("退出统一身份认证", "Sign out of single sign-on"),
    "sso_not_authorised": Text(
        "统一身份认证账号 {email} 尚未在本看板中授权。请管理员在“用户与审计”页为该邮箱创建用户。",
        "The single-sign-on account {email} has no access here. Ask the admin to add a user with this e-mail.",
    ),
    "sso_broken": Text(
        "单点登录配置不完整或缺少组件（需安装 Authlib），详情已记录在服务器日志中；请联系管理员。",
        "Single sign-on is not set up completely (Authlib is needed); the details are in the server log. "
        "Please tell the administrator.",
    ),
    # --- upload page ---
    "upload_title": Text("数据上传", "Upload data"),
    "upload_intro": Text(
        "上传从政务服务平台导出的办件表、办理环节日志或事项目录。导入前会先预览并校验，"
        "您可以确认或修改列映射；单个文件不超过 {limit} MB、{rows:,} 行。",
        "Upload case exports, step logs or the service catalogue. Each file is previewed and validated before "
        "it loads, and you can confirm or correct the column mapping; up to {limit} MB and {rows:,} rows per file.",
    ),
    "upload_files": Text("选择或拖入文件（可多选）", "Choose or drop files (several at once)"),
    "upload_files_help": Text(
        "支持 CSV（UTF-8 / GBK 自动识别）、Excel（xlsx、xls）、Parquet、JSON Lines、XES（含 .xes.gz）。",
        "CSV (UTF-8 or GBK, detected), Excel (xlsx, xls), Parquet, JSON Lines, XES (.xes.gz too).",
    ),
    "upload_none": Text(
        "还没有选择文件。选择文件后，这里会显示识别结果、预览和校验报告。",
        "No file chosen yet. Once you choose one, its detection, preview and validation report appear here.",
    ),
    "up_too_large": Text(
        "文件大小 {size:.1f} MB，超过上限 {limit} MB。请按月份拆分导出后分别上传。",
        "The file is {size:.1f} MB, over the {limit} MB limit. Export it in parts (e.g. by month).",
    ),
    "up_sheet": Text("工作表", "Sheet"),
    "up_sheet_help": Text("默认读取第一个工作表。", "The first sheet unless you choose another."),
    "up_kind": Text("文件类型", "Kind"),
    "up_town": Text("导入到乡镇（街道）", "Load into town"),
    "up_town_new": Text("其他乡镇（输入名称）…", "Another town (type its name)…"),
    "up_town_name": Text("乡镇（街道）名称", "Town name"),
    "up_town_other": Text(
        "导入到：{town}（导入其他乡镇的数据请展开）", "Loading into {town} (expand for another town)"
    ),
    "up_town_help": Text(
        "文件中若有“乡镇”列，按每行所填乡镇导入；未填的行导入到这里选的乡镇。",
        "A file with a town column (乡镇) loads each row into its own town; rows without one go into this town.",
    ),
    "up_town_bad": Text(
        "乡镇名称不可用：最多 40 个字，不含斜杠或控制字符。",
        "Not a town name: at most 40 characters, no slashes or control characters.",
    ),
    "up_done_towns": Text("导入到：{towns}", "Loaded into: {towns}"),
    "up_kind_auto": Text("自动识别", "detect"),
    "up_saved_mapping": Text("使用已保存的映射", "Use a saved mapping"),
    "up_saved_none": Text("（不使用）", "(none)"),
    "up_saved_help": Text(
        "此前为同一平台的导出保存过列映射时，可直接选用。",
        "Reuse a column mapping saved for exports of the same platform.",
    ),
    "up_format": Text("格式", "Format"),
    "up_encoding": Text("编码", "Encoding"),
    "up_header_row": Text("表头所在行", "Header row"),
    "up_sample": Text("文件内容预览（前 {n} 行）", "Preview (first {n} rows)"),
    "up_pii_note": Text(
        "个人信息列（{columns}）不会存入数据库，预览中已遮盖。",
        "Personal-data columns ({columns}) are never stored; masked in the preview.",
    ),
    "up_mapping_title": Text("列映射", "Column mapping"),
    "up_mapping_help": Text(
        "为每个字段选择文件中的对应列；带 * 的为必填。系统已按列名自动填好，请核对。",
        "Pick the file's column for each field; * marks required ones. Pre-filled from the column names: check.",
    ),
    "up_not_used": Text("（不使用）", "(not used)"),
    "up_example": Text("例：", "e.g. "),
    "up_save_as": Text("另存为映射（可选）", "Save mapping as (optional)"),
    "up_save_as_hint": Text("例如：省平台办件导出", "e.g. province-platform-cases"),
    "up_apply_mapping": Text("应用映射并重新校验", "Apply mapping and re-check"),
    "up_mapping_saved": Text("已保存映射“{name}”。", "Saved the mapping “{name}”."),
    "up_report": Text("校验报告", "Validation report"),
    "up_rows_total": Text("数据行", "Data rows"),
    "up_rows_ok": Text("可导入", "Accepted"),
    "up_rows_rejected": Text("拒收", "Rejected"),
    "up_rows_skipped": Text("跳过", "Skipped"),
    "up_rows_skipped_help": Text("合计/总计行和空行。", "Total (合计) rows and blank rows."),
    "up_rows_warned": Text(
        "{n:,} 行有字段无法识别（{reasons}）：该字段将置空，这些行照常导入，行号与原值随上传保存。",
        "{n:,} rows have a field that cannot be read ({reasons}): it will be left empty and the rows load; "
        "row numbers and values are kept with the upload.",
    ),
    "up_reason": Text("拒收原因", "Reason"),
    "up_count": Text("行数", "Rows"),
    "up_rejects_first": Text("查看拒收行（前 {n} 行）", "Rejected rows (first {n})"),
    "up_download_rejects": Text("下载拒收行（Excel）", "Download rejected rows (Excel)"),
    "up_rejects_file": Text("拒收行", "rejected-rows"),
    "up_duplicate": Text(
        "此文件与上传 #{id} 内容完全相同，无需再次导入。",
        "This file is identical to upload #{id}; there is nothing new to load.",
    ),
    "up_duplicate_skipped": Text(
        "此文件与上传 #{id} 内容完全相同，已跳过。",
        "Identical to upload #{id}; skipped.",
    ),
    "up_import": Text("导入", "Load"),
    "up_stage_hash": Text("正在计算文件指纹…", "Fingerprinting the file…"),
    "up_stage_read": Text("正在读取文件…", "Reading the file…"),
    "up_stage_validate": Text("正在规范化与校验…", "Normalising and validating…"),
    "up_stage_write": Text("正在写入数据库…", "Writing to the database…"),
    "up_stage_finish": Text("正在保存拒收行与上传记录…", "Saving rejected rows and the history…"),
    "up_stage_done": Text("完成", "Done"),
    "up_done": Text(
        "已导入为上传 #{id}：导入 {loaded:,} 行，拒收 {rejected:,} 行，跳过 {skipped:,} 行；办件 {cases:,} 件，"
        "环节 {events:,} 条。"
        "看板已更新。",
        "Loaded as upload #{id}: {loaded:,} rows loaded, {rejected:,} rejected, {skipped:,} skipped; "
        "{cases:,} cases, {events:,} events. The dashboard is up to date.",
    ),
    "up_unexpected": Text(
        "操作未完成：发生了意外错误，数据库没有改变。请把文件和时间告诉管理员（详情已写入服务器日志）。",
        "Not done: an unexpected error occurred and the database is unchanged. Tell the admin the file and time "
        "(details are in the server log).",
    ),
    "up_catalog_title": Text("上传事项目录", "Uploading the service catalogue"),
    "up_catalog_help": Text(
        "事项目录（事项编码、事项名称、实施部门、是否网上可办、是否全程网办、承诺时限、法定时限、最多跑动次数）"
        "与办件表一样在上方上传，类型会自动识别为“事项目录”，也可手动选择。每次上传的目录替换上一版。",
        "The service catalogue (item code, name, department, online-capable, fully online-capable, promised and "
        "statutory limits, maximum visits) is uploaded above like the case files; its kind is detected as "
        "catalogue, or choose it. Each uploaded catalogue replaces the previous one.",
    ),
    "up_catalog_template": Text("下载事项目录模板", "Download a catalogue template"),
    "up_recent": Text("最近的上传", "Recent uploads"),
    "up_all_history": Text("全部上传记录（可删除上传）", "All uploads (remove one there)"),
    "up_to_overview": Text("查看总览", "Go to the overview"),
    # --- the upload's impact, before anything is written (ingest/impact.py, ui/impact.py) ---
    "up_impact_title": Text("导入后会有什么变化", "What loading this file will change"),
    "up_impact_period": Text("本文件覆盖 {first} 至 {last}", "The file covers {first} to {last}"),
    "up_impact_new": Text("新办件 {n:,}", "{n:,} new cases"),
    "up_impact_held": Text("更新已有办件 {n:,}", "{n:,} cases already held"),
    "up_impact_older": Text(
        "（其中 {n:,} 件比库中已有的记录旧，不计入）",
        " ({n:,} of them older than what is held: they will not count)",
    ),
    "up_impact_events": Text(
        "{n:,} 条环节（{cases:,} 件办件）比库中已有的环节旧，将保存但不计入。",
        "{n:,} events ({cases:,} cases) are older than the events held: kept, but they will not count.",
    ),
    "up_impact_month": Text("月份", "Month"),
    "up_impact_before": Text("导入前", "Before"),
    "up_impact_after": Text("导入后", "After"),
    "up_impact_change": Text("变化", "Change"),
    "up_impact_no_month": Text("无申请时间", "no submission time"),
    "up_impact_unchanged": Text(
        "各月办件数不变（按申请月份）。",
        "The cases per month (of submission) stay as they are.",
    ),
    "up_impact_months_caption": Text(
        "按申请月份统计的办件数，即月度指标的口径。",
        "Cases by month of submission, the basis of the monthly figures.",
    ),
    "up_impact_items": Text(
        "事项目录中没有的事项：{n:,} 个（共 {cases:,} 件）：{names}",
        "Items not in the service catalogue: {n:,} ({cases:,} cases): {names}",
    ),
    "up_impact_departments": Text(
        "事项目录中没有的部门：{n:,} 个（共 {cases:,} 件）：{names}",
        "Departments not in the service catalogue: {n:,} ({cases:,} cases): {names}",
    ),
    "up_impact_name": Text("{name}（{n:,} 件）", "{name} ({n:,})"),
    "up_impact_more": Text("等", ", …"),
    "up_impact_all_listed": Text(
        "所有部门和事项都在事项目录中。",
        "Every department and item is in the service catalogue.",
    ),
    "up_impact_no_catalog": Text(
        "尚未导入事项目录，无法核对部门和事项。",
        "No service catalogue loaded yet: departments and items cannot be checked.",
    ),
    "up_impact_overlap": Text(
        "本文件与已导入的月份重叠：{months}。同一办件只计一次，不会重复计数。",
        "This file overlaps months already loaded: {months}. A case counts once; nothing is counted twice.",
    ),
    "up_impact_overlap_month": Text(
        "{month}已有 {before:,} 件，本文件将更新其中 {updated:,} 件",
        "{month} holds {before:,} cases, {updated:,} of which the file updates",
    ),
    "up_impact_overlap_new": Text("、新增 {n:,} 件", " and it adds {n:,}"),
    "up_impact_overlap_more": Text("等 {n} 个月", "and {n} more months"),
    "up_impact_month_label": Text("{year}年{month}月", "{name} {year}"),
    "up_impact_catalog": Text(
        "本目录 {items:,} 个事项：新增 {new:,} · 有变动 {changed:,} · 未变 {unchanged:,}",
        "This catalogue has {items:,} items: {new:,} new · {changed:,} changed · {unchanged:,} unchanged",
    ),
    "up_impact_catalog_new": Text("新增：{names}", "New: {names}"),
    "up_impact_catalog_changed": Text("有变动：{names}", "Changed: {names}"),
    "up_impact_catalog_dropped": Text(
        "现有目录中的 {n:,} 个事项不在本文件中，导入后将不再列出：{names}",
        "{n:,} items of the catalogue in use are not in this file and will no longer be listed: {names}",
    ),
    "up_impact_catalog_cases": Text(
        "导入后，库中 {after:,} 件办件的事项不在目录中（导入前 {before:,} 件）。",
        "After the load, {after:,} cases have an item the catalogue does not list (now {before:,}).",
    ),
    "up_impact_catalog_cases_first": Text(
        "导入后，库中 {after:,} 件办件的事项不在目录中。",
        "After the load, {after:,} cases have an item the catalogue does not list.",
    ),
    # --- upload history ---
    "uploads_pick": Text("选择上传", "Upload"),
    "uploads_rejects_title": Text("下载拒收行", "Download rejected rows"),
    "uploads_no_rejects": Text("现有上传都没有拒收行。", "No upload has rejected rows."),
    "uploads_remove_title": Text("删除上传", "Remove an upload"),
    "uploads_remove_help": Text(
        "删除一次上传及其带入的全部数据；被它覆盖的较早版本会重新生效。",
        "Removes an upload with everything it brought; earlier versions it replaced count again.",
    ),
    "uploads_remove": Text("删除此上传…", "Remove this upload…"),
    "uploads_remove_confirm": Text(
        "确定删除上传 #{id}（{file}）吗？它带入的 {rows} 行（办件 {cases} 件、环节 {events} 条）将从看板中移除。"
        "此操作会记入审计日志。",
        "Remove upload #{id} ({file})? Its {rows} rows ({cases} cases, {events} events) leave the dashboard. "
        "This is recorded in the audit log.",
    ),
    "uploads_remove_yes": Text("确认删除", "Yes, remove"),
    "uploads_remove_no": Text("取消", "Cancel"),
    "uploads_removed": Text("已删除上传 #{id}（{file}）。", "Removed upload #{id} ({file})."),
    # --- data quality ---
    "dq_title": Text("数据质量", "Data quality"),
    "dq_no_data": Text("还没有办件数据。", "No cases yet."),
    "dq_intro": Text(
        "当前共有 {cases} 件办件（每个办件只计最新版本）。下面检查字段是否齐全、有哪些行被拒收、哪些月份或部门的数据可能缺失。"
        "本页检查全部数据，不受筛选条件影响。",
        "{cases} current cases. Below: how complete the fields are, which rows were rejected, and which months "
        "or departments may be missing data. This page checks all data, whatever the filters.",
    ),
    "dq_coverage": Text("字段覆盖率", "Field coverage"),
    "dq_field": Text("字段", "Field"),
    "dq_share": Text("有值比例", "Share with a value"),
    "dq_filled": Text("有值办件", "Cases with a value"),
    "dq_basis": Text("统计范围", "Out of"),
    "dq_coverage_weak": Text(
        "以下字段覆盖率低于 80%，依赖它们的指标只反映部分办件：{fields}",
        "Fields below 80% coverage; KPIs using them reflect only part of the cases: {fields}",
    ),
    "dq_rejects": Text("拒收行（按上传月份与原因）", "Rejected rows by upload month and reason"),
    "dq_rejects_none": Text("现有上传没有拒收行。", "No rejected rows in the current uploads."),
    "dq_warnings": Text("已载入但字段置空的行", "Loaded rows with a field left empty"),
    "dq_warnings_field": Text("字段", "Field"),
    "dq_warnings_reason": Text("原因", "Reason"),
    "dq_warnings_uploads": Text("涉及上传", "Uploads"),
    "dq_warnings_help": Text(
        "这些行照常计入各项指标，只有所列字段无法识别而置空（覆盖率因此计为缺失）；行号与原值随各次上传保存。",
        "These rows count in every figure; only the listed field could not be read and was left empty (so the "
        "coverage counts it as missing). Row numbers and values are kept with each upload.",
    ),
    "dq_rejects_help": Text(
        "拒收行的明细可在“上传记录”页下载。",
        "Download the rejected rows themselves on the Uploads page.",
    ),
    "dq_thin": Text("办件量异常偏少的月份与部门", "Months and departments with suspiciously few cases"),
    "dq_thin_none": Text(
        "没有哪个月的办件量低于月度中位数的 {share}。",
        "No month has fewer than {share} of the median month's cases.",
    ),
    "dq_thin_found": Text(
        "{n} 个月的办件量低于月度中位数的 {share}，可能漏导了数据：",
        "{n} month(s) have fewer than {share} of the median month's cases; data may be missing:",
    ),
    "dq_thin_departments": Text("按部门", "By department"),
    "dq_thin_departments_none": Text(
        "没有部门的月办件量明显低于其自身的中位数。",
        "No department has a month far below its own median.",
    ),
    "dq_thin_help": Text(
        "判定标准：办件量低于中位数的 {share}（含没有任何办件的月份）。部门与其自身比较，需有至少 {months} 个月数据、"
        "月中位数不少于 {median} 件。最近一个月可能尚未结束或尚未导入完整。",
        "Rule: fewer than {share} of the median month (months with no case included). Departments are compared "
        "with themselves, given at least {months} months of data and a median of at least {median} cases. The latest "
        "month may not be over, or not fully loaded yet.",
    ),
    "dq_median": Text("中位数", "Median"),
    "dq_ratio": Text("为中位数的", "Of median"),
    "dq_note": Text("备注", "Note"),
    "dq_latest": Text("最近一个月，可能尚未结束", "latest month, may not be over"),
    "dq_missing": Text("缺少部门或事项的办件", "Cases without a department or item"),
    "dq_no_department": Text("缺少部门", "No department"),
    "dq_no_item": Text("缺少事项", "No item"),
    "dq_neither": Text("两者皆缺", "Neither"),
    "dq_missing_none": Text(
        "所有办件都填写了部门和事项。",
        "Every case has a department and an item filled in.",
    ),
    "dq_catalog": Text("不在事项目录中的事项与部门", "Items and departments not in the service catalogue"),
    "dq_catalog_none": Text(
        "尚未导入事项目录，无法检查办件的事项和部门是否在目录中（网上可办率、承诺时限压缩率等指标也需要它）。"
        "事项目录可在“数据上传”页上传，页面上有模板可下载。",
        "No service catalogue has been loaded, so whether the cases' items and departments are in it cannot be "
        "checked (KPIs such as the online-capable rate need it too). Upload the catalogue on the Upload page, which "
        "offers a template.",
    ),
    "dq_catalog_upload_link": Text("去上传事项目录", "Upload the catalogue"),
    "dq_catalog_unknown_items": Text("不在目录的事项", "Items not in catalogue"),
    "dq_catalog_item_cases": Text("事项不在目录的办件", "Cases with such an item"),
    "dq_catalog_unknown_departments": Text("不在目录的部门", "Departments not in catalogue"),
    "dq_catalog_department_cases": Text("部门不在目录的办件", "Cases with such a department"),
    "dq_catalog_items_found": Text(
        "{items} 个事项不在事项目录中，涉及 {cases} 件办件（占有事项办件的 {share}）：这些办件的网上可办、"
        "承诺时限等无法按目录核对。常见原因是事项名称或编码与目录写法不同，或目录需要更新。",
        "{items} item(s) are not in the service catalogue, with {cases} case(s) ({share} of the cases with an "
        "item): their online capability and time limits cannot be checked against the catalogue. Usually the item is "
        "named or coded differently from the catalogue, or the catalogue needs updating.",
    ),
    "dq_catalog_departments_found": Text(
        "{departments} 个部门不在事项目录中，涉及 {cases} 件办件（占有部门办件的 {share}），可能是部门名称写法与目录不同。",
        "{departments} department(s) are not in the service catalogue, with {cases} case(s) ({share} of the cases "
        "with a department); perhaps the name is written differently from the catalogue.",
    ),
    "dq_catalog_all_known": Text(
        "所有办件的事项和部门都在事项目录中。",
        "Every case's item and department are in the service catalogue.",
    ),
    "dq_catalog_items_known": Text(
        "所有办件的事项都在事项目录中。",
        "Every case's item is in the service catalogue.",
    ),
    "dq_catalog_departments_known": Text(
        "所有办件的部门都在事项目录中。",
        "Every case's department is in the service catalogue.",
    ),
    "dq_catalog_no_departments": Text(
        "事项目录没有填写实施部门，因此只核对事项，不核对部门。",
        "The service catalogue names no department, so only items are checked, not departments.",
    ),
    "dq_catalog_top_items": Text(
        "办件最多的不在目录事项（列出 {shown} 项，共 {n} 项）",
        "Items not in the catalogue with the most cases ({shown} of {n} listed)",
    ),
    "dq_catalog_top_departments": Text(
        "不在目录的部门（列出 {shown} 个，共 {n} 个）",
        "Departments not in the catalogue ({shown} of {n} listed)",
    ),
    "dq_catalog_help": Text(
        "核对依据：当前事项目录（{items} 个事项、{departments} 个部门）。办件的事项编码与目录中的编码相同，或事项名称与"
        "目录中的名称相同，即视为在目录中；部门以目录中各事项所列的实施部门为准。这些办件照常计入办件量等指标。"
        "缺少部门或事项的办件见上一节，这里不重复计数。",
        "Checked against the current service catalogue ({items} items, {departments} departments). A case's item "
        "is in the catalogue when its item code equals a catalogue code or its item name a catalogue name; a "
        "department is in it when some catalogue item names it. These cases still count in every figure. Cases "
        "without a department or item are in the section above and not counted again here.",
    ),
    "dq_item_code": Text("事项编码", "Item code"),
    "dq_items": Text("事项数", "Items"),
    "dq_first_month": Text("最早月份", "First month"),
    "dq_last_month": Text("最近月份", "Last month"),
    "dq_missing_sample": Text("查看这些办件（最多 {n} 件）", "Show these cases (up to {n})"),
    "dq_upload": Text("上传编号", "Upload"),
    "dq_file": Text("文件", "File"),
    "dq_case_id": Text("办件编号", "Case ID"),
    "dq_submitted": Text("申请时间", "Submitted"),
    "dq_department": Text("部门", "Department"),
    "dq_item": Text("事项", "Item"),
    "dq_row": Text("文件行号", "Row in file"),
    # --- settings: targets ---
    "settings_title": Text("指标目标值", "KPI targets"),
    "settings_intro": Text(
        "看板按目标值为指标着色（达标 / 未达标）。未设置时使用系统默认值；可为全镇设置，也可为单个部门单独设置。",
        "The dashboard colours each KPI by its target. Unset targets use the defaults; set one for the whole "
        "town or for a single department.",
    ),
    "settings_kpi": Text("指标", "KPI"),
    "settings_direction": Text("方向", "Direction"),
    "settings_higher": Text("越高越好", "higher is better"),
    "settings_lower": Text("越低越好", "lower is better"),
    "settings_default": Text("默认目标", "Default"),
    "settings_current": Text("当前目标", "Target"),
    "settings_source": Text("设置人 · 时间", "Set by · at"),
    "settings_is_default": Text("默认值", "default"),
    "settings_departments": Text("部门单设数", "Department targets"),
    "settings_edit": Text("修改目标值", "Change a target"),
    "settings_scope": Text("适用范围", "For"),
    "settings_town": Text("全镇（总体）", "the whole town"),
    "settings_value_rate": Text("目标值（%）", "Target (%)"),
    "settings_value_days": Text("目标值（工作日）", "Target (working days)"),
    "settings_value_count": Text("目标值（件）", "Target (count)"),
    "settings_now": Text("现行目标：{value}（{source}）", "Current target: {value} ({source})"),
    "settings_src_own": Text("已单独设置", "set here"),
    "settings_src_town": Text("沿用全镇目标", "the town's target"),
    "settings_src_default": Text("系统默认", "the default"),
    "settings_save": Text("保存目标", "Save target"),
    "settings_reset": Text("恢复默认", "Back to default"),
    "settings_saved": Text(
        "已将“{kpi}”在“{scope}”的目标设为 {value}。",
        "Set the target of “{kpi}” for {scope} to {value}.",
    ),
    "settings_cleared": Text("“{kpi}”已恢复默认目标。", "“{kpi}” is back to its default target."),
    "settings_dept_targets": Text("部门单独设置的目标", "Department targets"),
    # --- users and audit ---
    "users_title": Text("用户与审计", "Users and audit log"),
    "users_none": Text(
        "还没有用户（本地模式）。创建第一个管理员后，所有人都需要登录。",
        "No users yet (local mode). Once the first admin exists, everyone signs in.",
    ),
    "users_name": Text("用户名", "User name"),
    "users_role": Text("角色", "Role"),
    "users_email": Text("单点登录邮箱（可选）", "SSO e-mail (optional)"),
    "users_email_help": Text(
        "配置了统一身份认证（st.login）时，以此邮箱登录的人获得该用户的角色。",
        "With single sign-on configured, whoever signs in with this e-mail gets this user's role.",
    ),
    "users_password": Text("有密码", "Password"),
    "users_password_help": Text(
        "至少 8 个字符。仅用单点登录的账号可留空（须填邮箱）。",
        "At least 8 characters. Leave empty for an SSO-only account (then an e-mail is needed).",
    ),
    "users_confirm": Text("再次输入密码", "Repeat the password"),
    "users_mismatch": Text("两次输入的密码不一致。", "The two passwords differ."),
    "users_created": Text("创建时间", "Created"),
    "users_created_by": Text("创建人", "Created by"),
    "users_add": Text("新增用户", "Add a user"),
    "users_first_admin": Text(
        "第一个用户必须是管理员。创建后本地模式结束，您需要用这个账号登录。",
        "The first user must be an admin. Once created, local mode ends and you sign in with it.",
    ),
    "users_add_submit": Text("创建用户", "Create user"),
    "users_added": Text("已创建用户 {name}。", "Created the user {name}."),
    "users_added_first": Text(
        "已创建管理员 {name}，本地模式已结束，请用该账号登录。",
        "Created the admin {name}; local mode has ended: sign in with it.",
    ),
    "users_manage": Text("管理用户", "Manage a user"),
    "users_role_submit": Text("修改角色", "Change role"),
    "users_role_done": Text("{name} 的角色已改为“{role}”。", "{name} is now {role}."),
    "users_new_password": Text("新密码", "New password"),
    "users_pw_submit": Text("重置密码", "Reset password"),
    "users_pw_done": Text("已重置 {name} 的密码。", "Reset the password of {name}."),
    "users_mail_submit": Text("保存邮箱", "Save e-mail"),
    "users_mail_done": Text("已更新 {name} 的邮箱。", "Updated the e-mail of {name}."),
    "users_remove": Text("删除用户 {name}…", "Remove {name}…"),
    "users_remove_confirm": Text(
        "确定删除用户 {name} 吗？此操作会记入审计日志。",
        "Remove the user {name}? This is recorded in the audit log.",
    ),
    "users_remove_self": Text(
        "这是您自己的账号，删除后您将立即退出。",
        "This is your own account: you will be signed out at once.",
    ),
    "users_removed": Text("已删除用户 {name}。", "Removed the user {name}."),
    "audit_title": Text("审计日志", "Audit log"),
    "audit_action": Text("操作", "Action"),
    "audit_all": Text("全部操作", "all actions"),
    "audit_when": Text("时间", "When"),
    "audit_who": Text("操作人", "Who"),
    "audit_target": Text("对象", "Target"),
    "audit_details": Text("详情", "Details"),
    "audit_empty": Text("暂无记录。", "Nothing recorded yet."),
    # --- monthly snapshots (issue 6) ---
    "nav_snapshots": Text("月度快照", "Monthly snapshots"),
    "snap_title": Text("月度快照", "Monthly snapshots"),
    "snap_intro": Text(
        "发布某月的快照会冻结该月的指标、部门与事项统计、瓶颈、摆设事项、超期办件和不含个人信息的办件明细，"
        "并生成 PDF、网页版、Excel 与数据文件。发布后数字不再改变；如需更正，请重新发布为新版本。",
        "Publishing a month freezes its KPIs, department and item tables, bottlenecks, services online in name "
        "only, overdue cases and a case list without personal data, and makes a PDF, a web page, an Excel workbook "
        "and data files. Published figures never change; to correct them, publish a new version.",
    ),
    "snap_scope": Text(
        "快照按全镇、整月统计，不受侧栏筛选的影响。",
        "Snapshots cover the whole town and the whole month; the sidebar filters do not apply.",
    ),
    "snap_scope_towns": Text(
        "快照按所选乡镇（或全县）、整月统计，不受侧栏筛选的影响。",
        "A snapshot covers the chosen town (or the county) and the whole month; the sidebar filters do not apply.",
    ),
    "snap_no_data": Text(
        "数据库中还没有办件数据，暂时无法发布快照。",
        "There are no cases in the database yet, so there is nothing to publish.",
    ),
    "snap_months": Text("各月份的快照状态", "Snapshot status by month"),
    "snap_col_month": Text("月份", "Month"),
    "snap_col_cases": Text("当前办件量", "Cases now"),
    "snap_col_status": Text("状态", "Status"),
    "snap_col_versions": Text("版本数", "Versions"),
    "snap_col_published": Text("最新发布时间", "Last published"),
    "snap_col_by": Text("发布人", "By"),
    "snap_status_none": Text("未发布", "not published"),
    "snap_status_published": Text("已发布（第 {version} 版）", "published (version {version})"),
    "snap_publish_title": Text("发布快照", "Publish a snapshot"),
    "snap_note": Text("说明（可选；重新发布时请写明更正原因）", "Note (optional; for a re-issue, say why)"),
    "snap_note_placeholder": Text("例如：补录了 10 月 28 日的窗口办件", "e.g. added the desk cases of 28 Oct"),
    "snap_town": Text("封面上的镇名", "Town on the cover"),
    "snap_scope_pick": Text("快照范围（乡镇或全县）", "Snapshots of (a town, or the county)"),
    "snap_scope_county": Text("全县（乡镇对比）", "County (towns compared)"),
    "snap_county_note": Text(
        "全县快照：各乡镇主要指标对比表、排名和各乡镇主要指标（PDF、HTML、Excel 和数据 JSON）。",
        "County snapshot: the town table, the ranking and each town's headline KPIs (PDF, HTML, Excel, figures JSON).",
    ),
    "snap_publish_button": Text("发布 {month} 快照", "Publish the {month} snapshot"),
    "snap_reissue_button": Text("重新发布为第 {version} 版", "Re-issue as version {version}"),
    "snap_reissue_info": Text(
        "{month} 已发布第 {version} 版。重新发布会生成第 {next} 版，与原版本并列保存，原版本不变。",
        "{month} has version {version}. Re-issuing makes version {next}, kept beside the earlier ones, which "
        "stay unchanged.",
    ),
    "snap_month_open": Text(
        "{month} 尚未结束，现在发布的快照只包含截至目前的数据。",
        "{month} is not over yet: a snapshot published now holds only the data so far.",
    ),
    "snap_publishing": Text(
        "正在生成快照（PDF、网页版、Excel 与数据文件），约需十几秒…",
        "Making the snapshot (PDF, web page, Excel and data files); this takes a few seconds…",
    ),
    "snap_published": Text("已发布 {month} 第 {version} 版快照。", "Published version {version} of {month}."),
    "snap_unexpected": Text(
        "发布未完成：发生了意外错误，没有保存任何内容。请把月份和时间告诉管理员（详情已写入服务器日志）。",
        "Not published: an unexpected error occurred and nothing was saved. Tell the admin the month and time "
        "(details are in the server log).",
    ),
    "snap_viewer_note": Text(
        "发布快照需要“分析员”或“管理员”角色；所有人都可以下载已发布的快照。",
        "Publishing needs the analyst or admin role; everyone may download published snapshots.",
    ),
    "snap_last_published": Text(
        "上个月（{month}）已发布第 {version} 版：{by}，{at}（{zone}）。",
        "Last month ({month}) is published, version {version}: by {by}, {at} ({zone}).",
    ),
    "snap_last_missing": Text("上个月（{month}）尚未发布。", "Last month ({month}) is not published yet."),
    "snap_last_no_data": Text(
        "上个月（{month}）还没有办件数据，上传该月的导出文件后才能发布。",
        "Last month ({month}) has no cases yet: it can be published once its exports are uploaded.",
    ),
    "snap_last_no_data_analyst": Text("可在“数据上传”页上传。", "Upload them on the Upload page."),
    "snap_last_no_data_viewer": Text("请联系分析员上传。", "Ask an analyst to upload them."),
    "snap_last_missing_analyst": Text("可在下方“发布快照”中发布。", "Publish it below."),
    "snap_last_missing_viewer": Text("请联系分析员发布。", "Ask an analyst to publish it."),
    "snap_run_title": Text("定时发布上次运行", "Last scheduled run"),
    "snap_run_published": Text("已发布 {month} 第 {version} 版", "published {month}, version {version}"),
    "snap_run_skipped": Text(
        "{month} 已发布第 {version} 版，无需操作",
        "{month} was already published (version {version}); nothing to do",
    ),
    "snap_run_failed": Text("{month} 发布失败：{reason}", "publishing {month} failed: {reason}"),
    "snap_run_retry": Text("下次运行会自动重试。", "The next run tries again."),
    "snap_run_no_retry": Text("不会自动重试。", "It is not retried by itself."),
    "zone_beijing": Text("北京时间", "Beijing time"),
    "snap_downloads": Text("下载", "Downloads"),
    "snap_none_yet": Text(
        "还没有发布任何快照。",
        "No snapshot has been published yet.",
    ),
    "snap_pick_month": Text("已发布的月份", "Published month"),
    "snap_version_title": Text("{month} · 第 {version} 版", "{month} · version {version}"),
    "snap_latest": Text("（最新）", " (latest)"),
    "snap_meta": Text(
        "发布于 {at}，发布人 {by}；数据版本 {dv}",
        "Published {at} by {by}; data version {dv}",
    ),
    "snap_note_label": Text("说明", "Note"),
    "snap_changes": Text("与第 {version} 版相比的变化", "Changes since version {version}"),
    "snap_no_changes": Text("各项指标数值与上一版相同。", "No KPI figure differs from the previous version."),
    "snap_before": Text("原值", "Before"),
    "snap_after": Text("新值", "After"),
    "snap_compare_title": Text(
        "月度对比（取自已发布的冻结数字）",
        "Month over month (from the frozen figures)",
    ),
    "snap_compare_help": Text(
        "对比两份已发布快照中的数字，不会重新计算，与上报的报告一致。",
        "Compares the figures of two published snapshots as published, without recomputing them.",
    ),
    "snap_compare_this": Text("本期", "This"),
    "snap_compare_other": Text("对比期", "Compared with"),
    "snap_compare_need_two": Text(
        "至少发布两个月份的快照后才能对比。",
        "Publish snapshots of at least two months to compare them.",
    ),
    "snap_kpi": Text("指标", "KPI"),
    "snap_change": Text("变化", "Change"),
    "snap_target": Text("目标", "Target"),
    "snap_file_pdf": Text("PDF 报告", "PDF report"),
    "snap_file_html": Text("网页版（HTML）", "Web page (HTML)"),
    "snap_file_xlsx": Text("Excel 工作簿", "Excel workbook"),
    "snap_file_parquet": Text("办件数据（Parquet）", "Cases (Parquet)"),
    "snap_file_csv": Text("办件数据（CSV）", "Cases (CSV)"),
    "snap_file_json": Text("指标数据（JSON）", "Figures (JSON)"),
    "snap_file_zip": Text("全部文件（zip）", "All files (zip)"),
}

TEXT.update(DASHBOARD_TEXT)
TEXT.update(TOWN_TEXT)
TEXT.update(JOURNEY_TEXT)


def lang() -> str:
    """The chosen language: the session's choice, else ?lang= in the URL, else Chinese."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", "zh")
        st.session_state["lang"] = wanted if wanted in LANGS else "zh"
    return st.session_state["lang"]


def t(key: str) -> str:
    return TEXT[key](lang())
