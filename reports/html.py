"""The report as one self-contained HTML file (plotly.js embedded, no network) — and the page the PDF is printed from.

The template (``templates/report.html.j2``) is rendered by Jinja2 with autoescaping on, so every
piece of data text — a service name such as ``<script>alert(1)</script>`` — arrives escaped and
inert. Figures travel as JSON inside a ``<script type="application/json">`` block in which ``<``,
``>`` and ``&`` are written as ``\\u003c`` escapes, so no data can close the block either.

Target states (达标 / 接近 / 未达标 with the gap) come from :func:`metrics.status.target_state`, drawn
in its colour beside its symbol and word; charts take the dashboard's department and channel colours.
The page reads on a 390 px phone: tiles stack, charts take the width, wide tables scroll in a wrapper.

:func:`render_html` gives the interactive file; ``print_mode=True`` gives the variant Chromium
prints to PDF: static charts at the width of an A4 column and TrueType fonts (which Chromium
embeds as fonts; the CFF-based Noto CJK would come out as Type 3 outlines).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TypedDict

import jinja2
import plotly.io as pio
from plotly.offline import get_plotlyjs

from charts import report as figures
from charts import theme
from metrics.catalog import KPI_BY_ID
from metrics.status import TargetState
from reports import fmt

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The KPIs on the cover, in the order a leader reads them.
HEADLINE_KPIS = ("cases", "online_rate", "on_time_rate", "open_overdue_cases", "at_risk_cases", "bad_ratings")
ITEMS_SHOWN = 30
#: What the template reads from a snapshot's meta; missing keys take these values.
META_DEFAULTS: dict[str, object] = {
    "version": 1, "published_at": None, "published_by": None, "note": None, "changes": None,
    "supersedes_version": None, "supersedes_data_version": None, "content_sha256": None,
}  # fmt: skip
CASES_SHOWN = 40


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every {{ value }} is HTML-escaped unless marked safe by this module
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        percent=fmt.percent, count=fmt.count, days=fmt.days, number=fmt.number, date=fmt.date,
        datetime=fmt.datetime_text, channel=fmt.channel, text=fmt.text, hours=fmt.hours, decimal=fmt.decimal,
        limit=fmt.limit, promised_unit=fmt.promised_unit, upload_kind=fmt.upload_kind, sentence=fmt.sentence,
        css_text=css_text,
    )  # fmt: skip
    return env


def css_text(value: object) -> str:
    """Text for a CSS string (the page footer): no quote, backslash, angle bracket or line break survives."""
    return "".join(ch for ch in str(value) if ch not in '"\\<>&{}\n\r;')


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.min.js of the installed plotly, embedded whole so the file works without network."""
    return get_plotlyjs()


def script_json(value: object) -> str:
    """JSON safe inside a <script> element: no ``</script>``, no ``<!--``, no entity can form."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _figure_json(fig) -> object:
    return json.loads(pio.to_json(fig, validate=False, remove_uids=True))


class KpiRow(TypedDict):
    """One KPI of the report as :func:`kpi_rows` gives it to the HTML template and the workbook (reports/xlsx.py)."""

    id: str
    name: str
    unit: str
    value: float | None
    numerator: float | None
    denominator: float | None
    mean_rate: bool
    value_text: str
    basis: str
    target: float | None
    target_text: str
    state: TargetState
    state_text: str
    state_words: str
    gap_text: str
    previous: float | None
    previous_text: str
    change_value: float | None
    change_text: str
    improved: bool | None
    directional: bool
    definition: str


def kpi_rows(content: dict) -> list[KpiRow]:
    """One row per KPI of the frozen content: formatted figures with the raw values beside them.

    ``state`` is :func:`metrics.status.target_state` (the dashboard's 达标 / 接近 / 未达标), ``state_text``
    its words with the gap, ``change_value`` the change as shown (points for rates; 0 for 持平) and
    ``improved`` None for a KPI without a good direction (办件量)."""
    rows: list[KpiRow] = []
    targets = content.get("targets") or {}
    previous = content.get("previous_kpis") or {}
    for entry in content["catalogue"]:
        kpi_id = entry["id"]
        kpi = KPI_BY_ID.get(kpi_id)
        if kpi is None:  # a KPI retired since publication: the frozen text still stands
            continue
        r = content["kpis"].get(kpi_id) or {}
        p = previous.get(kpi_id) or {}
        target = targets.get(kpi_id, entry.get("default_target"))
        state = fmt.state(kpi, r.get("value"), target)
        rows.append(
            {
                "id": kpi_id, "name": entry["name_zh"], "unit": kpi.unit, "value": r.get("value"),
                "numerator": r.get("numerator"), "denominator": r.get("denominator"),
                "mean_rate": bool(kpi.mean_of_zh),
                "value_text": fmt.kpi_value(kpi, r), "basis": fmt.kpi_basis(kpi, r),
                "target": target, "target_text": fmt.target(kpi, target), "state": state,
                "state_text": fmt.state_text(kpi, r.get("value"), target),
                "state_words": fmt.state_words(kpi, r.get("value"), target),
                "gap_text": fmt.gap_text(kpi, r.get("value"), target),
                "previous": p.get("value"), "previous_text": fmt.kpi_value(kpi, p) if p else fmt.DASH,
                "change_value": fmt.change_value(kpi, r.get("value"), p.get("value")),
                "change_text": fmt.change(kpi, r.get("value"), p.get("value")),
                "improved": fmt.improved(kpi, r.get("value"), p.get("value")),
                "directional": kpi.directional, "definition": entry.get("definition_zh", ""),
            }
        )  # fmt: skip
    return rows


def _missed(rows: Sequence[KpiRow], state: str) -> list[str]:
    return [
        f"{r['name']} {r['value_text']}（目标 {r['target_text']}，{r['gap_text']}）"
        for r in rows
        if r["state"].state == state
    ]


def _listing(label: str, parts: list[str], shown: int = 6) -> str:
    more = f" 等 {len(parts)} 项" if len(parts) > shown else f"，共 {len(parts)} 项"
    return f"{label}：" + "；".join(parts[:shown]) + more + "。"


def highlights(content: dict, rows: Sequence[KpiRow]) -> list[str]:
    """本月要点: a few plain sentences a leader reads first (states as on the dashboard's tiles)."""
    by_id = {r["id"]: r for r in rows}
    out = []
    cases = by_id.get("cases")
    if cases:
        line = f"本月受理办件 {cases['value_text']} 件"
        if cases["previous"] is not None:
            line += f"，上月 {cases['previous_text']} 件（{cases['change_text']}）"
        out.append(line + "。")
    far, close = _missed(rows, "far"), _missed(rows, "close")
    if far:
        out.append(_listing("未达标", far))
    if close:
        out.append(_listing("接近目标", close))
    if not far and not close:
        out.append("有目标值的指标全部达标。")
    overdue, risk = by_id.get("open_overdue_cases"), by_id.get("at_risk_cases")
    if overdue and risk:
        out.append(
            f"截至 {content['period']['as_of']} 日终，在办超期 {overdue['value_text']} 件，"
            f"{content['rules']['at_risk_workdays']} 个工作日内到期的临期件 {risk['value_text']} 件。"
        )
    findings = (content.get("bottlenecks") or {}).get("findings") or []
    if findings:
        out.append(f"首要瓶颈：{fmt.sentence(findings[0]['text_zh'])}。")
    journeys = content.get("journeys") or {}
    if journeys.get("multi_item_journeys"):
        line = (
            f"一件事：{fmt.count(journeys['multi_item_journeys'])} 个旅程办了两项及以上事项，"
            f"合并办理可少提交 {fmt.count(journeys.get('avoidable_submissions'))} 次"
        )
        if journeys.get("bundles") and journeys.get("bundle_journeys"):
            line += f"，{fmt.count(journeys['bundle_journeys'])} 个旅程本可一次办成"
        out.append(line + "。")
    name_only = content.get("name_only_items") or []
    if name_only:
        names = "、".join(fmt.text(i.get("service_item")) for i in name_only[:3])
        out.append(f"摆设事项 {len(name_only):,} 个（标为网上可办却几乎无人网办），如：{names}。")
    return out


def change_rows(changes: dict | None) -> list[dict[str, str]]:
    """The 'what changed' table of a re-issue, formatted."""
    if not changes:
        return []
    out = []
    for c in changes.get("kpis", []):
        kpi = KPI_BY_ID.get(c["id"])
        if kpi is None:
            continue
        out.append(
            {
                "name": kpi.name.zh,
                "before": fmt.kpi_value(kpi, {"value": c.get("before")}),
                "after": fmt.kpi_value(kpi, {"value": c.get("after")}),
                "change": fmt.change(kpi, c.get("after"), c.get("before")),
            }
        )
    return out


def department_palette(content: dict) -> dict[str, str]:
    """One colour per department, the dashboard's (``charts.theme.department_colors``) over all units of the
    data as frozen at publication; a snapshot from before that was recorded uses its own departments."""
    units = content.get("all_units")
    if not units:
        units = [d.get("department") for d in content.get("departments") or []]
        units += [d.get("department") for d in (content.get("bottlenecks") or {}).get("departments") or []]
    return theme.department_colors(units)


def build_figures(content: dict, *, print_mode: bool) -> dict[str, object]:
    targets = content.get("targets") or {}
    departments = content.get("departments") or []
    colors = department_palette(content)
    figs = {
        "chart-trend": figures.trend(content.get("trend") or [], print_mode=print_mode),
        "chart-channels": figures.channel_mix(content.get("channels") or [], fmt.CHANNEL_LABELS, print_mode=print_mode),
        "chart-dept-online": figures.department_online_rate(
            departments, targets.get("online_rate"), print_mode=print_mode, colors=colors
        ),
        "chart-dept-days": figures.department_processing_days(departments, print_mode=print_mode),
        "chart-bottlenecks": figures.bottleneck_share(
            (content.get("bottlenecks") or {}).get("departments") or [], print_mode=print_mode, colors=colors
        ),
    }
    return {key: _figure_json(fig) for key, fig in figs.items()}


def render_html(content: dict, meta: dict, *, print_mode: bool = False) -> str:
    """The report for frozen ``content`` and the snapshot's ``meta`` (version, published_at/by, note, changes)."""
    if content.get("format") != 1:
        raise ValueError(f"unknown snapshot content format {content.get('format')!r}")
    meta = {**META_DEFAULTS, **meta}
    rows = kpi_rows(content)
    items = content.get("items") or []
    overdue = content.get("overdue") or {}
    context = {
        "c": content,
        "meta": meta,
        "print_mode": print_mode,
        "title": f"{content['town']}一网通办效能月报",
        "month_title": fmt.month_title(content["month"]),
        "previous_title": fmt.month_title(content["previous_month"]),
        "kpi_rows": rows,
        "headline": [r for r in rows if r["id"] in HEADLINE_KPIS],
        "highlights": highlights(content, rows),
        "changes": change_rows(meta.get("changes")),
        "items": items[:ITEMS_SHOWN],
        "items_total": len(items),
        "open_overdue": (overdue.get("open_overdue") or [])[:CASES_SHOWN],
        "open_overdue_total": len(overdue.get("open_overdue") or []),
        "at_risk": (overdue.get("at_risk") or [])[:CASES_SHOWN],
        "at_risk_total": len(overdue.get("at_risk") or []),
        "figures_json": script_json(build_figures(content, print_mode=print_mode)),
        "plotly_js": plotly_js(),
        "fmt": fmt,
    }
    return _environment().get_template("report.html.j2").render(**context)
