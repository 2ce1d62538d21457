"""The DuckDB store: schema and migrations, connections, and the single writer."""
