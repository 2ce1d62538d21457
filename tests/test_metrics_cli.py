"""`cli.py kpis` and `cli.py bottlenecks` over a database file built from the hand-made October log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest_metrics import B, fill_october, insert_cases, insert_events

from store.db import Database

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_KEYS = {
    "cases", "online_rate", "fully_online_rate", "online_capable_rate", "zero_visit_rate", "max_one_visit_rate",
    "median_processing_days", "p90_processing_days", "on_time_rate", "overdue_rate", "open_overdue_cases",
    "at_risk_cases", "first_pass_rate", "resubmission_rate", "good_rating_rate", "bad_ratings", "rating_participation",
}  # fmt: skip
RATES = REQUIRED_KEYS - {"cases", "median_processing_days", "p90_processing_days", "open_overdue_cases",
                         "at_risk_cases", "bad_ratings"}  # fmt: skip


@pytest.fixture(scope="module")
def cases_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "cases.duckdb"
    with Database(path) as db:
        fill_october(db)
    return path


@pytest.fixture(scope="module")
def events_db(tmp_path_factory) -> Path:
    from test_bottlenecks import CASES, EVENTS

    path = tmp_path_factory.mktemp("cli") / "events.duckdb"
    with Database(path) as db:
        insert_events(db, [dict(case_id=c, step=s, department=d, completed_at=t) for c, s, d, t in EVENTS])
        insert_cases(db, CASES)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    import cli

    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_kpis_json(cases_db, capsys) -> None:
    code, out, _ = run(capsys, "kpis", "--db", str(cases_db), "--month", "2026-10", "--format", "json")
    assert code == 0
    k = json.loads(out)
    assert set(k) >= REQUIRED_KEYS
    for key in RATES:
        assert {"value", "numerator", "denominator"} <= set(k[key]), key
    # Hand-computed in test_metrics_kpis: 7 cases, 3/7 online, 2 open overdue.
    assert k["cases"]["value"] == 7
    assert (k["online_rate"]["numerator"], k["online_rate"]["denominator"]) == (3, 7)
    assert k["open_overdue_cases"]["value"] == 2


def test_kpis_filters_and_range(cases_db, capsys) -> None:
    _, out, _ = run(capsys, "kpis", "--db", str(cases_db), "--month", "2026-10", "--department", B, "--format", "json")
    assert json.loads(out)["cases"]["value"] == 2
    _, out, _ = run(capsys, "kpis", "--db", str(cases_db), "--from", "2026-10-29", "--to", "2026-11-02",
                    "--format", "json")  # fmt: skip
    assert json.loads(out)["cases"]["value"] == 3


def test_kpis_table(cases_db, capsys) -> None:
    code, out, _ = run(capsys, "kpis", "--db", str(cases_db), "--month", "2026-10")
    assert code == 0
    assert "网办率 online_rate" in out and "42.9%  (3/7)" in out
    assert "2026-10-31" in out


def test_kpis_empty_month_says_so(cases_db, capsys) -> None:
    code, out, _ = run(capsys, "kpis", "--db", str(cases_db), "--month", "2027-01")
    assert code == 0 and "没有办件数据" in out.splitlines()[0] and "no cases" in out.splitlines()[0]
    code, out, err = run(capsys, "kpis", "--db", str(cases_db), "--month", "2027-01", "--format", "json")
    assert code == 0 and "no cases" in err
    assert json.loads(out)["cases"]["value"] == 0 and json.loads(out)["online_rate"]["value"] is None


def test_kpis_bad_month(cases_db, capsys) -> None:
    code, _, err = run(capsys, "kpis", "--db", str(cases_db), "--month", "2026-13")
    assert code == 2 and "YYYY-MM" in err


def test_bottlenecks_json_by_step_and_department(events_db, capsys) -> None:
    code, out, _ = run(capsys, "bottlenecks", "--db", str(events_db), "--all", "--by", "step", "--format", "json")
    assert code == 0
    rows = {r["unit"]: r for r in json.loads(out)}
    keys = {"count", "median_wait_hours", "p90_wait_hours", "mean_wait_hours", "total_wait_hours", "share_of_case_time"}
    assert all(keys <= set(r) for r in rows.values())
    # 审核 waits 6, 42, 48, 96 h (test_bottlenecks).
    assert rows["审核"]["count"] == 4 and rows["审核"]["median_wait_hours"] == pytest.approx(45)
    assert rows["审核"]["step"] == "审核"
    assert rows["收件"]["median_wait_hours"] is None  # no waiting before the first step: null, not NaN
    _, out, _ = run(capsys, "bottlenecks", "--db", str(events_db), "--all", "--format", "json")
    by_dept = {r["department"]: r for r in json.loads(out)}
    assert by_dept["自然资源所"]["total_wait_hours"] == pytest.approx(186)


def test_bottlenecks_table_ends_with_findings(events_db, capsys) -> None:
    code, out, _ = run(capsys, "bottlenecks", "--db", str(events_db), "--all", "--min-sample", "1")
    assert code == 0 and "主要瓶颈 Top bottlenecks" in out
    assert "自然资源所 的审核环节中位等待 48.0 小时，占全部办理时间的 84.0%" in out
    # With the default minimum sample (10) this small log has nothing to rank, and says so.
    code, out, _ = run(capsys, "bottlenecks", "--db", str(events_db), "--all")
    assert code == 0 and "样本太少" in out and "Top bottlenecks" not in out


def test_default_period_is_the_last_complete_month(events_db, capsys, monkeypatch) -> None:
    """Without --month the commands take the last complete month, as the pages do."""
    monkeypatch.setenv("EGOV_TODAY", "2026-11-15")  # the events are in October
    code, out, _ = run(capsys, "bottlenecks", "--db", str(events_db), "--format", "json")
    assert code == 0 and {r["department"] for r in json.loads(out)} >= {"自然资源所"}
    # On 1 December the last complete month with data is still October (November has none), as on the pages.
    monkeypatch.setenv("EGOV_TODAY", "2026-12-01")
    code, out, _ = run(capsys, "bottlenecks", "--db", str(events_db), "--format", "json")
    assert code == 0 and {r["department"] for r in json.loads(out) if r["count"]} >= {"自然资源所"}
    # While October runs and nothing older has data, the running month is all there is to show.
    monkeypatch.setenv("EGOV_TODAY", "2026-10-20")
    code, out, _ = run(capsys, "bottlenecks", "--db", str(events_db), "--format", "json")
    assert code == 0 and {r["department"] for r in json.loads(out) if r["count"]} >= {"自然资源所"}


def test_bottlenecks_without_events(cases_db, capsys) -> None:
    code, out, err = run(capsys, "bottlenecks", "--db", str(cases_db), "--all", "--by", "step", "--format", "json")
    assert code == 0 and json.loads(out) == [] and "--by department" in err
    _, out, _ = run(capsys, "bottlenecks", "--db", str(cases_db), "--month", "2026-10", "--format", "json")
    rows = {r["department"]: r for r in json.loads(out)}
    assert {r["source"] for r in rows.values()} == {"cases"}
    assert rows[B]["median_wait_hours"] == pytest.approx(183.5)


def test_real_command_line(cases_db) -> None:
    proc = subprocess.run(
        [sys.executable, "cli.py", "kpis", "--db", str(cases_db), "--month", "2026-10", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cases"]["value"] == 7
