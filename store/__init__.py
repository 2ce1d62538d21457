"""The DuckDB store and the canonical model: schema, migrations, connections, the single writer, channel codes."""
