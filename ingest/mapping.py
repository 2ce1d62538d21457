"""Column mapping: which source column feeds which canonical field.

Platforms name the same column differently (办件编号 / 业务流水号 / 申办编号 …); process-mining tools
use the XES standard names. The aliases below are matched after folding case, spaces and
bracketed notes such as “（工作日）”. A mapping can be saved under a name as TOML in
``data/mappings/`` and reused with ``--mapping NAME`` (or, on the command line only, a path to any
TOML file). A name is a name, never a path (:mod:`names`): the upload page takes names only.
"""

from __future__ import annotations

import collections.abc
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

import names
import settings
from ingest.errors import IngestRefused
from ingest.personal import OTHER_PERSONS, names_someone_else

KINDS = ("cases", "events", "catalog")

# Fields shared by case files and the case attributes of event files.
_CASE_FIELDS: dict[str, list[str]] = {
    "case_id": [
        "办件编号",
        "业务流水号",
        "申办编号",
        "办件号",
        "受理编号",
        "申报编号",
        "申报号",
        "流水号",
        "办件流水号",
        "案件编号",
        "caseid",
        "case_id",
        "case",
        "case:concept:name",
    ],
    "service_item": [
        "事项名称",
        "服务事项",
        "办理事项",
        "事项",
        "申请事项",
        "servicename",
        "service_item",
        "service",
        "item",
        "itemname",
        "case:item",
        "case:service",
        "case:service_item",
    ],
    "item_code": ["事项编码", "事项代码", "实施编码", "事项编号", "itemcode", "item_code", "case:item_code"],
    "department": [
        "实施部门",
        "受理部门",
        "承办单位",
        "实施主体",
        "承办部门",
        "主管部门",
        "部门",
        "department",
        "dept",
        "case:department",
    ],
    "channel": [
        "申请渠道",
        "申请方式",
        "办理渠道",
        "申报渠道",
        "受理渠道",
        "申请来源",
        "渠道",
        "办理方式",
        "channel",
        "case:channel",
    ],
    "applicant_type": [
        "申请人类型",
        "申请主体类型",
        "申请人性质",
        "applicanttype",
        "applicant_type",
        "case:applicant_type",
    ],
    "submitted_at": [
        "申请时间",
        "申报时间",
        "收件时间",
        "提交时间",
        "申请日期",
        "申报日期",
        "submittedat",
        "submitted_at",
        "submittime",
        "submitted",
        "case:submitted_at",
    ],
    "accepted_at": ["受理时间", "受理日期", "acceptedat", "accepted_at", "case:accepted_at"],
    "status": ["办件状态", "办理状态", "状态", "办理结果", "办结状态", "status", "case:status"],
    "promised": [
        "承诺时限",
        "承诺办结时限",
        "承诺期限",
        "承诺办理时限",
        "承诺时间",
        "promiseddays",
        "promised_days",
        "promised",
        "case:promised_days",
    ],
    "statutory": [
        "法定时限",
        "法定办结时限",
        "法定期限",
        "法定办理时限",
        "statutorydays",
        "statutory_days",
        "case:statutory_days",
    ],
    "due_at": [
        "截止时间",
        "应办结时间",
        "办结期限",
        "到期时间",
        "承诺办结日期",
        "承诺办结时间",
        "dueat",
        "due_at",
        "deadline",
        "case:deadline",
        "case:due_at",
    ],
    "visits": ["跑动次数", "到现场次数", "到场次数", "跑腿次数", "现场次数", "visits", "case:visits"],
    "resubmissions": ["补正次数", "补齐补正次数", "补件次数", "resubmissions", "case:resubmissions"],
    "satisfaction": [
        "满意度",
        "评价结果",
        "评价",
        "好差评",
        "评价等级",
        "满意度评价",
        "satisfaction",
        "rating",
        "case:satisfaction",
    ],
    "delivery": ["结果送达方式", "送达方式", "出件方式", "领取方式", "delivery", "case:delivery"],
    # A file holding several towns says each row's; without it every row is the upload's town.
    "town": ["乡镇", "所属乡镇", "乡镇街道", "街道", "所属街道", "乡镇名称", "town", "township", "case:town"],
}

_CASE_ONLY: dict[str, list[str]] = {
    "completed_at": ["办结时间", "办结日期", "完成时间", "completedat", "completed_at", "endtime", "case:completed_at"],
}

_EVENT_FIELDS: dict[str, list[str]] = {
    "step": [
        "环节名称",
        "环节",
        "办理环节",
        "步骤",
        "步骤名称",
        "节点名称",
        "节点",
        "活动",
        "活动名称",
        "activity",
        "step",
        "concept:name",
    ],
    "step_department": ["办理部门", "处理部门", "环节部门", "经办部门", "办理单位", "org:group", "group"],
    "handler": ["经办人", "办理人", "处理人", "审批人", "操作人", "handler", "org:resource", "resource"],
    "event_time": [
        "完成时间",
        "结束时间",
        "办理时间",
        "处理时间",
        "操作时间",
        "时间",
        "time:timestamp",
        "timestamp",
        "completed_at",
        "complete_timestamp",
        "event_time",
    ],
    "started_at": ["开始时间", "开始办理时间", "接收时间", "start_timestamp", "starttime", "started_at"],
    "lifecycle": ["lifecycle:transition", "lifecycle", "生命周期"],
}

_CATALOG_FIELDS: dict[str, list[str]] = {
    "item_code": _CASE_FIELDS["item_code"],
    "item_name": ["事项名称", "服务事项", "事项", "itemname", "item_name", "service"],
    "department": _CASE_FIELDS["department"],
    "online_capable": ["是否网上可办", "网上可办", "是否网办", "可网办", "online_capable", "onlinecapable"],
    "fully_online_capable": [
        "是否全程网办",
        "全程网办",
        "是否全流程网办",
        "fully_online_capable",
        "fullyonlinecapable",
    ],
    "promised": _CASE_FIELDS["promised"],
    "statutory": _CASE_FIELDS["statutory"],
    "max_visits": [
        "最多跑动次数",
        "跑动次数上限",
        "最多到现场次数",
        "到现场次数",
        "跑动次数",
        "max_visits",
        "maxvisits",
    ],
}

#: Columns that carry personal data: never stored; the strongest identifier keys repeat applicants.
#: A header may also put 申请人 / 申请单位 / 申请企业 before an ID or phone alias (申请人身份证号, 申请人手机),
#: or a word naming someone else (经办人手机, 代理人证件号码: :data:`ingest.personal.OTHER_PERSONS`): that
#: column is masked too, but keys nobody (``Mapping.more_pii``). Columns are also found by their values
#: (:mod:`ingest.personal`).
PII_ALIASES: dict[str, list[str]] = {
    "id_number": [
        "证件号码",
        "身份证号",
        "身份证号码",
        "身份证",
        "身份证件号码",
        "公民身份号码",
        "证件号",
        "申请人证件号码",
        "统一社会信用代码",
        "社会信用代码",
        "信用代码",
        "idnumber",
        "id_number",
        "idcard",
    ],
    "phone": [
        "手机号",
        "手机号码",
        "手机",
        "移动电话",
        "联系手机",
        "联系电话",
        "电话",
        "联系方式",
        "申请人电话",
        "phone",
        "mobile",
        "telephone",
    ],
    "name": [
        "申请人姓名",
        "申请人",
        "姓名",
        "联系人",
        "申请人名称",
        "法定代表人",
        "applicantname",
        "applicant",
        "name",
    ],
    "address": ["地址", "住址", "联系地址", "家庭住址", "通讯地址", "address"],
}

FIELDS_BY_KIND: dict[str, dict[str, list[str]]] = {
    "cases": {**_CASE_FIELDS, **_CASE_ONLY},
    "events": {**_CASE_FIELDS, **_EVENT_FIELDS},
    "catalog": _CATALOG_FIELDS,
}

REQUIRED: dict[str, list[str]] = {
    "cases": ["case_id", "submitted_at"],
    "events": ["case_id", "step", "event_time"],
    "catalog": ["item_name"],
}

FIELD_LABELS_ZH = {
    "case_id": "办件编号",
    "service_item": "事项名称",
    "item_code": "事项编码",
    "department": "实施部门",
    "channel": "申请渠道",
    "applicant_type": "申请人类型",
    "submitted_at": "申请时间",
    "accepted_at": "受理时间",
    "completed_at": "办结时间",
    "status": "办件状态",
    "promised": "承诺时限",
    "statutory": "法定时限",
    "due_at": "截止时间",
    "visits": "跑动次数",
    "resubmissions": "补正次数",
    "satisfaction": "满意度",
    "delivery": "送达方式",
    "town": "乡镇（街道）",
    "step": "环节名称",
    "step_department": "办理部门",
    "handler": "经办人",
    "event_time": "完成时间",
    "started_at": "开始时间",
    "lifecycle": "生命周期",
    "item_name": "事项名称",
    "online_capable": "是否网上可办",
    "fully_online_capable": "是否全程网办",
    "max_visits": "最多跑动次数",
}

#: English labels of the canonical fields (the Chinese ones: :data:`FIELD_LABELS_ZH`).
FIELD_LABELS_EN: dict[str, str] = {
    "case_id": "Case ID",
    "service_item": "Service item",
    "item_code": "Item code",
    "department": "Department",
    "channel": "Channel",
    "applicant_type": "Applicant type",
    "submitted_at": "Submitted at",
    "accepted_at": "Accepted at",
    "completed_at": "Completed at",
    "status": "Status",
    "promised": "Promised time limit",
    "statutory": "Statutory time limit",
    "due_at": "Due at",
    "visits": "Visits",
    "resubmissions": "Resubmissions (补正)",
    "satisfaction": "Satisfaction",
    "delivery": "Delivery of the result",
    "town": "Town",
    "step": "Step",
    "step_department": "Step department",
    "handler": "Handler",
    "event_time": "Event time",
    "started_at": "Started at",
    "lifecycle": "Lifecycle",
    "item_name": "Item name",
    "online_capable": "Online-capable",
    "fully_online_capable": "Fully online-capable",
    "max_visits": "Maximum visits",
}

_BRACKETS = re.compile(r"[（(\[【].*?[）)\]】]")
_FOLD = re.compile(r"[\s_\-·.]+")


def fold(name: str) -> str:
    """Fold a column name for matching: lower case, no bracketed notes, no spaces or separators."""
    name = str(name or "").strip().lower()
    if name.startswith(("case:", "org:", "time:", "concept:", "lifecycle:")):
        return name.replace(" ", "")
    return _FOLD.sub("", _BRACKETS.sub("", name)).replace("*", "")


def _alias_index(fields: dict[str, list[str]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for canonical, aliases in fields.items():
        for alias in aliases:
            index.setdefault(fold(alias), canonical)
    return index


_INDEX_BY_KIND = {kind: _alias_index(fields) for kind, fields in FIELDS_BY_KIND.items()}
_PII_INDEX = _alias_index(PII_ALIASES)
_ALL_KNOWN = {a for idx in _INDEX_BY_KIND.values() for a in idx} | set(_PII_INDEX)


def header_score(row: Sequence[object]) -> int:
    """How many cells of a row are known column names (used to find the header row)."""
    return sum(1 for cell in row if cell is not None and fold(str(cell)) in _ALL_KNOWN)


@dataclass
class Mapping:
    kind: str
    fields: dict[str, int] = field(default_factory=dict)  # canonical field -> source column index
    pii: dict[str, int] = field(default_factory=dict)  # pii kind -> source column index
    #: Further personal columns (index -> kind): a second one of a kind, someone else's (经办人手机), or one
    #: found by its values. Masked and never stored like ``pii``, but keying nobody.
    more_pii: dict[int, str] = field(default_factory=dict)
    #: The personal columns found by their values rather than their header (:mod:`ingest.personal`).
    pii_by_value: set[int] = field(default_factory=set)
    unit_hints: dict[str, str] = field(default_factory=dict)  # field -> 'working' | 'natural' from the header

    def source_names(self, columns: list[str]) -> dict[str, str]:
        return {f: columns[i] for f, i in self.fields.items()}

    def personal_indices(self) -> list[int]:
        """Every personal-data column, in file order: masked in the preview, never stored raw."""
        return sorted(set(self.pii.values()) | set(self.more_pii))


#: Header prefixes that say whose the ID or phone number is: the applicant's, or (OTHER_PERSONS) someone else's.
_PERSON_PREFIXES = ("申请人", "申请单位", "申请企业", *OTHER_PERSONS)


def personal_header(name: str) -> tuple[str, bool] | None:
    """(personal kind, whether it is the applicant's) for a header naming personal data, else None.

    An ID or phone header naming someone else (经办人手机, 证件号码（代理人）) is not the applicant's;
    names and addresses keep the plain rule (the first of a kind is ``pii``).
    """
    key = fold(name)
    kind = _PII_INDEX.get(key)
    if kind is None:
        for prefix in _PERSON_PREFIXES:
            rest = key[len(prefix) :] if key.startswith(prefix) else ""
            if _PII_INDEX.get(rest) in ("id_number", "phone"):
                kind = _PII_INDEX[rest]
                break
    if kind is None:
        return None
    return kind, kind not in ("id_number", "phone") or not names_someone_else(name)


def detect_kind(columns: list[str]) -> str:
    folded = [fold(c) for c in columns]
    events = _INDEX_BY_KIND["events"]
    if any(events.get(c) == "step" for c in folded):
        return "events"
    catalog = _INDEX_BY_KIND["catalog"]
    has_case_id = any(_INDEX_BY_KIND["cases"].get(c) == "case_id" for c in folded)
    if not has_case_id and any(catalog.get(c) in ("online_capable", "fully_online_capable") for c in folded):
        return "catalog"
    return "cases"


def auto_map(columns: list[str], kind: str) -> Mapping:
    index = _INDEX_BY_KIND[kind]
    mapping = Mapping(kind)
    for i, name in enumerate(columns):
        key = fold(name)
        canonical = index.get(key)
        if canonical and canonical not in mapping.fields:
            mapping.fields[canonical] = i
            if "工作日" in name:
                mapping.unit_hints[canonical] = "working"
            elif "自然日" in name:
                mapping.unit_hints[canonical] = "natural"
        elif canonical is None and (personal := personal_header(name)) is not None:
            pii_kind, applicants = personal
            if applicants and pii_kind not in mapping.pii:
                mapping.pii[pii_kind] = i
            else:
                mapping.more_pii[i] = pii_kind
    # An event file with one department column: it is both the step's and the case's department.
    if kind == "events" and "step_department" not in mapping.fields and "department" in mapping.fields:
        mapping.fields["step_department"] = mapping.fields["department"]
    return mapping


def apply_overrides(
    mapping: Mapping, columns: list[str], overrides: collections.abc.Mapping[str, str | None]
) -> Mapping:
    """Apply a user's corrections or a saved mapping: canonical field -> source column name (or None)."""
    fields = FIELDS_BY_KIND[mapping.kind]
    for canonical, source in overrides.items():
        if canonical not in fields and canonical not in PII_ALIASES:
            raise IngestRefused(
                "bad_mapping", f"映射中有未知字段：{canonical}", f"unknown field in mapping: {canonical}"
            )
        target = mapping.pii if canonical in PII_ALIASES else mapping.fields
        if source in (None, ""):
            target.pop(canonical, None)
            continue
        if source not in columns:
            raise IngestRefused(
                "bad_mapping",
                f"映射指定的列“{source}”不在文件中；文件中的列：{'、'.join(columns)}",
                f"mapped column {source!r} is not in the file; columns found: {', '.join(columns)}",
                column=source,
            )
        target[canonical] = columns.index(source)
    return mapping


def check_required(mapping: Mapping, columns: list[str]) -> None:
    missing = [f for f in REQUIRED[mapping.kind] if f not in mapping.fields]
    if mapping.kind == "cases" and "submitted_at" in missing and "accepted_at" in mapping.fields:
        missing.remove("submitted_at")
    if mapping.kind == "catalog" and missing == ["item_name"] and "item_code" in mapping.fields:
        missing = []
    if missing:
        names_zh = "、".join(FIELD_LABELS_ZH.get(f, f) for f in missing)
        raise IngestRefused(
            "missing_columns",
            f"缺少必需的列：{names_zh}。文件中的列：{'、'.join(columns) or '（无）'}",
            f"missing required column(s): {', '.join(missing)}. Columns found: {', '.join(columns) or '(none)'}",
            column=", ".join(missing),
        )


# --- saved mappings --------------------------------------------------------------------------------

_MAX_MAPPING_BYTES = 256 * 1024  # a saved mapping is a few hundred bytes


def _refused(exc: names.NameRefused) -> IngestRefused:
    return IngestRefused("bad_mapping", exc.message_zh, exc.message_en)


def mapping_path(name: str) -> Path:
    """The file of the saved mapping ``name`` in ``data/mappings/``: a name by :func:`names.check_name`, never a path."""
    try:
        return names.path_in(settings.MAPPINGS_DIR, name, ".toml", what_zh="映射名称", what_en="the mapping name")
    except names.NameRefused as exc:
        raise _refused(exc) from exc


def save_mapping(name: str, mapping: Mapping, columns: list[str]) -> Path:
    """Save under ``name`` (a name, never a path: see :mod:`names`), replacing that saved mapping only."""
    path = mapping_path(name)
    doc = {
        "kind": mapping.kind,
        "columns": mapping.source_names(columns),
        "personal_data": {k: columns[i] for k, i in mapping.pii.items()},
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        names.write_file(path, tomli_w.dumps(doc).encode("utf-8"))
    except OSError as exc:
        raise IngestRefused(
            "bad_mapping",
            f"无法保存映射：{exc.strerror or '写入失败'}",
            f"cannot save the mapping: {exc.strerror or 'write failed'}",
        ) from exc
    return path


def load_saved_name(name: str) -> tuple[str | None, dict[str, str]]:
    """(kind, overrides) of the mapping saved as ``name``: a name only (the upload page), never a path."""
    return _load(mapping_path(name), name)


def load_saved(name_or_file: str) -> tuple[str | None, dict[str, str]]:
    """(kind, overrides) from a saved mapping: a name, or (the command line's ``--mapping``) a TOML file's path.

    Only the operator's command line comes here with a path; the upload page uses :func:`load_saved_name`.
    """
    path = Path(name_or_file)
    if path.suffix == ".toml" and path.is_file():
        return _load(path, name_or_file, follow=True)
    return load_saved_name(name_or_file)


def _load(path: Path, shown: str, *, follow: bool = False) -> tuple[str | None, dict[str, str]]:
    try:
        raw = path.read_bytes() if follow else names.read_file(path, _MAX_MAPPING_BYTES)
    except FileNotFoundError:
        raise IngestRefused("bad_mapping", f"找不到已保存的映射：{shown}", f"no saved mapping {shown!r}") from None
    except names.NameRefused as exc:
        raise _refused(exc) from exc
    except OSError as exc:
        raise IngestRefused(
            "bad_mapping", f"无法读取映射：{exc.strerror or shown}", f"cannot read the mapping: {exc.strerror or shown}"
        ) from exc
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise IngestRefused("bad_mapping", f"映射文件格式错误：{exc}", f"invalid mapping file: {exc}") from exc
    overrides = dict(doc.get("columns", {}))
    overrides.update(doc.get("personal_data", {}))
    return doc.get("kind"), overrides


def saved_mapping_names() -> list[str]:
    """The names of the saved mappings (files whose name follows the rule; links left out)."""
    if not settings.MAPPINGS_DIR.exists():
        return []
    found = []
    for p in settings.MAPPINGS_DIR.glob("*.toml"):
        try:
            if not p.is_symlink() and p.is_file() and names.check_name(p.stem) == p.stem:
                found.append(p.stem)
        except names.NameRefused:
            continue
    return sorted(found)
