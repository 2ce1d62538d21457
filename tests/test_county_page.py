"""The 全县对比 page through AppTest: the towns' table, the ranking sentence, a town's button filters every page.

The county is tests/test_county.py's hand-made three towns (October 2026); the sample for ranking is 3 cases,
so 甲镇 and 乙镇 are ranked and 丙镇 (2 cases) is named as left out. With one town the page is not in the menu.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit

import settings
from store.db import Database
from tests.apptest_support import start_app
from tests.test_county import fill_county


@pytest.fixture
def county_path(tmp_path: Path) -> Path:
    db = Database(tmp_path / "egov.duckdb")
    fill_county(db, tmp_path)
    db.close()
    return tmp_path / "egov.duckdb"


def _menu(monkeypatch) -> dict[str, str]:
    """Record the navigation's pages: url path -> visibility."""
    seen: dict[str, str] = {}
    original = streamlit.navigation

    def recording(pages, **kwargs):
        for group in pages.values():
            for page in group:
                seen[page.url_path] = page.visibility
        return original(pages, **kwargs)

    monkeypatch.setattr(streamlit, "navigation", recording)
    return seen


def test_the_county_page_compares_ranks_and_opens_a_town(county_path: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(settings, "MIN_SAMPLE", 3)
    menu = _menu(monkeypatch)
    at = start_app(county_path, monkeypatch, tmp_path)
    assert menu["county"] == "visible"
    at.query_params["month"] = "2026-10"
    at.session_state["f_town"] = ["丙镇"]  # the town filter does not narrow this page
    at.switch_page("views/county.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "全县对比"
    frame = at.dataframe[0].value
    table = frame.data if hasattr(frame, "data") else frame
    assert list(table["乡镇（街道）"]) == ["乙镇", "甲镇", "丙镇"]
    assert list(table["办件量"]) == [5, 4, 2]
    assert [round(v, 3) for v in table["网办率"]] == [0.8, 0.5, 0.5]
    assert [None if v != v else round(v, 1) for v in table["网办率较上月"]] == [80.0, 0.0, None]  # points
    assert at.dataframe[0].proto.placeholder == "—"  # drawn as a dash, not "None"
    off = dict(zip(table["乡镇（街道）"], table["未达标项"], strict=True))
    assert "✖ 网办率 未达标（差 10.0 个百分点）" in off["甲镇"]  # target 60%
    assert set(table["月报快照"]) == {"未发布"}
    text = [m.value for m in at.markdown]
    assert "- 网办率由低到高：甲镇 50\\.0%、乙镇 80\\.0%（全县 63\\.6%）" in text, text
    assert "- 在办超期件最多的乡镇：乙镇 1 件（全县 1 件）" in text
    assert any("未参与排名的乡镇：丙镇" in c.value for c in at.caption)
    assert any("侧栏已选乡镇（丙镇）" in c.value for c in at.caption)

    go = next(b for b in at.button if b.label == "甲镇")
    go.click().run()
    assert not at.exception, at.exception
    assert at.session_state["f_town"] == ["甲镇"]
    assert at.title[0].value != "全县对比"  # the overview, filtered to 甲镇
    assert at.metric[0].value == "4"  # 甲镇's October cases

    at.query_params["lang"] = "en"
    at.session_state["lang"] = "en"
    at.session_state["f_town"] = []
    at.switch_page("views/county.py").run()
    assert not at.exception, at.exception
    text = [m.value for m in at.markdown]
    assert "- Online rate from lowest to highest\\: 甲镇 50\\.0%, 乙镇 80\\.0% \\(county 63\\.6%\\)" in text, text


def test_with_one_town_the_page_is_not_in_the_menu(tmp_path: Path, monkeypatch) -> None:
    db = Database(tmp_path / "egov.duckdb")
    path = tmp_path / "one.csv"
    path.write_text(
        "办件编号,事项名称,实施部门,申请渠道,申请时间\nA-1,结婚登记,民政办,网上,2026-10-05 09:00\n", encoding="utf-8"
    )
    from ingest.load import ingest_file

    ingest_file(db, path)
    db.close()
    menu = _menu(monkeypatch)
    at = start_app(tmp_path / "egov.duckdb", monkeypatch, tmp_path)
    assert menu["county"] == "hidden" and menu["adoption"] == "visible"
    at.switch_page("views/county.py").run()  # a link still opens it, and it says why it has nothing to compare
    assert not at.exception, at.exception
    assert any("只有一个乡镇有数据" in i.value for i in at.info)
