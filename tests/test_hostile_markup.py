"""Nothing from the data is markup, and every table downloads inert (issue 13, parts 7 and 8).

A department named ``<a href="https://evil.example">户籍</a>`` must not become a link, ``![](http://…/x.png)`` not
an image that calls a listener, a step ``<b>受理</b><img src=x>`` not bold text and an image in a chart; a service
item ``=HYPERLINK(…)`` must not become a live formula in the CSV that a table's toolbar downloads.

1. the helpers: ``ui.fmt.md_text`` (Markdown) and ``charts.theme.plot_text`` (Plotly), ``ui.widgets.inert`` (tables);
2. the pages through AppTest on a demo database with hostile names: Markdown shows the escaped text, the
   figures' JSON holds entity-escaped labels, every table's text cells are neutralised;
3. the bottlenecks page in headless Chromium: no link to evil.example and no image from 127.0.0.1:9 in the DOM,
   the Plotly SVG included.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from charts.theme import plot_text, plot_texts
from ui.fmt import md_text
from ui.widgets import inert

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2026-10"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

LINK_DEPT = '<a href="https://evil.example">户籍</a>'
IMAGE_DEPT = "![](http://127.0.0.1:9/x.png)"
STEP = "<b>受理</b><img src=x>"
#: Demo names -> hostile names. The two slow offices lead the bottleneck findings, so their names are in the text.
DEPARTMENTS = {"自然资源所": LINK_DEPT, "市场监管所": IMAGE_DEPT, "民政办": "@SUM(1)", "社保所": "-2+3 社保"}
STEPS = {"受理": STEP}
FORMULA_FILE = '=HYPERLINK("https://evil.example","x").csv'
FORMULA_ITEMS = ['=HYPERLINK("https://evil.example","点我")', "+cmd|' /C calc'!A0", "\t=1+1"]

SAMPLES = [
    "[点此](https://evil)",
    "![x](http://l/x.png)",
    "<img src=x onerror=alert(1)>",
    '<a href="https://e">x</a>',
    ":red[x]",
    ":red-background[x]",
    ":material/home:",
    ":streamlit:",
    ":smile:",
    "$x^2$",
    "**b**",
    "_i_",
    "~~s~~",
    "`code`",
    "# h",
    "> q",
    "1. item",
    "- item",
    "| a |",
    "https://evil.example/a",
    "www.evil.example",
    "a@evil.example",
    "&lt;b&gt;",
    "line\nbreak",
    LINK_DEPT,
    IMAGE_DEPT,
    STEP,
]


# 1. The helpers --------------------------------------------------------------------------------------------------


def shown_markdown(escaped: str) -> str:
    """What Markdown shows for md_text's output: escapes read, the entity decoded, the joiners invisible."""
    return re.sub(r"\\(.)", r"\1", escaped).replace("&amp;", "&").replace("\u2060", "")


@pytest.mark.parametrize("raw", SAMPLES)
def test_md_text_leaves_no_markup(raw):
    escaped = md_text(raw)
    # Every character Markdown, GitHub's extensions, KaTeX or Streamlit's directives read is escaped ...
    assert not re.search(r"(?<!\\)[\[\]()!*_`#|<>~$:@=+\-.{}]", escaped.replace("\\\\", "")), escaped
    assert not re.search(r"&(?!amp;)", escaped), escaped
    assert "\n" not in escaped and "\r" not in escaped
    # ... and what is read after escapes (icons, emoji, autolinks) finds no pattern: nothing follows ":" or "@".
    assert not re.search(r"[:@][^\s\u2060]", escaped), escaped
    assert not re.search(r"(?i)www\\?\.", escaped), escaped
    assert not re.search(r"https?\\?:/", escaped), escaped
    # The text itself reads as it was.
    assert shown_markdown(escaped) == raw.replace("\n", " ")


@pytest.mark.parametrize("raw", SAMPLES)
def test_plot_text_is_inert_in_plotly(raw):
    text = plot_text(raw)
    assert "<" not in text and ">" not in text and "$" not in text
    assert not re.search(r"&(?!(amp|lt|gt|#36);)", text), text
    assert text.replace("&lt;", "<").replace("&gt;", ">").replace("&#36;", "$").replace("&amp;", "&") == raw
    assert plot_texts([raw, None, float("nan"), ""]) == [text, "未注明", "未注明", "未注明"]


def test_plot_text_of_a_step_and_a_department():
    assert plot_text(STEP) == "&lt;b&gt;受理&lt;/b&gt;&lt;img src=x&gt;"
    assert plot_text(LINK_DEPT) == '&lt;a href="https://evil.example"&gt;户籍&lt;/a&gt;'


def test_inert_neutralises_text_and_keeps_numbers():
    frame = pd.DataFrame(
        {
            '=HYPERLINK("x")': ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\t=1", "\r=1", "普通", None],
            "n": [-1, 2, -3, 4, 5, 6, 7, 8],
            "f": [-1.5, 2.0, None, 4.0, 5.0, 6.0, 7.0, 8.0],
            "s": pd.array(["=a", "b", "-c", None, "d", "e", "f", "g"], dtype="string"),
        },
        index=["=i", "j", "k", "l", "m", "n", "o", "p"],
    )
    out = inert(frame)
    assert list(out.columns) == ['\'=HYPERLINK("x")', "n", "f", "s"]
    assert list(out.iloc[:, 0][:7]) == ["'=1+1", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(1)", "'\t=1", "'\r=1", "普通"]
    assert pd.isna(out.iloc[7, 0])
    assert list(out["n"]) == [-1, 2, -3, 4, 5, 6, 7, 8] and out["n"].dtype == frame["n"].dtype
    assert out["f"].dtype == frame["f"].dtype and out["f"].iloc[0] == -1.5
    assert list(out["s"][:3]) == ["'=a", "b", "'-c"]
    assert out.index[0] == "'=i"
    assert not frame.equals(out) and frame.iloc[0, 0] == "=1+1"  # the caller's frame is untouched
    styled = inert(frame[["n", "s"]].style.format({"n": "{:,.0f}"}))  # a Styler keeps its formats
    assert list(styled.data["s"][:3]) == ["'=a", "b", "'-c"] and styled.data["n"].dtype == frame["n"].dtype
    assert "'=a" in styled.to_html()


# 2. The pages through AppTest -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_dir(small_demo_db: Path, tmp_path_factory) -> Path:
    """The small demo database with hostile department, step and item names (facets rebuilt, kept figures gone)."""
    from metrics import targets
    from store import facets
    from store.db import Database
    from store.uploads import mark_changed

    target = tmp_path_factory.mktemp("hostile")
    path = target / "egov.duckdb"
    shutil.copy(small_demo_db, path)
    key = small_demo_db.parent / "secret.key"
    if key.exists():
        shutil.copy(key, target / "secret.key")
    db = Database(path)
    try:
        with db.write() as cur:
            items = [r[0] for r in cur.execute(
                "SELECT service_item FROM case_rows WHERE service_item IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC"
            ).fetchall()][: len(FORMULA_ITEMS)]  # fmt: skip
            for old, new in zip(items, FORMULA_ITEMS, strict=True):
                cur.execute("UPDATE case_rows SET service_item = ? WHERE service_item = ?", [new, old])
                cur.execute("UPDATE service_item_rows SET item_name = ? WHERE item_name = ?", [new, old])
            for old, new in DEPARTMENTS.items():
                for table, column in [
                    ("case_rows", "department"), ("event_rows", "department"), ("service_item_rows", "department"),
                    ("targets", "department"), ("event_rows", "prev_known_department"),
                ]:  # fmt: skip
                    cur.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", [new, old])
            for old, new in STEPS.items():
                for column in ("step", "prev_step"):  # the step and its copy on the next event (store.schema)
                    cur.execute(f"UPDATE event_rows SET {column} = ? WHERE {column} = ?", [new, old])
            _journeys_across(cur, LINK_DEPT, IMAGE_DEPT)
            cur.execute("UPDATE uploads SET file_name = ? WHERE upload_id = 1", [FORMULA_FILE])
            facets.refresh(cur)
            mark_changed(cur)  # rows changed behind the loader's back: the KPI cube's cells are made again
            cur.execute("DELETE FROM kept_figures")
        targets.set_target(db, "online_rate", 0.5, department="@SUM(1)", by="=cmd|' /C calc'!A0")
    finally:
        db.close()
    return target


def _journeys_across(cur, first: str, second: str, people: int = 5) -> None:
    """Five applicants (K) who each filed an October case of ``first`` and then, within 15 days, one of ``second``: the
    一件事 page then names both (hostile) departments in its figures."""
    picks = [
        cur.execute(
            "SELECT case_id, min(submitted_at) AS first_at FROM case_rows WHERE department = ? "
            "AND strftime(submitted_at, '%Y-%m') = ? GROUP BY case_id ORDER BY first_at, case_id",
            [department, MONTH],
        ).fetchall()
        for department in (first, second)
    ]
    taken: set[str] = set()
    pairs = []
    for case_a, at_a in picks[0]:
        match = next((c for c, at in picks[1] if c not in taken and 0 <= (at - at_a).days < 15), None)
        if match is not None:
            taken.add(match)
            pairs.append((case_a, match))
        if len(pairs) == people:
            break
    assert len(pairs) == people, pairs
    for n, (case_a, case_b) in enumerate(pairs):
        key = f"hostile-journey-{n}"
        cur.execute("UPDATE case_rows SET applicant_key = ? WHERE case_id IN (?, ?)", [key, case_a, case_b])


def private_copy(hostile_dir: Path, name: str) -> Path:
    target = hostile_dir / name
    if not target.exists():
        target.mkdir()
        for file in ("egov.duckdb", "secret.key"):
            if (hostile_dir / file).exists():
                shutil.copy(hostile_dir / file, target / file)
    return target / "egov.duckdb"


@pytest.fixture(scope="module")
def app_db(hostile_dir: Path) -> Path:
    return private_copy(hostile_dir, "apptest")


def open_page(db_path: Path, monkeypatch, page: str) -> AppTest:
    monkeypatch.setenv("EGOV_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["month"] = MONTH
    at.run()
    assert not at.exception, at.exception
    if page != "views/overview.py":
        at.switch_page(page).run()
        assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]  # app.py turns a failing page into an error message
    return at


def markdown_texts(at: AppTest) -> list[str]:
    """Every text of the page that Streamlit renders as Markdown: bodies, alerts, headings, labels, help texts."""
    texts: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success", "toast"):
        texts += [str(e.value) for e in at.get(kind)]
    for kind in ("button", "download_button", "metric", "selectbox", "multiselect", "slider", "button_group"):
        for e in at.get(kind):
            texts += [str(getattr(e.proto, field, "") or "") for field in ("label", "help", "body")]
    texts += [str(e.label) for e in at.expander] + [str(t.label) for t in at.tabs]
    return [t for t in texts if t]


def figure_strings(at: AppTest) -> list[str]:
    """Every string of every Plotly figure of the page."""
    out: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    charts = at.get("plotly_chart")
    for chart in charts:
        walk(json.loads(chart.proto.spec))
    return out


RAW = [LINK_DEPT, IMAGE_DEPT, STEP, "<img src=x>", "<b>受理</b>", '<a href="https://evil.example">']
PAGES = ["views/overview.py", "views/adoption.py", "views/timeliness.py", "views/bottlenecks.py", "views/journeys.py"]


@pytest.mark.parametrize("page", PAGES)
def test_data_text_on_every_page_is_escaped(app_db, monkeypatch, page):
    at = open_page(app_db, monkeypatch, page)
    texts = markdown_texts(at)
    assert texts
    for text in texts:
        for raw in RAW:
            assert raw not in text, (raw, text)
    strings = figure_strings(at)
    assert strings, "no figure on the page"
    for text in strings:
        for raw in ("<a ", "<img", "<b>受理"):
            assert raw not in text, (raw, text)
    if page == "views/bottlenecks.py":
        # The findings name the slow offices, escaped; the figures name them and the step entity-escaped.
        findings = " ".join(texts)
        assert md_text(LINK_DEPT) in findings or md_text(IMAGE_DEPT) in findings, findings
        joined = "\n".join(strings)
        assert plot_text(LINK_DEPT) in joined and plot_text(IMAGE_DEPT) in joined
        assert "&lt;b&gt;受理" in joined
    if page == "views/journeys.py":  # the departments the same people must both visit, entity-escaped
        joined = "\n".join(strings)
        assert f"{plot_text(LINK_DEPT)} ↔ {plot_text(IMAGE_DEPT)}" in joined or (
            f"{plot_text(IMAGE_DEPT)} ↔ {plot_text(LINK_DEPT)}" in joined
        ), joined


@pytest.mark.parametrize("page", [*PAGES, "views/data_quality.py", "views/settings.py", "views/uploads.py"])
def test_no_table_holds_a_live_formula(app_db, monkeypatch, page):
    at = open_page(app_db, monkeypatch, page)
    frames = [d.value for d in at.dataframe]
    if page in PAGES[:3]:
        assert frames, "no table on the page"
    cells = 0
    for frame in frames:
        for column in frame.columns:
            assert not (isinstance(column, str) and column.startswith(FORMULA_START)), column
            for value in frame[column]:
                if isinstance(value, str):
                    cells += 1
                    assert not value.startswith(FORMULA_START), (page, column, value)
        for value in frame.index:
            assert not (isinstance(value, str) and value.startswith(FORMULA_START)), value
    shown = {v for f in frames for c in f.columns for v in f[c] if isinstance(v, str)}
    hostile = {
        "views/adoption.py": FORMULA_ITEMS,
        "views/timeliness.py": [d for d in DEPARTMENTS.values() if d.startswith(FORMULA_START)],
        "views/settings.py": ["@SUM(1)"],  # a department's own target
        "views/uploads.py": [FORMULA_FILE],
    }.get(page)
    if hostile:  # the hostile names are there, neutralised
        assert shown & {"'" + name for name in hostile}, ("the hostile names are not in the tables", shown)
    assert cells or not frames


def test_the_settings_message_names_a_department_as_text(app_db, monkeypatch):
    at = open_page(app_db, monkeypatch, "views/settings.py")
    at.selectbox(key="settings_scope").set_value(LINK_DEPT).run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "保存目标").click().run()
    assert not at.exception, at.exception
    messages = [s.value for s in at.success]
    assert any(md_text(LINK_DEPT) in m for m in messages), messages
    assert not any(LINK_DEPT in m for m in messages), messages


# 3. The bottlenecks page in headless Chromium -------------------------------------------------------------------


@pytest.fixture(scope="module")
def streamlit_db_path(hostile_dir: Path) -> Path:
    return private_copy(hostile_dir, "served")


LINKS_AND_IMAGES = """() => {
    const attr = (el, name) => el.getAttribute(name) || el.getAttribute('xlink:' + name)
        || el.getAttributeNS('http://www.w3.org/1999/xlink', name) || '';
    return {
        links: [...document.querySelectorAll('a')].map(a => attr(a, 'href')),
        images: [...document.querySelectorAll('img, image')].map(i => attr(i, 'src') || attr(i, 'href')),
        svg: [...document.querySelectorAll('.js-plotly-plot')].map(p => p.textContent).join('\\n'),
        body: document.body.innerText.replaceAll('\u2060', ''),
    };
}"""


@pytest.mark.browser
def test_bottlenecks_page_has_no_link_or_image_from_the_data(streamlit_server, page, artefacts_dir):
    from tests.browser_support import settled

    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{streamlit_server}/bottlenecks?month={MONTH}")
    page.get_by_role("heading", name="部门瓶颈").first.wait_for()
    page.locator(".js-plotly-plot .main-svg").nth(4).wait_for()
    settled(page)
    found = page.evaluate(LINKS_AND_IMAGES)
    page.screenshot(path=str(artefacts_dir / "hostile-bottlenecks.png"), full_page=True)
    assert not [h for h in found["links"] if "evil.example" in h], found["links"]
    assert not [s for s in found["images"] if "127.0.0.1:9" in s], found["images"]
    assert not [r for r in requests if "127.0.0.1:9" in r or "evil.example" in r], requests
    # The names are shown as the text they are, in the page and in the charts.
    assert LINK_DEPT in found["body"] or IMAGE_DEPT in found["body"], found["body"][:2000]
    assert "户籍</a>" in found["svg"] and "<b>受理" in found["svg"], found["svg"][:2000]
