#!/usr/bin/env bash
# Install what the app needs (first time only), fill the database with demo data when it is empty,
# and start the app on http://localhost:8501. Extra arguments go to `streamlit run`, e.g.
#   bash scripts/start.sh --server.port 8600
# The database is data/egov.duckdb unless EGOV_DB names another file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh runtime

echo "==> Database ${EGOV_DB:-data/egov.duckdb}: loading demo data if it is empty"
.venv/bin/python cli.py demo --if-empty
# After an upgrade (new metrics code) or on a new day, the kept page figures are computed again.
.venv/bin/python cli.py refresh --if-stale

echo "==> Starting the app (Ctrl+C stops it)"
exec .venv/bin/streamlit run app.py "$@"
