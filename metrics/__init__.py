"""The KPI catalogue and the analytics: pure functions (cursor, filters) -> frames."""
