"""The KPI catalogue and the analytics: functions (cursor, filters) -> dicts and frames, which only read.

- :mod:`metrics.catalog` — every KPI declared once (names, 口径说明, SQL, unit, direction, target);
- :mod:`metrics.filters` — :class:`~metrics.filters.Filters` and the one WHERE-clause builder;
- :mod:`metrics.kpis` — ``compute_kpis``, ``kpis_by``, ``kpi_series`` over the catalogue;
- :mod:`metrics.adoption` — online rates, channel mix, 摆设 items;
- :mod:`metrics.timeliness` — processing times, on-time/overdue, open-overdue and at-risk lists;
- :mod:`metrics.bottlenecks` — waiting/service time, rework, handovers, WIP, process map;
- :mod:`metrics.findings` — the top bottlenecks as zh/en sentences with their evidence;
- :mod:`metrics.precomputed_columns` — whether the analyses may read the per-row figures kept at load;
- :mod:`metrics.page_queries` — the calls that make each page's default view, declared once;
- :mod:`metrics.cli_commands` — ``cli.py kpis`` and ``cli.py bottlenecks``.

Two modules also write, each through the store's single writer (``Database.write``):

- :mod:`metrics.targets` — which KPI target counts (department, else town, else the catalogue's
  default), and setting one after checking it against the KPI;
- :mod:`metrics.precomputed_views` — the pages' default views computed after each change of the data
  and kept (``kept_figures``), with the background thread that refreshes them.

Every function takes its own DuckDB cursor (one connection must not be used concurrently).
"""

# The KPI cube keeps itself in every write (store.db.BEFORE_COMMIT) once any metrics module is imported.
from metrics import cube as _cube  # noqa: E402, F401
