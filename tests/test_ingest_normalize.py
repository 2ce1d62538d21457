"""Mapping and normalisation tables: column names, channels, satisfaction, time limits, timestamps."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from ingest import normalize
from ingest.channels import channel_sql
from ingest.errors import IngestRefused
from ingest.mapping import apply_overrides, auto_map, check_required, detect_kind, load_saved, save_mapping


@pytest.fixture
def cur(tmp_db):
    c = tmp_db.cursor()
    normalize.install_macros(c)
    return c


@pytest.mark.parametrize(
    ("columns", "kind", "expected"),
    [
        (
            [
                "办件编号",
                "事项名称",
                "实施部门",
                "申请渠道",
                "申请时间",
                "受理时间",
                "办结时间",
                "承诺时限",
                "法定时限",
                "跑动次数",
                "补正次数",
                "满意度",
            ],
            "cases",
            {
                "case_id": 0,
                "service_item": 1,
                "department": 2,
                "channel": 3,
                "submitted_at": 4,
                "accepted_at": 5,
                "completed_at": 6,
                "promised": 7,
                "statutory": 8,
                "visits": 9,
                "resubmissions": 10,
                "satisfaction": 11,
            },
        ),
        (
            ["业务流水号", "服务事项", "受理部门", "申请方式", "申报时间", "承诺办结时限", "到现场次数", "评价结果"],
            "cases",
            {
                "case_id": 0,
                "service_item": 1,
                "department": 2,
                "channel": 3,
                "submitted_at": 4,
                "promised": 5,
                "visits": 6,
                "satisfaction": 7,
            },
        ),
        (
            ["申办编号", "办理事项", "承办单位", "办理渠道", "收件时间"],
            "cases",
            {"case_id": 0, "service_item": 1, "department": 2, "channel": 3, "submitted_at": 4},
        ),
        (
            ["Case ID", "Service", "Department", "Channel", "Submitted At", "Completed At"],
            "cases",
            {"case_id": 0, "service_item": 1, "department": 2, "channel": 3, "submitted_at": 4, "completed_at": 5},
        ),
        (
            [
                "case:concept:name",
                "concept:name",
                "time:timestamp",
                "start_timestamp",
                "org:resource",
                "org:group",
                "lifecycle:transition",
                "case:channel",
                "case:deadline",
            ],
            "events",
            {
                "case_id": 0,
                "step": 1,
                "event_time": 2,
                "started_at": 3,
                "handler": 4,
                "step_department": 5,
                "lifecycle": 6,
                "channel": 7,
                "due_at": 8,
            },
        ),
        (
            [
                "事项编码",
                "事项名称",
                "实施部门",
                "是否网上可办",
                "是否全程网办",
                "承诺时限",
                "法定时限",
                "最多跑动次数",
            ],
            "catalog",
            {
                "item_code": 0,
                "item_name": 1,
                "department": 2,
                "online_capable": 3,
                "fully_online_capable": 4,
                "promised": 5,
                "statutory": 6,
                "max_visits": 7,
            },
        ),
    ],
)
def test_automatic_mapping(columns, kind, expected):
    assert detect_kind(columns) == kind
    mapping = auto_map(columns, kind)
    assert mapping.fields == expected
    check_required(mapping, columns)


def test_personal_columns_are_recognised_not_mapped():
    columns = ["办件编号", "申请人姓名", "证件号码", "联系电话", "申请时间", "家庭住址"]
    mapping = auto_map(columns, "cases")
    assert mapping.pii == {"name": 1, "id_number": 2, "phone": 3, "address": 5}
    assert set(mapping.fields) == {"case_id", "submitted_at"}


def test_unit_hint_from_header():
    mapping = auto_map(["办件编号", "申请时间", "承诺时限（自然日）"], "cases")
    assert mapping.unit_hints == {"promised": "natural"}


def test_missing_required_column_names_missing_and_found():
    columns = ["事项名称", "申请渠道"]
    with pytest.raises(IngestRefused) as info:
        check_required(auto_map(columns, "cases"), columns)
    message = info.value.message_zh + info.value.message_en
    for word in ("办件编号", "申请时间", "事项名称", "申请渠道", "case_id", "submitted_at"):
        assert word in message


def test_override_and_saved_mapping_round_trip(tmp_path, monkeypatch):
    import settings

    monkeypatch.setattr(settings, "MAPPINGS_DIR", tmp_path / "mappings")
    columns = ["编号", "事项", "提交日期", "手机"]
    mapping = auto_map(columns, "cases")
    assert "case_id" not in mapping.fields
    mapping = apply_overrides(mapping, columns, {"case_id": "编号", "submitted_at": "提交日期", "phone": "手机"})
    check_required(mapping, columns)
    path = save_mapping("乡镇平台A", mapping, columns)
    assert path.parent == tmp_path / "mappings"
    kind, overrides = load_saved("乡镇平台A")
    assert kind == "cases"
    assert overrides == {"case_id": "编号", "service_item": "事项", "submitted_at": "提交日期", "phone": "手机"}
    with pytest.raises(IngestRefused):
        load_saved("../../etc/passwd")
    with pytest.raises(IngestRefused) as info:
        apply_overrides(auto_map(columns, "cases"), columns, {"case_id": "不存在的列"})
    assert "不存在的列" in info.value.message_zh


@pytest.mark.parametrize(
    ("raw", "channel"),
    [
        ("网上申请", "online"),
        ("Internet", "online"),
        ("政务服务网", "online"),
        ("移动端", "mobile"),
        ("豫事办小程序", "mobile"),
        ("APP", "mobile"),
        ("窗口办理", "window"),
        ("Desk", "window"),
        ("现场", "window"),
        ("自助终端", "self_service"),
        ("邮寄", "post"),
        ("Post", "post"),
        ("电话预约", "other"),
        ("", None),
    ],
)
def test_channel_synonyms(cur, raw, channel):
    assert cur.execute(f"SELECT {channel_sql('$1')}", [raw]).fetchone()[0] == channel


def test_channel_synonym_table_is_editable(tmp_db):
    from store.channels import set_synonym

    cur = tmp_db.cursor()
    assert cur.execute(f"SELECT {channel_sql('$1')}", ["村代办"]).fetchone()[0] == "other"
    set_synonym(cur, "代办", "window")
    assert cur.execute(f"SELECT {channel_sql('$1')}", ["村代办"]).fetchone()[0] == "window"
    with pytest.raises(ValueError):
        set_synonym(cur, "x", "fax")


@pytest.mark.parametrize(
    ("raw", "score"),
    [
        ("非常满意", 5),
        ("满意", 4),
        ("基本满意", 3),
        ("一般", 3),
        ("不满意", 2),
        ("非常不满意", 1),
        ("5", 5),
        ("1", 1),
        ("4分", 4),
        ("★★★", 3),
        ("差评", 1),
        ("very satisfied", 5),
        ("6", None),
        ("0", None),
        ("", None),
        ("未评价", None),
    ],
)
def test_satisfaction(cur, raw, score):
    assert cur.execute("SELECT egov_satisfaction(?)", [raw]).fetchone()[0] == score


@pytest.mark.parametrize(
    ("raw", "days", "unit"),
    [
        ("5个工作日", 5.0, "working"),
        ("20日", 20.0, "natural"),
        ("15天", 15.0, "natural"),
        ("即办", 0.0, "working"),
        ("10", 10.0, "working"),
        ("30个自然日", 30.0, "natural"),
        ("1个月", 30.0, "natural"),
        ("", None, None),
    ],
)
def test_time_limits(cur, raw, days, unit):
    assert cur.execute("SELECT egov_days(?), egov_day_unit(?, NULL)", [raw, raw]).fetchone() == (days, unit)


D = dt.datetime


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-10-09 09:05:07", D(2026, 10, 9, 9, 5, 7)),
        ("2026/10/9 9:05", D(2026, 10, 9, 9, 5)),
        ("2026.10.09", D(2026, 10, 9)),
        ("2026年10月9日 9时5分", D(2026, 10, 9, 9, 5)),
        ("2026年10月9日", D(2026, 10, 9)),
        ("20261009090507", D(2026, 10, 9, 9, 5, 7)),
        ("2026-10-09T09:05:07.250", D(2026, 10, 9, 9, 5, 7, 250000)),
        ("2026-10-09T01:05:07Z", D(2026, 10, 9, 9, 5, 7)),  # UTC -> Shanghai
        ("2026-10-09T09:05:07+08:00", D(2026, 10, 9, 9, 5, 7)),
        ("2026-10-09 03:05:07+02:00", D(2026, 10, 9, 9, 5, 7)),
        ("46304.375", D(2026, 10, 9, 9, 0)),  # an Excel serial number
        ("not a time", None),
        ("2026-13-45", None),
        ("", None),
    ],
)
def test_timestamps(cur, raw, expected):
    assert cur.execute("SELECT egov_ts(?, 'Asia/Shanghai')", [raw]).fetchone()[0] == expected


def test_timestamps_respect_configured_zone(cur):
    got = cur.execute("SELECT egov_ts('2026-10-09T00:00:00Z', 'Europe/Berlin')").fetchone()[0]
    assert got == D(2026, 10, 9, 2, 0)  # CEST, UTC+2


def test_masking_of_identifiers_in_free_text(cur):
    text = "申请人411323199001011234电话13812345678办理"
    assert cur.execute("SELECT egov_text(?)", [text]).fetchone()[0] == "申请人***电话***办理"


def test_booleans(cur):
    got = cur.execute("SELECT egov_bool('是'), egov_bool('否'), egov_bool('Y'), egov_bool('?')").fetchone()
    assert got == (True, False, True, None)


def test_macros_are_per_cursor():
    con = duckdb.connect()
    with pytest.raises(duckdb.Error):
        con.execute("SELECT egov_days('5')")
