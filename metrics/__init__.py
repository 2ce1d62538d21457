"""The KPI catalogue and the analytics: pure functions (cursor, filters) -> dicts and frames.

- :mod:`metrics.catalog` — every KPI declared once (names, 口径说明, SQL, unit, direction, target);
- :mod:`metrics.filters` — :class:`~metrics.filters.Filters` and the one WHERE-clause builder;
- :mod:`metrics.kpis` — ``compute_kpis``, ``kpis_by``, ``kpi_series`` over the catalogue;
- :mod:`metrics.adoption` — online rates, channel mix, 摆设 items;
- :mod:`metrics.timeliness` — processing times, on-time/overdue, open-overdue and at-risk lists;
- :mod:`metrics.bottlenecks` — waiting/service time, rework, handovers, WIP, process map, ranking;
- :mod:`metrics.cli_commands` — ``cli.py kpis`` and ``cli.py bottlenecks``.

Every function takes its own DuckDB cursor (one connection must not be used concurrently).
"""
