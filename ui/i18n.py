"""UI text in Chinese (default) and English; pages ask for text by key."""

from __future__ import annotations

import streamlit as st

from ui.i18n_dashboard import DASHBOARD_TEXT

LANGS = {"zh": "中文", "en": "English"}

TEXT: dict[str, dict[str, str]] = {
    "app_title": {"zh": "一网通办效能监测看板", "en": "E-Gov Service Monitor"},
    "nav_overview": {"zh": "总览", "en": "Overview"},
    "nav_uploads": {"zh": "上传记录", "en": "Uploads"},
    "language": {"zh": "语言 / Language", "en": "Language / 语言"},
    "month": {"zh": "月份", "en": "Month"},
    "cases": {"zh": "办件量", "en": "Cases"},
    "online_rate": {"zh": "网办率", "en": "Online rate"},
    "median_days": {"zh": "办理时长中位数", "en": "Median processing time"},
    "workdays": {"zh": "个工作日", "en": "working days"},
    "natural_days": {"zh": "自然日", "en": "natural days"},
    "of": {"zh": "／", "en": " of "},
    "no_data": {
        "zh": "数据库中还没有办件数据。请用 `python cli.py ingest 文件` 导入平台导出的办件表，"
        "或用 `python cli.py demo` 载入演示数据。",
        "en": "No cases in the database yet. Load an export with `python cli.py ingest FILE`, "
        "or the demo data with `python cli.py demo`.",
    },
    "unknown": {"zh": "未知", "en": "unknown"},
    "trend_title": {"zh": "近 12 个月办件量与网办率", "en": "Cases and online rate, last 12 months"},
    "data_source": {"zh": "数据库", "en": "Database"},
    "uploads_title": {"zh": "上传记录", "en": "Upload history"},
    "uploads_empty": {"zh": "尚无上传。", "en": "No uploads yet."},
    "local_mode": {
        "zh": "本地模式：未配置用户，仅限本机访问",
        "en": "Local mode: no users configured; this machine only",
    },
    # --- navigation, login, roles (issue 5) ---
    "nav_section_dashboard": {"zh": "看板", "en": "Dashboard"},
    "nav_section_data": {"zh": "数据与设置", "en": "Data & settings"},
    "nav_upload": {"zh": "数据上传", "en": "Upload"},
    "nav_data_quality": {"zh": "数据质量", "en": "Data quality"},
    "nav_settings": {"zh": "目标设置", "en": "Targets"},
    "nav_users": {"zh": "用户与审计", "en": "Users & audit"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "local_mode_banner": {
        "zh": "本地模式：尚未创建任何用户，本机的每位访问者都是管理员，看板只对本机开放。"
        "若要在镇内网供多人使用，请先在“用户与审计”页或用 `python cli.py users add 用户名 --role admin` 创建管理员。",
        "en": "Local mode: no users exist yet, so everyone on this machine is an admin and the app serves this machine "
        "only. To serve the town's intranet, first create an admin on the Users page or with "
        "`python cli.py users add NAME --role admin`.",
    },
    "local_mode_short": {"zh": "本地模式：尚无用户，只对本机开放", "en": "Local mode: no users yet, this machine only"},
    "local_mode_sidebar": {"zh": "本地模式（管理员）", "en": "Local mode (admin)"},
    "local_mode_remote": {
        "zh": "本看板处于本地模式（尚未创建用户），只允许在服务器本机访问。请联系管理员创建用户账号。",
        "en": "This app is in local mode (no users yet) and serves only the server itself. Ask the admin to create "
        "user accounts.",
    },
    "login_title": {"zh": "登录", "en": "Sign in"},
    "login_name": {"zh": "用户名", "en": "User name"},
    "login_password": {"zh": "密码", "en": "Password"},
    "login_submit": {"zh": "登录", "en": "Sign in"},
    "login_missing": {"zh": "请输入用户名和密码。", "en": "Enter your user name and password."},
    "login_failed": {"zh": "用户名或密码不正确。", "en": "Wrong user name or password."},
    "login_locked": {
        "zh": "密码错误次数过多，请 {minutes} 分钟后再试。",
        "en": "Too many wrong passwords; try again in {minutes} minutes.",
    },
    "login_help": {
        "zh": "没有账号或忘记密码？请联系看板管理员（党政办）。",
        "en": "No account, or forgot the password? Ask the app's admin.",
    },
    "forbidden": {
        "zh": "您没有权限使用此页面：需要“{role}”角色，您的角色是“{mine}”。",
        "en": "You may not use this page: it needs the role “{role}”; yours is “{mine}”.",
    },
    "session_expired": {
        "zh": "登录已超时，请重新登录。",
        "en": "Your session has expired; please sign in again.",
    },
    "session_user_gone": {
        "zh": "您的账号已被管理员删除。",
        "en": "Your account has been removed by an admin.",
    },
    "logged_out": {"zh": "已退出登录。", "en": "Signed out."},
    "signed_in_as": {"zh": "当前用户：{name}（{role}）", "en": "Signed in as {name} ({role})"},
    "logout": {"zh": "退出登录", "en": "Sign out"},
    "sso_login": {"zh": "使用单位统一身份认证登录", "en": "Sign in with single sign-on"},
    "sso_logout": {"zh": "退出统一身份认证", "en": "Sign out of single sign-on"},
    "sso_not_authorised": {
        "zh": "统一身份认证账号 {email} 尚未在本看板中授权。请管理员在“用户与审计”页为该邮箱创建用户。",
        "en": "The single-sign-on account {email} has no access here. Ask the admin to add a user with this e-mail.",
    },
    "sso_broken": {
        "zh": "单点登录配置不完整或缺少组件（需安装 Authlib），详情已记录在服务器日志中；请联系管理员。",
        "en": "Single sign-on is not set up completely (Authlib is needed); the details are in the server log. "
        "Please tell the administrator.",
    },
    # --- upload page ---
    "upload_title": {"zh": "数据上传", "en": "Upload data"},
    "upload_intro": {
        "zh": "上传从政务服务平台导出的办件表、办理环节日志或事项目录。导入前会先预览并校验，"
        "您可以确认或修改列映射；单个文件不超过 {limit} MB、{rows:,} 行。",
        "en": "Upload case exports, step logs or the service catalogue. Each file is previewed and validated before "
        "it loads, and you can confirm or correct the column mapping; up to {limit} MB and {rows:,} rows per file.",
    },
    "upload_files": {"zh": "选择或拖入文件（可多选）", "en": "Choose or drop files (several at once)"},
    "upload_files_help": {
        "zh": "支持 CSV（UTF-8 / GBK 自动识别）、Excel（xlsx、xls）、Parquet、JSON Lines、XES（含 .xes.gz）。",
        "en": "CSV (UTF-8 or GBK, detected), Excel (xlsx, xls), Parquet, JSON Lines, XES (.xes.gz too).",
    },
    "upload_none": {
        "zh": "还没有选择文件。选择文件后，这里会显示识别结果、预览和校验报告。",
        "en": "No file chosen yet. Once you choose one, its detection, preview and validation report appear here.",
    },
    "up_too_large": {
        "zh": "文件大小 {size:.1f} MB，超过上限 {limit} MB。请按月份拆分导出后分别上传。",
        "en": "The file is {size:.1f} MB, over the {limit} MB limit. Export it in parts (e.g. by month).",
    },
    "up_sheet": {"zh": "工作表", "en": "Sheet"},
    "up_sheet_help": {"zh": "默认读取第一个工作表。", "en": "The first sheet unless you choose another."},
    "up_kind": {"zh": "文件类型", "en": "Kind"},
    "up_kind_auto": {"zh": "自动识别", "en": "detect"},
    "up_saved_mapping": {"zh": "使用已保存的映射", "en": "Use a saved mapping"},
    "up_saved_none": {"zh": "（不使用）", "en": "(none)"},
    "up_saved_help": {
        "zh": "此前为同一平台的导出保存过列映射时，可直接选用。",
        "en": "Reuse a column mapping saved for exports of the same platform.",
    },
    "up_format": {"zh": "格式", "en": "Format"},
    "up_encoding": {"zh": "编码", "en": "Encoding"},
    "up_header_row": {"zh": "表头所在行", "en": "Header row"},
    "up_sample": {"zh": "文件内容预览（前 {n} 行）", "en": "Preview (first {n} rows)"},
    "up_pii_note": {
        "zh": "个人信息列（{columns}）不会存入数据库，预览中已遮盖。",
        "en": "Personal-data columns ({columns}) are never stored; masked in the preview.",
    },
    "up_mapping_title": {"zh": "列映射", "en": "Column mapping"},
    "up_mapping_help": {
        "zh": "为每个字段选择文件中的对应列；带 * 的为必填。系统已按列名自动填好，请核对。",
        "en": "Pick the file's column for each field; * marks required ones. Pre-filled from the column names: check.",
    },
    "up_not_used": {"zh": "（不使用）", "en": "(not used)"},
    "up_example": {"zh": "例：", "en": "e.g. "},
    "up_save_as": {"zh": "另存为映射（可选）", "en": "Save mapping as (optional)"},
    "up_save_as_hint": {"zh": "例如：省平台办件导出", "en": "e.g. province-platform-cases"},
    "up_apply_mapping": {"zh": "应用映射并重新校验", "en": "Apply mapping and re-check"},
    "up_mapping_saved": {"zh": "已保存映射“{name}”。", "en": "Saved the mapping “{name}”."},
    "up_report": {"zh": "校验报告", "en": "Validation report"},
    "up_rows_total": {"zh": "数据行", "en": "Data rows"},
    "up_rows_ok": {"zh": "可导入", "en": "Accepted"},
    "up_rows_rejected": {"zh": "拒收", "en": "Rejected"},
    "up_rows_skipped": {"zh": "跳过", "en": "Skipped"},
    "up_rows_skipped_help": {"zh": "合计/总计行和空行。", "en": "Total (合计) rows and blank rows."},
    "up_rows_warned": {
        "zh": "{n:,} 行有字段无法识别（{reasons}）：该字段将置空，这些行照常导入，行号与原值随上传保存。",
        "en": "{n:,} rows have a field that cannot be read ({reasons}): it will be left empty and the rows load; "
        "row numbers and values are kept with the upload.",
    },
    "up_reason": {"zh": "拒收原因", "en": "Reason"},
    "up_count": {"zh": "行数", "en": "Rows"},
    "up_rejects_first": {"zh": "查看拒收行（前 {n} 行）", "en": "Rejected rows (first {n})"},
    "up_download_rejects": {"zh": "下载拒收行（Excel）", "en": "Download rejected rows (Excel)"},
    "up_rejects_file": {"zh": "拒收行", "en": "rejected-rows"},
    "up_duplicate": {
        "zh": "此文件与上传 #{id} 内容完全相同，无需再次导入。",
        "en": "This file is identical to upload #{id}; there is nothing new to load.",
    },
    "up_duplicate_skipped": {
        "zh": "此文件与上传 #{id} 内容完全相同，已跳过。",
        "en": "Identical to upload #{id}; skipped.",
    },
    "up_import": {"zh": "导入", "en": "Load"},
    "up_stage_hash": {"zh": "正在计算文件指纹…", "en": "Fingerprinting the file…"},
    "up_stage_read": {"zh": "正在读取文件…", "en": "Reading the file…"},
    "up_stage_validate": {"zh": "正在规范化与校验…", "en": "Normalising and validating…"},
    "up_stage_write": {"zh": "正在写入数据库…", "en": "Writing to the database…"},
    "up_stage_finish": {"zh": "正在保存拒收行与上传记录…", "en": "Saving rejected rows and the history…"},
    "up_stage_done": {"zh": "完成", "en": "Done"},
    "up_done": {
        "zh": "已导入为上传 #{id}：导入 {loaded:,} 行，拒收 {rejected:,} 行，跳过 {skipped:,} 行；办件 {cases:,} 件，"
        "环节 {events:,} 条。"
        "看板已更新。",
        "en": "Loaded as upload #{id}: {loaded:,} rows loaded, {rejected:,} rejected, {skipped:,} skipped; "
        "{cases:,} cases, {events:,} events. The dashboard is up to date.",
    },
    "up_unexpected": {
        "zh": "操作未完成：发生了意外错误，数据库没有改变。请把文件和时间告诉管理员（详情已写入服务器日志）。",
        "en": "Not done: an unexpected error occurred and the database is unchanged. Tell the admin the file and time "
        "(details are in the server log).",
    },
    "up_catalog_title": {"zh": "上传事项目录", "en": "Uploading the service catalogue"},
    "up_catalog_help": {
        "zh": "事项目录（事项编码、事项名称、实施部门、是否网上可办、是否全程网办、承诺时限、法定时限、最多跑动次数）"
        "与办件表一样在上方上传，类型会自动识别为“事项目录”，也可手动选择。每次上传的目录替换上一版。",
        "en": "The service catalogue (item code, name, department, online-capable, fully online-capable, promised and "
        "statutory limits, maximum visits) is uploaded above like the case files; its kind is detected as "
        "catalogue, or choose it. Each uploaded catalogue replaces the previous one.",
    },
    "up_catalog_template": {"zh": "下载事项目录模板", "en": "Download a catalogue template"},
    "up_recent": {"zh": "最近的上传", "en": "Recent uploads"},
    "up_all_history": {"zh": "全部上传记录（可删除上传）", "en": "All uploads (remove one there)"},
    "up_to_overview": {"zh": "查看总览", "en": "Go to the overview"},
    # --- the upload's impact, before anything is written (ingest/impact.py, ui/impact.py) ---
    "up_impact_title": {"zh": "导入后会有什么变化", "en": "What loading this file will change"},
    "up_impact_period": {"zh": "本文件覆盖 {first} 至 {last}", "en": "The file covers {first} to {last}"},
    "up_impact_new": {"zh": "新办件 {n:,}", "en": "{n:,} new cases"},
    "up_impact_held": {"zh": "更新已有办件 {n:,}", "en": "{n:,} cases already held"},
    "up_impact_older": {
        "zh": "（其中 {n:,} 件比库中已有的记录旧，不计入）",
        "en": " ({n:,} of them older than what is held: they will not count)",
    },
    "up_impact_events": {
        "zh": "{n:,} 条环节（{cases:,} 件办件）比库中已有的环节旧，将保存但不计入。",
        "en": "{n:,} events ({cases:,} cases) are older than the events held: kept, but they will not count.",
    },
    "up_impact_month": {"zh": "月份", "en": "Month"},
    "up_impact_before": {"zh": "导入前", "en": "Before"},
    "up_impact_after": {"zh": "导入后", "en": "After"},
    "up_impact_change": {"zh": "变化", "en": "Change"},
    "up_impact_no_month": {"zh": "无申请时间", "en": "no submission time"},
    "up_impact_unchanged": {
        "zh": "各月办件数不变（按申请月份）。",
        "en": "The cases per month (of submission) stay as they are.",
    },
    "up_impact_months_caption": {
        "zh": "按申请月份统计的办件数，即月度指标的口径。",
        "en": "Cases by month of submission, the basis of the monthly figures.",
    },
    "up_impact_items": {
        "zh": "事项目录中没有的事项：{n:,} 个（共 {cases:,} 件）：{names}",
        "en": "Items not in the service catalogue: {n:,} ({cases:,} cases): {names}",
    },
    "up_impact_departments": {
        "zh": "事项目录中没有的部门：{n:,} 个（共 {cases:,} 件）：{names}",
        "en": "Departments not in the service catalogue: {n:,} ({cases:,} cases): {names}",
    },
    "up_impact_name": {"zh": "{name}（{n:,} 件）", "en": "{name} ({n:,})"},
    "up_impact_more": {"zh": "等", "en": ", …"},
    "up_impact_all_listed": {
        "zh": "所有部门和事项都在事项目录中。",
        "en": "Every department and item is in the service catalogue.",
    },
    "up_impact_no_catalog": {
        "zh": "尚未导入事项目录，无法核对部门和事项。",
        "en": "No service catalogue loaded yet: departments and items cannot be checked.",
    },
    "up_impact_overlap": {
        "zh": "本文件与已导入的月份重叠：{months}。同一办件只计一次，不会重复计数。",
        "en": "This file overlaps months already loaded: {months}. A case counts once; nothing is counted twice.",
    },
    "up_impact_overlap_month": {
        "zh": "{month}已有 {before:,} 件，本文件将更新其中 {updated:,} 件",
        "en": "{month} holds {before:,} cases, {updated:,} of which the file updates",
    },
    "up_impact_overlap_new": {"zh": "、新增 {n:,} 件", "en": " and it adds {n:,}"},
    "up_impact_overlap_more": {"zh": "等 {n} 个月", "en": "and {n} more months"},
    "up_impact_month_label": {"zh": "{year}年{month}月", "en": "{name} {year}"},
    "up_impact_catalog": {
        "zh": "本目录 {items:,} 个事项：新增 {new:,} · 有变动 {changed:,} · 未变 {unchanged:,}",
        "en": "This catalogue has {items:,} items: {new:,} new · {changed:,} changed · {unchanged:,} unchanged",
    },
    "up_impact_catalog_new": {"zh": "新增：{names}", "en": "New: {names}"},
    "up_impact_catalog_changed": {"zh": "有变动：{names}", "en": "Changed: {names}"},
    "up_impact_catalog_dropped": {
        "zh": "现有目录中的 {n:,} 个事项不在本文件中，导入后将不再列出：{names}",
        "en": "{n:,} items of the catalogue in use are not in this file and will no longer be listed: {names}",
    },
    "up_impact_catalog_cases": {
        "zh": "导入后，库中 {after:,} 件办件的事项不在目录中（导入前 {before:,} 件）。",
        "en": "After the load, {after:,} cases have an item the catalogue does not list (now {before:,}).",
    },
    "up_impact_catalog_cases_first": {
        "zh": "导入后，库中 {after:,} 件办件的事项不在目录中。",
        "en": "After the load, {after:,} cases have an item the catalogue does not list.",
    },
    # --- upload history ---
    "uploads_pick": {"zh": "选择上传", "en": "Upload"},
    "uploads_rejects_title": {"zh": "下载拒收行", "en": "Download rejected rows"},
    "uploads_no_rejects": {"zh": "现有上传都没有拒收行。", "en": "No upload has rejected rows."},
    "uploads_remove_title": {"zh": "删除上传", "en": "Remove an upload"},
    "uploads_remove_help": {
        "zh": "删除一次上传及其带入的全部数据；被它覆盖的较早版本会重新生效。",
        "en": "Removes an upload with everything it brought; earlier versions it replaced count again.",
    },
    "uploads_remove": {"zh": "删除此上传…", "en": "Remove this upload…"},
    "uploads_remove_confirm": {
        "zh": "确定删除上传 #{id}（{file}）吗？它带入的 {rows} 行（办件 {cases} 件、环节 {events} 条）将从看板中移除。"
        "此操作会记入审计日志。",
        "en": "Remove upload #{id} ({file})? Its {rows} rows ({cases} cases, {events} events) leave the dashboard. "
        "This is recorded in the audit log.",
    },
    "uploads_remove_yes": {"zh": "确认删除", "en": "Yes, remove"},
    "uploads_remove_no": {"zh": "取消", "en": "Cancel"},
    "uploads_removed": {"zh": "已删除上传 #{id}（{file}）。", "en": "Removed upload #{id} ({file})."},
    # --- data quality ---
    "dq_title": {"zh": "数据质量", "en": "Data quality"},
    "dq_no_data": {"zh": "还没有办件数据。", "en": "No cases yet."},
    "dq_intro": {
        "zh": "当前共有 {cases} 件办件（每个办件只计最新版本）。下面检查字段是否齐全、有哪些行被拒收、哪些月份或部门的数据可能缺失。"
        "本页检查全部数据，不受筛选条件影响。",
        "en": "{cases} current cases. Below: how complete the fields are, which rows were rejected, and which months "
        "or departments may be missing data. This page checks all data, whatever the filters.",
    },
    "dq_coverage": {"zh": "字段覆盖率", "en": "Field coverage"},
    "dq_field": {"zh": "字段", "en": "Field"},
    "dq_share": {"zh": "有值比例", "en": "Share with a value"},
    "dq_filled": {"zh": "有值办件", "en": "Cases with a value"},
    "dq_basis": {"zh": "统计范围", "en": "Out of"},
    "dq_coverage_weak": {
        "zh": "以下字段覆盖率低于 80%，依赖它们的指标只反映部分办件：{fields}",
        "en": "Fields below 80% coverage; KPIs using them reflect only part of the cases: {fields}",
    },
    "dq_rejects": {"zh": "拒收行（按上传月份与原因）", "en": "Rejected rows by upload month and reason"},
    "dq_rejects_none": {"zh": "现有上传没有拒收行。", "en": "No rejected rows in the current uploads."},
    "dq_warnings": {"zh": "已载入但字段置空的行", "en": "Loaded rows with a field left empty"},
    "dq_warnings_field": {"zh": "字段", "en": "Field"},
    "dq_warnings_reason": {"zh": "原因", "en": "Reason"},
    "dq_warnings_uploads": {"zh": "涉及上传", "en": "Uploads"},
    "dq_warnings_help": {
        "zh": "这些行照常计入各项指标，只有所列字段无法识别而置空（覆盖率因此计为缺失）；行号与原值随各次上传保存。",
        "en": "These rows count in every figure; only the listed field could not be read and was left empty (so the "
        "coverage counts it as missing). Row numbers and values are kept with each upload.",
    },
    "dq_rejects_help": {
        "zh": "拒收行的明细可在“上传记录”页下载。",
        "en": "Download the rejected rows themselves on the Uploads page.",
    },
    "dq_thin": {"zh": "办件量异常偏少的月份与部门", "en": "Months and departments with suspiciously few cases"},
    "dq_thin_none": {
        "zh": "没有哪个月的办件量低于月度中位数的 {share}。",
        "en": "No month has fewer than {share} of the median month's cases.",
    },
    "dq_thin_found": {
        "zh": "{n} 个月的办件量低于月度中位数的 {share}，可能漏导了数据：",
        "en": "{n} month(s) have fewer than {share} of the median month's cases; data may be missing:",
    },
    "dq_thin_departments": {"zh": "按部门", "en": "By department"},
    "dq_thin_departments_none": {
        "zh": "没有部门的月办件量明显低于其自身的中位数。",
        "en": "No department has a month far below its own median.",
    },
    "dq_thin_help": {
        "zh": "判定标准：办件量低于中位数的 {share}（含没有任何办件的月份）。部门与其自身比较，需有至少 {months} 个月数据、"
        "月中位数不少于 {median} 件。最近一个月可能尚未结束或尚未导入完整。",
        "en": "Rule: fewer than {share} of the median month (months with no case included). Departments are compared "
        "with themselves, given at least {months} months of data and a median of at least {median} cases. The latest "
        "month may not be over, or not fully loaded yet.",
    },
    "dq_median": {"zh": "中位数", "en": "Median"},
    "dq_ratio": {"zh": "为中位数的", "en": "Of median"},
    "dq_note": {"zh": "备注", "en": "Note"},
    "dq_latest": {"zh": "最近一个月，可能尚未结束", "en": "latest month, may not be over"},
    "dq_missing": {"zh": "缺少部门或事项的办件", "en": "Cases without a department or item"},
    "dq_no_department": {"zh": "缺少部门", "en": "No department"},
    "dq_no_item": {"zh": "缺少事项", "en": "No item"},
    "dq_neither": {"zh": "两者皆缺", "en": "Neither"},
    "dq_missing_none": {
        "zh": "所有办件都填写了部门和事项。",
        "en": "Every case has a department and an item filled in.",
    },
    "dq_catalog": {"zh": "不在事项目录中的事项与部门", "en": "Items and departments not in the service catalogue"},
    "dq_catalog_none": {
        "zh": "尚未导入事项目录，无法检查办件的事项和部门是否在目录中（网上可办率、承诺时限压缩率等指标也需要它）。"
        "事项目录可在“数据上传”页上传，页面上有模板可下载。",
        "en": "No service catalogue has been loaded, so whether the cases' items and departments are in it cannot be "
        "checked (KPIs such as the online-capable rate need it too). Upload the catalogue on the Upload page, which "
        "offers a template.",
    },
    "dq_catalog_upload_link": {"zh": "去上传事项目录", "en": "Upload the catalogue"},
    "dq_catalog_unknown_items": {"zh": "不在目录的事项", "en": "Items not in catalogue"},
    "dq_catalog_item_cases": {"zh": "事项不在目录的办件", "en": "Cases with such an item"},
    "dq_catalog_unknown_departments": {"zh": "不在目录的部门", "en": "Departments not in catalogue"},
    "dq_catalog_department_cases": {"zh": "部门不在目录的办件", "en": "Cases with such a department"},
    "dq_catalog_items_found": {
        "zh": "{items} 个事项不在事项目录中，涉及 {cases} 件办件（占有事项办件的 {share}）：这些办件的网上可办、"
        "承诺时限等无法按目录核对。常见原因是事项名称或编码与目录写法不同，或目录需要更新。",
        "en": "{items} item(s) are not in the service catalogue, with {cases} case(s) ({share} of the cases with an "
        "item): their online capability and time limits cannot be checked against the catalogue. Usually the item is "
        "named or coded differently from the catalogue, or the catalogue needs updating.",
    },
    "dq_catalog_departments_found": {
        "zh": "{departments} 个部门不在事项目录中，涉及 {cases} 件办件（占有部门办件的 {share}），可能是部门名称写法与目录不同。",
        "en": "{departments} department(s) are not in the service catalogue, with {cases} case(s) ({share} of the cases "
        "with a department); perhaps the name is written differently from the catalogue.",
    },
    "dq_catalog_all_known": {
        "zh": "所有办件的事项和部门都在事项目录中。",
        "en": "Every case's item and department are in the service catalogue.",
    },
    "dq_catalog_items_known": {
        "zh": "所有办件的事项都在事项目录中。",
        "en": "Every case's item is in the service catalogue.",
    },
    "dq_catalog_departments_known": {
        "zh": "所有办件的部门都在事项目录中。",
        "en": "Every case's department is in the service catalogue.",
    },
    "dq_catalog_no_departments": {
        "zh": "事项目录没有填写实施部门，因此只核对事项，不核对部门。",
        "en": "The service catalogue names no department, so only items are checked, not departments.",
    },
    "dq_catalog_top_items": {
        "zh": "办件最多的不在目录事项（列出 {shown} 项，共 {n} 项）",
        "en": "Items not in the catalogue with the most cases ({shown} of {n} listed)",
    },
    "dq_catalog_top_departments": {
        "zh": "不在目录的部门（列出 {shown} 个，共 {n} 个）",
        "en": "Departments not in the catalogue ({shown} of {n} listed)",
    },
    "dq_catalog_help": {
        "zh": "核对依据：当前事项目录（{items} 个事项、{departments} 个部门）。办件的事项编码与目录中的编码相同，或事项名称与"
        "目录中的名称相同，即视为在目录中；部门以目录中各事项所列的实施部门为准。这些办件照常计入办件量等指标。"
        "缺少部门或事项的办件见上一节，这里不重复计数。",
        "en": "Checked against the current service catalogue ({items} items, {departments} departments). A case's item "
        "is in the catalogue when its item code equals a catalogue code or its item name a catalogue name; a "
        "department is in it when some catalogue item names it. These cases still count in every figure. Cases "
        "without a department or item are in the section above and not counted again here.",
    },
    "dq_item_code": {"zh": "事项编码", "en": "Item code"},
    "dq_items": {"zh": "事项数", "en": "Items"},
    "dq_first_month": {"zh": "最早月份", "en": "First month"},
    "dq_last_month": {"zh": "最近月份", "en": "Last month"},
    "dq_missing_sample": {"zh": "查看这些办件（最多 {n} 件）", "en": "Show these cases (up to {n})"},
    "dq_upload": {"zh": "上传编号", "en": "Upload"},
    "dq_file": {"zh": "文件", "en": "File"},
    "dq_case_id": {"zh": "办件编号", "en": "Case ID"},
    "dq_submitted": {"zh": "申请时间", "en": "Submitted"},
    "dq_department": {"zh": "部门", "en": "Department"},
    "dq_item": {"zh": "事项", "en": "Item"},
    "dq_row": {"zh": "文件行号", "en": "Row in file"},
    # --- settings: targets ---
    "settings_title": {"zh": "指标目标值", "en": "KPI targets"},
    "settings_intro": {
        "zh": "看板按目标值为指标着色（达标 / 未达标）。未设置时使用系统默认值；可为全镇设置，也可为单个部门单独设置。",
        "en": "The dashboard colours each KPI by its target. Unset targets use the defaults; set one for the whole "
        "town or for a single department.",
    },
    "settings_kpi": {"zh": "指标", "en": "KPI"},
    "settings_direction": {"zh": "方向", "en": "Direction"},
    "settings_higher": {"zh": "越高越好", "en": "higher is better"},
    "settings_lower": {"zh": "越低越好", "en": "lower is better"},
    "settings_default": {"zh": "默认目标", "en": "Default"},
    "settings_current": {"zh": "当前目标", "en": "Target"},
    "settings_source": {"zh": "设置人 · 时间", "en": "Set by · at"},
    "settings_is_default": {"zh": "默认值", "en": "default"},
    "settings_departments": {"zh": "部门单设数", "en": "Department targets"},
    "settings_edit": {"zh": "修改目标值", "en": "Change a target"},
    "settings_scope": {"zh": "适用范围", "en": "For"},
    "settings_town": {"zh": "全镇（总体）", "en": "the whole town"},
    "settings_value_rate": {"zh": "目标值（%）", "en": "Target (%)"},
    "settings_value_days": {"zh": "目标值（工作日）", "en": "Target (working days)"},
    "settings_value_count": {"zh": "目标值（件）", "en": "Target (count)"},
    "settings_now": {"zh": "现行目标：{value}（{source}）", "en": "Current target: {value} ({source})"},
    "settings_src_own": {"zh": "已单独设置", "en": "set here"},
    "settings_src_town": {"zh": "沿用全镇目标", "en": "the town's target"},
    "settings_src_default": {"zh": "系统默认", "en": "the default"},
    "settings_save": {"zh": "保存目标", "en": "Save target"},
    "settings_reset": {"zh": "恢复默认", "en": "Back to default"},
    "settings_saved": {
        "zh": "已将“{kpi}”在“{scope}”的目标设为 {value}。",
        "en": "Set the target of “{kpi}” for {scope} to {value}.",
    },
    "settings_cleared": {"zh": "“{kpi}”已恢复默认目标。", "en": "“{kpi}” is back to its default target."},
    "settings_dept_targets": {"zh": "部门单独设置的目标", "en": "Department targets"},
    # --- users and audit ---
    "users_title": {"zh": "用户与审计", "en": "Users and audit log"},
    "users_none": {
        "zh": "还没有用户（本地模式）。创建第一个管理员后，所有人都需要登录。",
        "en": "No users yet (local mode). Once the first admin exists, everyone signs in.",
    },
    "users_name": {"zh": "用户名", "en": "User name"},
    "users_role": {"zh": "角色", "en": "Role"},
    "users_email": {"zh": "单点登录邮箱（可选）", "en": "SSO e-mail (optional)"},
    "users_email_help": {
        "zh": "配置了统一身份认证（st.login）时，以此邮箱登录的人获得该用户的角色。",
        "en": "With single sign-on configured, whoever signs in with this e-mail gets this user's role.",
    },
    "users_password": {"zh": "有密码", "en": "Password"},
    "users_password_help": {
        "zh": "至少 8 个字符。仅用单点登录的账号可留空（须填邮箱）。",
        "en": "At least 8 characters. Leave empty for an SSO-only account (then an e-mail is needed).",
    },
    "users_confirm": {"zh": "再次输入密码", "en": "Repeat the password"},
    "users_mismatch": {"zh": "两次输入的密码不一致。", "en": "The two passwords differ."},
    "users_created": {"zh": "创建时间", "en": "Created"},
    "users_created_by": {"zh": "创建人", "en": "Created by"},
    "users_add": {"zh": "新增用户", "en": "Add a user"},
    "users_first_admin": {
        "zh": "第一个用户必须是管理员。创建后本地模式结束，您需要用这个账号登录。",
        "en": "The first user must be an admin. Once created, local mode ends and you sign in with it.",
    },
    "users_add_submit": {"zh": "创建用户", "en": "Create user"},
    "users_added": {"zh": "已创建用户 {name}。", "en": "Created the user {name}."},
    "users_added_first": {
        "zh": "已创建管理员 {name}，本地模式已结束，请用该账号登录。",
        "en": "Created the admin {name}; local mode has ended: sign in with it.",
    },
    "users_manage": {"zh": "管理用户", "en": "Manage a user"},
    "users_role_submit": {"zh": "修改角色", "en": "Change role"},
    "users_role_done": {"zh": "{name} 的角色已改为“{role}”。", "en": "{name} is now {role}."},
    "users_new_password": {"zh": "新密码", "en": "New password"},
    "users_pw_submit": {"zh": "重置密码", "en": "Reset password"},
    "users_pw_done": {"zh": "已重置 {name} 的密码。", "en": "Reset the password of {name}."},
    "users_mail_submit": {"zh": "保存邮箱", "en": "Save e-mail"},
    "users_mail_done": {"zh": "已更新 {name} 的邮箱。", "en": "Updated the e-mail of {name}."},
    "users_remove": {"zh": "删除用户 {name}…", "en": "Remove {name}…"},
    "users_remove_confirm": {
        "zh": "确定删除用户 {name} 吗？此操作会记入审计日志。",
        "en": "Remove the user {name}? This is recorded in the audit log.",
    },
    "users_remove_self": {
        "zh": "这是您自己的账号，删除后您将立即退出。",
        "en": "This is your own account: you will be signed out at once.",
    },
    "users_removed": {"zh": "已删除用户 {name}。", "en": "Removed the user {name}."},
    "audit_title": {"zh": "审计日志", "en": "Audit log"},
    "audit_action": {"zh": "操作", "en": "Action"},
    "audit_all": {"zh": "全部操作", "en": "all actions"},
    "audit_when": {"zh": "时间", "en": "When"},
    "audit_who": {"zh": "操作人", "en": "Who"},
    "audit_target": {"zh": "对象", "en": "Target"},
    "audit_details": {"zh": "详情", "en": "Details"},
    "audit_empty": {"zh": "暂无记录。", "en": "Nothing recorded yet."},
    # --- monthly snapshots (issue 6) ---
    "nav_snapshots": {"zh": "月度快照", "en": "Monthly snapshots"},
    "snap_title": {"zh": "月度快照", "en": "Monthly snapshots"},
    "snap_intro": {
        "zh": "发布某月的快照会冻结该月的指标、部门与事项统计、瓶颈、摆设事项、超期办件和不含个人信息的办件明细，"
        "并生成 PDF、网页版、Excel 与数据文件。发布后数字不再改变；如需更正，请重新发布为新版本。",
        "en": "Publishing a month freezes its KPIs, department and item tables, bottlenecks, services online in name "
        "only, overdue cases and a case list without personal data, and makes a PDF, a web page, an Excel workbook "
        "and data files. Published figures never change; to correct them, publish a new version.",
    },
    "snap_scope": {
        "zh": "快照按全镇、整月统计，不受侧栏筛选的影响。",
        "en": "Snapshots cover the whole town and the whole month; the sidebar filters do not apply.",
    },
    "snap_no_data": {
        "zh": "数据库中还没有办件数据，暂时无法发布快照。",
        "en": "There are no cases in the database yet, so there is nothing to publish.",
    },
    "snap_months": {"zh": "各月份的快照状态", "en": "Snapshot status by month"},
    "snap_col_month": {"zh": "月份", "en": "Month"},
    "snap_col_cases": {"zh": "当前办件量", "en": "Cases now"},
    "snap_col_status": {"zh": "状态", "en": "Status"},
    "snap_col_versions": {"zh": "版本数", "en": "Versions"},
    "snap_col_published": {"zh": "最新发布时间", "en": "Last published"},
    "snap_col_by": {"zh": "发布人", "en": "By"},
    "snap_status_none": {"zh": "未发布", "en": "not published"},
    "snap_status_published": {"zh": "已发布（第 {version} 版）", "en": "published (version {version})"},
    "snap_publish_title": {"zh": "发布快照", "en": "Publish a snapshot"},
    "snap_note": {"zh": "说明（可选；重新发布时请写明更正原因）", "en": "Note (optional; for a re-issue, say why)"},
    "snap_note_placeholder": {"zh": "例如：补录了 10 月 28 日的窗口办件", "en": "e.g. added the desk cases of 28 Oct"},
    "snap_town": {"zh": "封面上的镇名", "en": "Town on the cover"},
    "snap_publish_button": {"zh": "发布 {month} 快照", "en": "Publish the {month} snapshot"},
    "snap_reissue_button": {"zh": "重新发布为第 {version} 版", "en": "Re-issue as version {version}"},
    "snap_reissue_info": {
        "zh": "{month} 已发布第 {version} 版。重新发布会生成第 {next} 版，与原版本并列保存，原版本不变。",
        "en": "{month} has version {version}. Re-issuing makes version {next}, kept beside the earlier ones, which "
        "stay unchanged.",
    },
    "snap_month_open": {
        "zh": "{month} 尚未结束，现在发布的快照只包含截至目前的数据。",
        "en": "{month} is not over yet: a snapshot published now holds only the data so far.",
    },
    "snap_publishing": {
        "zh": "正在生成快照（PDF、网页版、Excel 与数据文件），约需十几秒…",
        "en": "Making the snapshot (PDF, web page, Excel and data files); this takes a few seconds…",
    },
    "snap_published": {"zh": "已发布 {month} 第 {version} 版快照。", "en": "Published version {version} of {month}."},
    "snap_unexpected": {
        "zh": "发布未完成：发生了意外错误，没有保存任何内容。请把月份和时间告诉管理员（详情已写入服务器日志）。",
        "en": "Not published: an unexpected error occurred and nothing was saved. Tell the admin the month and time "
        "(details are in the server log).",
    },
    "snap_viewer_note": {
        "zh": "发布快照需要“分析员”或“管理员”角色；所有人都可以下载已发布的快照。",
        "en": "Publishing needs the analyst or admin role; everyone may download published snapshots.",
    },
    "snap_last_published": {
        "zh": "上个月（{month}）已发布第 {version} 版：{by}，{at}（{zone}）。",
        "en": "Last month ({month}) is published, version {version}: by {by}, {at} ({zone}).",
    },
    "snap_last_missing": {"zh": "上个月（{month}）尚未发布。", "en": "Last month ({month}) is not published yet."},
    "snap_last_missing_analyst": {"zh": "可在下方“发布快照”中发布。", "en": "Publish it below."},
    "snap_last_missing_viewer": {"zh": "请联系分析员发布。", "en": "Ask an analyst to publish it."},
    "snap_run_title": {"zh": "定时发布上次运行", "en": "Last scheduled run"},
    "snap_run_published": {"zh": "已发布 {month} 第 {version} 版", "en": "published {month}, version {version}"},
    "snap_run_skipped": {
        "zh": "{month} 已发布第 {version} 版，无需操作",
        "en": "{month} was already published (version {version}); nothing to do",
    },
    "snap_run_failed": {"zh": "{month} 发布失败：{reason}", "en": "publishing {month} failed: {reason}"},
    "snap_run_retry": {"zh": "下次运行会自动重试。", "en": "The next run tries again."},
    "snap_run_no_retry": {"zh": "不会自动重试。", "en": "It is not retried by itself."},
    "zone_beijing": {"zh": "北京时间", "en": "Beijing time"},
    "snap_downloads": {"zh": "下载", "en": "Downloads"},
    "snap_none_yet": {
        "zh": "还没有发布任何快照。",
        "en": "No snapshot has been published yet.",
    },
    "snap_pick_month": {"zh": "已发布的月份", "en": "Published month"},
    "snap_version_title": {"zh": "{month} · 第 {version} 版", "en": "{month} · version {version}"},
    "snap_latest": {"zh": "（最新）", "en": " (latest)"},
    "snap_meta": {
        "zh": "发布于 {at}，发布人 {by}；数据版本 {dv}",
        "en": "Published {at} by {by}; data version {dv}",
    },
    "snap_note_label": {"zh": "说明", "en": "Note"},
    "snap_changes": {"zh": "与第 {version} 版相比的变化", "en": "Changes since version {version}"},
    "snap_no_changes": {"zh": "各项指标数值与上一版相同。", "en": "No KPI figure differs from the previous version."},
    "snap_before": {"zh": "原值", "en": "Before"},
    "snap_after": {"zh": "新值", "en": "After"},
    "snap_compare_title": {
        "zh": "月度对比（取自已发布的冻结数字）",
        "en": "Month over month (from the frozen figures)",
    },
    "snap_compare_help": {
        "zh": "对比两份已发布快照中的数字，不会重新计算，与上报的报告一致。",
        "en": "Compares the figures of two published snapshots as published, without recomputing them.",
    },
    "snap_compare_this": {"zh": "本期", "en": "This"},
    "snap_compare_other": {"zh": "对比期", "en": "Compared with"},
    "snap_compare_need_two": {
        "zh": "至少发布两个月份的快照后才能对比。",
        "en": "Publish snapshots of at least two months to compare them.",
    },
    "snap_kpi": {"zh": "指标", "en": "KPI"},
    "snap_change": {"zh": "变化", "en": "Change"},
    "snap_target": {"zh": "目标", "en": "Target"},
    "snap_file_pdf": {"zh": "PDF 报告", "en": "PDF report"},
    "snap_file_html": {"zh": "网页版（HTML）", "en": "Web page (HTML)"},
    "snap_file_xlsx": {"zh": "Excel 工作簿", "en": "Excel workbook"},
    "snap_file_parquet": {"zh": "办件数据（Parquet）", "en": "Cases (Parquet)"},
    "snap_file_csv": {"zh": "办件数据（CSV）", "en": "Cases (CSV)"},
    "snap_file_json": {"zh": "指标数据（JSON）", "en": "Figures (JSON)"},
    "snap_file_zip": {"zh": "全部文件（zip）", "en": "All files (zip)"},
}

TEXT.update(DASHBOARD_TEXT)


def lang() -> str:
    """The chosen language: the session's choice, else ?lang= in the URL, else Chinese."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", "zh")
        st.session_state["lang"] = wanted if wanted in LANGS else "zh"
    return st.session_state["lang"]


def t(key: str) -> str:
    entry = TEXT[key]
    return entry.get(lang(), entry["zh"])
