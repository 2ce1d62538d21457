"""The leader's time-travel journey: the demo town's dashboard as it reads on the 1st and on the 15th of a month.

"Today" is pinned with EGOV_TODAY for the demo generator and the app alike. Every dashboard page is opened at
1366×768 in Chinese and English; each asserts the default month (the last complete one), the scope line, no raw
codes (open, mobile, None, NaN, …) and no Streamlit English in the Chinese mode, that the tiles are not clipped
and that the five questions fit the first screen. Screenshots go to test-artefacts/journey-*.png.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser_support import idle, settled

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
DAYS = ["2026-12-01", "2026-12-15"]
PAGES = {"overview": "", "adoption": "adoption", "timeliness": "timeliness", "bottlenecks": "bottlenecks",
         "journeys": "journeys"}  # fmt: skip
#: Raw codes and missing-value spellings no person should read (Chinese mode: none at all).
RAW_ZH = re.compile(r"\b(open|completed|rejected|withdrawn|mobile|window|self_service|None|NaN|NaT)\b|\{\"")
#: In English, "open" and "window" are words; the codes and missing-value spellings still must not show.
RAW_EN = re.compile(r"\b(self_service|None|NaN|NaT)\b|\{\"")
#: Streamlit's own English and English dates that would show through in the Chinese mode.
ENGLISH_IN_ZH = re.compile(
    r"Drag and drop|Browse files|per file|\bUpload\b|\bStop\b|\bPrint\b|Record screen|\bDeploy\b|Running"
    r"|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b"
)
CJK = re.compile(r"[\u4e00-\u9fff]")

#: The text a person can see: text nodes that are drawn — not Material icon names (glyphs), not Streamlit's own
#: English that the Chinese stylesheet hides (font-size 0, replaced by CSS content), not hidden elements.
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !node.textContent.trim() || el.closest('[data-testid="stIconMaterial"], style, script')) continue;
    const style = getComputedStyle(el);
    if (style.fontSize === '0px' || style.display === 'none' || style.visibility === 'hidden') continue;
    if (!el.getClientRects().length) continue;
    out.push(node.textContent.trim());
  }
  return out.join('\\n');
}"""
#: Tile values, labels and captions whose text is wider than their box (cut off with an ellipsis or hidden).
CLIPPED = """() => [...document.querySelectorAll(
    '[data-testid="stMetricValue"] div, [data-testid="stMetricLabel"] p, [data-testid="stMetricDelta"] div')]
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"""


#: Tests whose page does not depend on the day of the month run on the 1st only (the day that went wrong before):
#: the suite has twenty minutes, and each page opened costs seconds.
ONE_DAY = pytest.mark.parametrize("town", DAYS[:1], indirect=True)


def last_complete_month(day: str) -> str:
    first = dt.date.fromisoformat(day).replace(day=1)
    return f"{first - dt.timedelta(days=1):%Y-%m}"


@pytest.fixture(scope="module", params=DAYS)
def town(request, tmp_path_factory):
    """(today, app URL, a copy of its database): the demo generated and served with today pinned."""
    day = request.param
    folder = tmp_path_factory.mktemp(f"journey-{day}")
    db_path = folder / "egov.duckdb"
    env = {"EGOV_TODAY": f"{day} 15:00"}  # the afternoon: at 00:30 on the 1st the running month has no cases yet
    proc = subprocess.run(
        [sys.executable, "cli.py", "demo", "--db", str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
    )
    assert proc.returncode == 0, proc.stderr
    copy = folder / "copy.duckdb"
    shutil.copy(db_path, copy)
    from tests.conftest import StreamlitServer

    server = StreamlitServer(db_path, folder / "logs", env=env)
    server.wait_healthy()
    try:
        yield day, server.url, copy
    finally:
        server.stop()


def _open(page, url: str) -> str:
    """Open a page and return its visible text once it has stopped changing."""
    page.goto(url)
    page.locator('[data-testid="stMainBlockContainer"] h1').first.wait_for()
    return settled(page, VISIBLE_TEXT)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_dashboard_page_reads_true(town, browser, artefacts_dir, lang):
    day, url, _ = town
    month = last_complete_month(day)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        for name, path in PAGES.items():
            text = _open(page, f"{url}/{path}?lang={lang}")
            scope = page.locator(".st-key-scope_line").inner_text()
            all_departments = "全部部门" if lang == "zh" else "All departments"
            assert month in scope and all_departments in scope, (name, scope)
            raw = (RAW_ZH if lang == "zh" else RAW_EN).findall(text)
            assert not raw, (name, lang, raw)
            if lang == "zh":
                assert not ENGLISH_IN_ZH.search(text), (name, ENGLISH_IN_ZH.search(text))
            else:
                labels = page.evaluate(
                    """() => [...document.querySelectorAll('[data-testid="stMetricLabel"], h1, h2, h3, .gtitle')]
                       .map(e => e.textContent)"""
                )
                assert not [x for x in labels if CJK.search(x)], (name, labels)
            assert not page.evaluate(CLIPPED), (name, lang, page.evaluate(CLIPPED))
            page.screenshot(path=str(artefacts_dir / f"journey-{day}-{name}-{lang}-1366.png"))
    finally:
        context.close()


def test_the_first_screen_answers_the_five_questions(town, browser, artefacts_dir):
    """At 1366×768 the tiles (with their states), the overdue and at-risk counts and the 红黑榜 fit without scrolling."""
    day, url, _ = town
    for width, height in ((1366, 768), (1920, 1080)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        try:
            _open(page, f"{url}/")
            # Every tile drawn whole (value, change and caption): a busy machine can pause mid-run.
            page.wait_for_function(
                """() => { const t = [...document.querySelectorAll('[class*="st-key-tile_"]')];
                           return t.length == 10 && t.every(e => e.querySelector('[data-testid="stMetricDelta"]')
                                                              && e.querySelector('[data-testid="stCaptionContainer"]')); }"""
            )
            settled(page)
            tiles = page.locator('[class*="st-key-tile_"]')
            boxes = [tiles.nth(i).bounding_box() for i in range(tiles.count())]
            assert max(b["y"] + b["height"] for b in boxes) <= height, boxes
            heights = [b["height"] for b in boxes]
            assert max(heights) - min(heights) <= 4, heights  # tiles of even height
            board = page.locator('[class*="st-key-board_"]')
            assert board.count() >= 4
            last = board.nth(board.count() - 1).bounding_box()
            assert last["y"] + last["height"] <= height, last
            states = page.locator('[class*="st-key-tile_"] [data-testid="stCaptionContainer"]').all_inner_texts()
            assert sum(bool(re.search("达标|接近|未达标", s)) for s in states) >= 6, states
            for kpi in ("tile_open_overdue_cases", "tile_at_risk_cases"):
                assert page.locator(f".st-key-{kpi} a").count() == 1  # links to its list
            page.screenshot(path=str(artefacts_dir / f"journey-{day}-first-screen-{width}.png"))
        finally:
            context.close()


def test_running_month_and_first_month(town, browser, artefacts_dir):
    """The running month reads 本月至今 and compares with the same days; the first month has no change to show."""
    day, url, copy = town
    import duckdb

    with duckdb.connect(str(copy), read_only=True) as con:
        first = con.execute("SELECT strftime(min(submitted_at), '%Y-%m') FROM cases").fetchone()[0]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        running = day[:7]
        _open(page, f"{url}/?month={running}")
        scope = page.locator(".st-key-scope_line").inner_text()
        n = int(day[-2:])
        span = f"1–{n} 日" if n > 1 else "1 日"
        assert f"本月至今，{span}" in scope and f"同期（{span}）" in scope, scope
        # Every tile's change is drawn (a slow run can pause long enough to look settled).
        page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stMetricDelta\"]').length >= 10")
        deltas = page.locator('[data-testid="stMetricDelta"]').all_inner_texts()
        described = page.locator('[data-testid="stMetricDeltaDescription"]').all_inner_texts()
        assert len(deltas) == 10, deltas
        # Each change that can be computed says it is against the same days; on the 1st the same day of
        # last month may have had no cases at all (a Sunday), and then there is nothing to compare: "—".
        compared = [d for d in deltas if d.strip() != "—"]
        assert described.count("同期") == 10 and (compared or n == 1), (deltas, described)
        page.screenshot(path=str(artefacts_dir / f"journey-{day}-running-month.png"))

        _open(page, f"{url}/?month={first}")
        values = page.locator('[data-testid="stMetricDelta"]').all_inner_texts()
        assert values and all(v.strip() == "—" for v in values), values
        page.screenshot(path=str(artefacts_dir / f"journey-{day}-first-month.png"))
    finally:
        context.close()


@ONE_DAY
def test_department_finding_compares_with_the_whole_town(town, browser):
    """With one department chosen, the scope line names it and "全镇中位" is the town's figure (independent SQL)."""
    day, url, copy = town
    import duckdb

    month = last_complete_month(day)
    start = dt.date.fromisoformat(f"{month}-01")
    end = (start + dt.timedelta(days=32)).replace(day=1)
    with duckdb.connect(str(copy), read_only=True) as con:
        # The town's median wait: each event's wait since the case's previous event (until its own start, when
        # given), over every case submitted in the month, whatever department is chosen.
        town_median = con.execute(
            """
            WITH e AS (
              SELECT ev.started_at, ev.completed_at,
                     lag(ev.completed_at) OVER (PARTITION BY ev.case_id ORDER BY ev.completed_at, ev.seq) AS prev
              FROM events ev JOIN cases c USING (case_id)
              WHERE c.submitted_at >= ? AND c.submitted_at < ?)
            SELECT quantile_cont(epoch(greatest(coalesce(started_at, completed_at), prev) - prev) / 3600, 0.5)
            FROM e WHERE prev IS NOT NULL
            """,
            [start, end],
        ).fetchone()[0]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        _open(page, f"{url}/bottlenecks?month={month}")
        page.get_by_text("经手的环节中位等待").first.wait_for()  # the findings are drawn
        text = settled(page, VISIBLE_TEXT)
        found = re.search(r"^\d+\.\s*(\S+) 经手的环节中位等待", text, re.M)
        assert found, text[:2000]
        department = found.group(1)
        _open(page, f"{url}/bottlenecks?month={month}&dept={department}")
        page.get_by_text("全镇中位").first.wait_for()
        text = settled(page, VISIBLE_TEXT)
        assert department in page.locator(".st-key-scope_line").inner_text()
        town_figure = re.search(r"全镇中位 ([\d.,]+) (小时|天)", text)
        assert town_figure, text[:2000]
        shown = float(town_figure.group(1).replace(",", ""))
        expected = town_median if town_figure.group(2) == "小时" else town_median / 24
        assert shown == pytest.approx(expected, abs=0.051), (shown, town_median)
        # The scope line clears the filter it names, and every page follows.
        page.locator(".st-key-scope_clear_dept button").first.click()
        idle(page)
        page.wait_for_function(
            "() => document.querySelector('.st-key-scope_line').innerText.includes('全部部门')", timeout=30_000
        )
        assert "dept=" not in page.url
    finally:
        context.close()


@ONE_DAY
def test_downloads_carry_their_scope_and_no_raw_codes(town, browser):
    """The overdue list's Excel: the scope in its title row and file name, channels in words, no None."""
    from openpyxl import load_workbook

    day, url, _ = town
    month = last_complete_month(day)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    try:
        _open(page, f"{url}/timeliness?month={month}")
        with page.expect_download() as info:
            page.locator(".st-key-overdue_download button").click()
        download = info.value
        assert month in download.suggested_filename and download.suggested_filename.endswith(".xlsx")
        assert "/" not in download.suggested_filename
        book = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
        sheet = book.worksheets[0]
        assert sheet["A1"].value.endswith(f"{month} · 全部部门 · 全部事项 · 全部渠道")
        cells = [str(c) for row in sheet.iter_rows(min_row=3, values_only=True) for c in row if c is not None]
        assert cells and not RAW_ZH.findall(" ".join(cells))
    finally:
        context.close()


@ONE_DAY
def test_the_analysts_pages_have_no_streamlit_english(town, browser, artefacts_dir):
    """The upload page's file chooser and the history read Chinese in the Chinese mode (Streamlit has no locale)."""
    day, url, _ = town
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        for path in ("upload", "uploads", "quality", "snapshots", "users"):
            text = _open(page, f"{url}/{path}?lang=zh")
            assert not ENGLISH_IN_ZH.search(text), (path, ENGLISH_IN_ZH.search(text))
            assert not RAW_ZH.findall(text), (path, RAW_ZH.findall(text))
            page.screenshot(path=str(artefacts_dir / f"journey-{day}-{path}-zh-1366.png"))
        chooser = page.locator('[data-testid="stFileUploaderDropzone"]')
        if path != "upload":
            _open(page, f"{url}/upload?lang=zh")
        after = page.evaluate(
            """() => [...document.querySelectorAll('[data-testid="stFileUploaderDropzone"] *')]
                 .map(e => getComputedStyle(e, '::after').content).filter(c => c && c !== 'none').join(' ')"""
        )
        assert "选择文件" in after and "拖放" in after and chooser.count() == 1
    finally:
        context.close()


#: What would name a person: an 18-character ID number or an 11-digit mobile number standing alone (the 19-digit
#: case numbers do not match). Names never reach the database (store: personal data masked at load).
PERSONAL = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])|(?<!\d)1[3-9]\d{9}(?!\d)")


def test_the_journeys_page_shows_a_pair_by_its_journeys(town, browser, artefacts_dir):
    """一件事: the headline, the matrix, a click on a pair shows its example journeys, and nothing on the page
    names a person. On the 1st and the 15th last month's late journeys may still take cases (until its end + 15
    days): no change vs the month before, and the page says so; the month before last shows its changes."""
    day, url, copy = town
    month = last_complete_month(day)
    width = 1366 if day.endswith("-01") else 1920
    context = browser.new_context(viewport={"width": width, "height": 768 if width == 1366 else 1080})
    page = context.new_page()
    try:
        text = _open(page, f"{url}/journeys")
        assert re.search(rf"{month}：[\d,]+ 位群众本月开始了 [\d,]+ 个旅程", text), text[:1500]
        assert page.locator(".st-key-journeys_matrix").count() == 1
        assert not PERSONAL.search(text), PERSONAL.search(text)
        deltas_drawn = "() => document.querySelectorAll('[data-testid=\"stMetricDelta\"]').length >= 5"
        page.wait_for_function(deltas_drawn, timeout=30_000)  # the five tiles, each drawn with its change
        deltas = [d.strip() for d in page.locator('[data-testid="stMetricDelta"]').all_inner_texts()]
        assert len(deltas) == 5 and all(d == "—" for d in deltas), deltas  # last month's journeys go on
        assert "尚未全部结束" in text
        page.screenshot(path=str(artefacts_dir / f"journey-{day}-journeys-{width}.png"))
        table = page.locator('[class*="st-key-journeys_pairs_"] [data-testid="stDataFrameResizable"]')
        table.scroll_into_view_if_needed()
        box = table.bounding_box()
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's selection box
        page.get_by_text("旅程示例：").first.wait_for(timeout=30_000)
        text = settled(page, VISIBLE_TEXT)
        assert not PERSONAL.search(text), PERSONAL.search(text)
        found = re.search(r"旅程示例：(.+?) \+ (.+)", text)
        assert found, text[-2000:]
        import duckdb

        from metrics.filters import Filters
        from metrics.journeys import item_pairs

        with duckdb.connect(str(copy), read_only=True) as con:  # the first row: the pair with most applicants
            pairs, _ = item_pairs(con.cursor(), Filters.month(month))
        assert [found.group(1).strip(), found.group(2).strip()] == pairs[0]["items"], (found.groups(), pairs[:2])
        page.screenshot(path=str(artefacts_dir / f"journey-{day}-journeys-pair-{width}.png"), full_page=True)
        # The month before last is over (its end + 15 days is behind us on the 1st and on the 15th): changes shown.
        before = last_complete_month(f"{month}-01")
        text = _open(page, f"{url}/journeys?month={before}")
        deltas = [d.strip() for d in page.locator('[data-testid="stMetricDelta"]').all_inner_texts()]
        assert "尚未全部结束" not in text and any(d != "—" for d in deltas), deltas
    finally:
        context.close()
