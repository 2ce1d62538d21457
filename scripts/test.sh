#!/usr/bin/env bash
# Install what the tests need (first time only), then lint and run the whole suite.
# Arguments go to pytest, e.g.  bash scripts/test.sh -k ingest -x   or   bash scripts/test.sh -m "not browser"
# The suite runs in EGOV_TEST_WORKERS processes (default 2, by test file; 1 runs it in this process alone).
# Exit status: pytest's, except that "no tests collected" (pytest's 5) is a failure (1), and a lint
# (ruff) or type-check (mypy) failure alone gives 1.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"

# Run pytest with the given arguments and return its status, with 5 (nothing collected) turned into 1:
# a suite that runs nothing is broken, not green.
run_pytest() {
    local status=0
    "$PY" -m pytest "$@" || status=$?
    if ((status == 5)); then
        echo "test.sh: FAILED: pytest collected no tests (exit code 5); a suite that runs nothing is broken" >&2
        return 1
    fi
    return "$status"
}

main() {
    set -uo pipefail
    cd "$ROOT" || return 1
    bash scripts/setup.sh dev || return 1

    local lint=0
    echo "==> ruff check ."
    .venv/bin/ruff check . || lint=$?
    if ((lint != 0)); then
        echo "test.sh: ruff found problems (running the tests anyway)" >&2
    fi
    local types=0
    echo "==> mypy  (the packages in pyproject.toml [tool.mypy])"
    .venv/bin/mypy || types=$?
    if ((types != 0)); then
        echo "test.sh: mypy found problems (running the tests anyway)" >&2
    fi

    local workers="${EGOV_TEST_WORKERS:-2}" parallel=()
    if ((workers > 1)); then
        parallel=(-n "$workers" --dist loadfile)  # a file's tests share one process (and its served app)
    fi
    echo "==> pytest ${parallel[*]} $*"
    local status=0
    run_pytest "${parallel[@]}" "$@" || status=$?
    if ((status == 0 && lint != 0)); then
        echo "test.sh: tests passed, but ruff check failed" >&2
        return 1
    fi
    if ((status == 0 && types != 0)); then
        echo "test.sh: tests passed, but mypy failed" >&2
        return 1
    fi
    return "$status"
}

# Sourcing defines run_pytest without running anything (tests/test_setup_scripts.py does that).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
    exit $?
fi
