"""The county's monthly snapshot: every town side by side, frozen like a town's.

:func:`collect_county` computes, for month M, each town's figures exactly as ``cli.py kpis --town T``
(``compute_kpis`` with ``Filters.month(M, towns=(T,))``) and last month's, plus the county as a whole;
the towns are those of ``store.towns.towns`` (the order of ``kpis --by town``). The renderers read only
that frozen content: :func:`render_county_html` (also the page the PDF is printed from) and
:func:`render_county_xlsx`.

What a county leader reads first: the town table (each headline KPI per town with its target state and
its change against last month), then a ranking in plain sentences (网办率最低的三个乡镇：…), then one
short block per town.
"""

from __future__ import annotations

import datetime as dt
import io
import os

import duckdb
import xlsxwriter

from metrics import county as county_metrics
from metrics.catalog import KPI_BY_ID
from metrics.filters import Filters
from metrics.kpis import compute_kpis
from reports import content as frozen
from reports import fmt
from reports.html import HEADLINE_KPIS, META_DEFAULTS, _environment, kpi_rows
from reports.xlsx import _UNIT_KINDS, CHANGE_FORMATS, _state_format, publication_lines, safe_text
from store.rows import one
from store.towns import towns as town_names

#: Content layout of a county snapshot (its own: a town renderer never reads one).
COUNTY_FORMAT = 1
SCOPE = "county"


def county_name() -> str:
    """The county on the cover: ``$EGOV_COUNTY``, else 全县."""
    return os.environ.get("EGOV_COUNTY", "").strip() or "全县"


def collect_county(cur: duckdb.DuckDBPyConnection, month: str) -> dict:
    """The county's figures of ``month``: per town (this month, last month) and the county's own (raises NoDataForMonth)."""
    f = frozen.check_month(month)
    frozen.month_has_data(cur, month)
    prev = frozen.previous_month(month)
    start, end = f.start, f.end
    assert start is not None and end is not None
    towns = [
        {
            "town": town,
            "kpis": frozen.plain(compute_kpis(cur, frozen.scoped(f, town))),
            "previous_kpis": frozen.plain(
                frozen.comparable_previous(compute_kpis(cur, frozen.scoped(Filters.month(prev), town)), f)
            ),
        }
        for town in town_names(cur)
    ]
    return {
        "format": COUNTY_FORMAT,
        "scope": SCOPE,
        "month": month,
        "county": county_name(),
        "period": {"start": start.isoformat(), "end": end.isoformat(), "as_of": f.as_of().isoformat()},
        "data_version": int(one(cur.execute("SELECT version FROM data_version"))[0]),
        "uploads": frozen._uploads(cur),
        "previous_month": prev,
        "targets": frozen._targets(cur),
        "catalogue": frozen._catalogue(),
        "headline": list(HEADLINE_KPIS),
        "county_kpis": frozen.plain(compute_kpis(cur, f)),
        "county_previous_kpis": frozen.plain(frozen.comparable_previous(compute_kpis(cur, Filters.month(prev)), f)),
        "towns": towns,
    }


def is_county(content: dict) -> bool:
    return content.get("scope") == SCOPE


def _rows(content: dict, kpis: dict, previous: dict) -> dict[str, dict]:
    """kpi id -> the report's formatted row (reports.html.kpi_rows) for one town's figures."""
    view = {"catalogue": content["catalogue"], "targets": content["targets"], "kpis": kpis, "previous_kpis": previous}
    return {r["id"]: dict(r) for r in kpi_rows(view)}


def town_table(content: dict) -> list[dict]:
    """One row per town, then the county: {"town", "county": bool, "kpis": {id: kpi row}} for the headline KPIs."""
    out = []
    for t in content["towns"]:
        out.append({"town": t["town"], "county": False, "kpis": _rows(content, t["kpis"], t["previous_kpis"])})
    out.append(
        {
            "town": content["county"],
            "county": True,
            "kpis": _rows(content, content["county_kpis"], content["county_previous_kpis"]),
        }
    )
    return out


def ranking(content: dict) -> list[str]:
    """The ranking in sentences, by the county page's own rule (:func:`metrics.county.ranking_text`) over the
    frozen figures: the towns to press, the leading ones, the towns with too few cases to rank."""
    table = county_metrics.frozen_table(content["towns"])
    return county_metrics.ranking_text(table, content["county_kpis"], "zh").sentences()


def headline_rows(content: dict, row: dict) -> list[dict]:
    return [row["kpis"][k] for k in content["headline"] if k in row["kpis"]]


def render_county_html(content: dict, meta: dict, *, print_mode: bool = False) -> str:
    if content.get("format") != COUNTY_FORMAT or not is_county(content):
        raise ValueError(f"not a county snapshot content: {content.get('scope')!r} {content.get('format')!r}")
    table = town_table(content)
    context = {
        "c": content,
        "meta": {**META_DEFAULTS, **meta},
        "print_mode": print_mode,
        "title": f"{content['county']}一网通办效能月报（乡镇对比）",
        "month_title": fmt.month_title(content["month"]),
        "previous_title": fmt.month_title(content["previous_month"]),
        "headline": [KPI_BY_ID[k] for k in content["headline"] if k in KPI_BY_ID],
        "table": table,
        "ranking": ranking(content),
        "fmt": fmt,
    }
    return _environment().get_template("county.html.j2").render(**context)


# --- the workbook -----------------------------------------------------------------------------------


def render_county_xlsx(content: dict, meta: dict) -> bytes:
    """乡镇对比 (one row per town: each headline KPI's figure, target state, last month, change), 排名, 说明."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                      "strings_to_numbers": False})  # fmt: skip
    published = meta.get("published_at")
    created = dt.datetime.fromisoformat(str(published)) if published else dt.datetime(2000, 1, 1)
    wb.set_properties({"title": "一网通办效能月报（乡镇对比）", "author": "一网通办效能监测看板", "created": created})
    font = {"font_name": "Microsoft YaHei", "font_size": 10}
    f = {
        "head": wb.add_format({**font, "bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True,
                               "valign": "top"}),
        "text": wb.add_format({**font, "border": 1}),
        "bold": wb.add_format({**font, "border": 1, "bold": True}),
        "int": wb.add_format({**font, "border": 1, "num_format": "#,##0"}),
        "days": wb.add_format({**font, "border": 1, "num_format": "#,##0.0"}),
        "pct": wb.add_format({**font, "border": 1, "num_format": "0.0%"}),
        **{f"chg_{u}": wb.add_format({**font, "border": 1, "num_format": v}) for u, v in CHANGE_FORMATS.items()},
        "title": wb.add_format({**font, "bold": True, "font_size": 16, "font_color": "#16355E"}),
        "label": wb.add_format({**font, "bold": True, "font_color": "#555555"}),
        "plain": wb.add_format(font),
        "wrap": wb.add_format({**font, "text_wrap": True, "valign": "top"}),
    }  # fmt: skip
    states: dict[str, object] = {}

    def state_format(state: str) -> object:
        if state not in states:
            states[state] = wb.add_format(_state_format(font, state))
        return states[state]

    def number(ws, r: int, c: int, value: object, kind: str, bold: bool = False) -> None:
        if fmt.missing(value):
            ws.write_blank(r, c, None, f["text"])
        else:
            ws.write_number(r, c, float(value), f[kind])  # type: ignore[arg-type]

    table = town_table(content)
    title = f"{content['county']}一网通办效能月报（乡镇对比）· {fmt.month_title(content['month'])}"
    ws = wb.add_worksheet("乡镇对比")
    ws.write_string(0, 0, safe_text(title), f["title"])
    ws.write_string(
        1, 0,
        safe_text(f"每个乡镇一行，最后一行为{content['county']}合计；每个指标四列：本月、达标情况、上月、较上月变化。"
                  f"统计期 {content['period']['start']} 至 {content['period']['end']}，截至 {content['period']['as_of']}。"),
        f["plain"],
    )  # fmt: skip
    head = 3
    ws.merge_range(head, 0, head + 1, 0, "乡镇", f["head"])
    ws.set_column(0, 0, 14)
    col = 1
    for kpi_id in content["headline"]:
        kpi = KPI_BY_ID[kpi_id]
        ws.merge_range(head, col, head, col + 3, f"{kpi.name.zh}（{fmt.direction(kpi)}）", f["head"])
        for i, sub in enumerate(("本月", "达标情况", "上月", "较上月")):
            ws.write_string(head + 1, col + i, sub, f["head"])
        ws.set_column(col, col, 10)
        ws.set_column(col + 1, col + 1, 22)
        ws.set_column(col + 2, col + 3, 12)
        col += 4
    for r, row in enumerate(table, start=head + 2):
        ws.write_string(r, 0, safe_text(row["town"]), f["bold" if row["county"] else "text"])
        col = 1
        for kpi_id in content["headline"]:
            kpi, k = KPI_BY_ID[kpi_id], row["kpis"][kpi_id]
            kind = _UNIT_KINDS[kpi.unit]
            number(ws, r, col, k["value"], kind)
            state = k["state"]
            shown = f"{state.symbol} {k['state_text']}" if state.state != "none" else k["state_words"]
            if not kpi.directional:
                shown = "不分好坏"
            ws.write_string(r, col + 1, safe_text(shown), state_format(state.state))
            number(ws, r, col + 2, k["previous"], kind)
            number(ws, r, col + 3, k["change_value"], f"chg_{kpi.unit}")
            col += 4
    ws.freeze_panes(head + 2, 1)
    ws.activate()

    rk = wb.add_worksheet("排名")
    rk.set_column(0, 0, 120)
    rk.write_string(0, 0, safe_text(f"{fmt.month_title(content['month'])}乡镇排名"), f["title"])
    for i, sentence in enumerate(ranking(content), start=2):
        rk.write_string(i, 0, safe_text(sentence), f["wrap"])

    about = wb.add_worksheet("说明")
    about.set_column(0, 0, 14)
    about.set_column(1, 1, 100)
    about.write_string(0, 0, safe_text(title), f["title"])
    lines = [
        *publication_lines(content, meta),
        ("乡镇", "、".join(t["town"] for t in content["towns"])),
        ("口径", "每个乡镇的数字与看板选中该乡镇时、与 cli.py kpis --town 所得相同；合计为全县全部办件。"),
        ("冻结说明", "本工作簿为发布时冻结的数据快照，数字不会因之后的上传而改变；如需更正，将发布新版本。"),
    ]  # fmt: skip
    for i, (label, value) in enumerate(lines, start=2):
        about.write_string(i, 0, label, f["label"])
        about.write_string(i, 1, safe_text(value), f["plain"])
    wb.close()
    return buffer.getvalue()
