#!/usr/bin/env bash
# Set up what the project needs on a Debian machine; safe to run again (a second run takes about a second).
#
#   bash scripts/setup.sh          # runtime: fonts-noto-cjk, chromium + fonts-wqy-zenhei + fonts-liberation (PDF
#                                  # reports), .venv with requirements.txt
#   bash scripts/setup.sh spark    # the "spark" extra: runtime + openjdk-17-jre-headless, requirements-spark.txt
#                                  # (pyspark, sqlglot) for `--engine spark` and `cube build --engine spark`
#   bash scripts/setup.sh dev      # tests too: the spark extra + poppler-utils, requirements-dev.txt
#
# Steps: Debian packages (apt-get, only when one is missing; as root, else through sudo, else it
# prints what to install), then .venv in the repo root (python3 -m venv), then pip install of the
# requirements — skipped when .venv/.requirements-<mode>.sha256 holds the hash of the same files.
# scripts/start.sh and scripts/test.sh call it.

_egov_setup() {
    local mode="${1:-runtime}"
    case "$mode" in
        runtime | spark | dev) ;;
        *)
            echo "usage: bash scripts/setup.sh [runtime|spark|dev]" >&2
            return 2
            ;;
    esac

    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
    local venv="$root/.venv"
    local python="${PYTHON:-python3}"

    _say() { printf '==> %s\n' "$*"; }
    _warn() { printf 'setup: %s\n' "$*" >&2; }

    # 1. Debian packages -------------------------------------------------------------------------
    # chromium prints the monthly report to PDF (reports/pdf.py) with the TrueType fonts
    # fonts-wqy-zenhei (Chinese) and fonts-liberation (Latin), which it embeds in the file.
    local packages=(fonts-noto-cjk chromium fonts-wqy-zenhei fonts-liberation)
    if [[ "$mode" == dev ]]; then
        packages+=(poppler-utils)
    fi
    # Spark runs on Java (pyspark starts a JVM); the town's app never needs it.
    if [[ "$mode" == spark || "$mode" == dev ]]; then
        packages+=(openjdk-17-jre-headless)
    fi
    # Debian's own python3 needs python3-venv for `python3 -m venv` (ensurepip); other builds carry it.
    if command -v "$python" >/dev/null 2>&1 && ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        packages+=(python3-venv)
    fi

    local missing=() pkg
    if command -v dpkg >/dev/null 2>&1; then
        for pkg in "${packages[@]}"; do
            if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
                missing+=("$pkg")
            fi
        done
    fi

    if ! command -v dpkg >/dev/null 2>&1; then
        _warn "not a Debian system: install by hand the equivalents of: ${packages[*]}"
    elif ((${#missing[@]} == 0)); then
        _say "Debian packages present: ${packages[*]}"
    else
        local -a as_root=()
        if ((EUID != 0)); then
            if command -v sudo >/dev/null 2>&1; then
                as_root=(sudo)
            else
                as_root=(none)
            fi
        fi
        if [[ "${as_root[0]:-}" == none ]]; then
            _warn "not root and no sudo: please install as root:"
            _warn "    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
        else
            _say "Installing Debian packages: ${missing[*]} (apt-get, a few minutes the first time)"
            local log
            log="$(mktemp "${TMPDIR:-/tmp}/egov-apt.XXXXXX")" || return 1
            local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300)
            if ! "${as_root[@]}" "${apt[@]}" update >"$log" 2>&1 ||
                ! "${as_root[@]}" "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
                tail -n 30 "$log" >&2
                _warn "apt-get failed (full log: $log)"
                return 1
            fi
            rm -f "$log"
        fi
    fi

    # 2. The virtual environment -----------------------------------------------------------------
    if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        >/dev/null 2>&1; then
        _say "Virtual environment present: .venv"
    else
        if ! command -v "$python" >/dev/null 2>&1; then
            _warn "$python not found: install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)"
            return 1
        fi
        if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            _warn "$("$python" --version 2>&1) is too old: Python 3.11 or newer is needed (set PYTHON=...)"
            return 1
        fi
        _say "Creating virtual environment .venv ($("$python" --version 2>&1))"
        # --clear replaces a broken one (a moved folder, a removed interpreter).
        "$python" -m venv --clear "$venv" || return 1
        rm -f "$venv"/.requirements-*.sha256
    fi

    # 3. Python packages -------------------------------------------------------------------------
    local req="$root/requirements.txt"
    [[ "$mode" == spark ]] && req="$root/requirements-spark.txt"
    [[ "$mode" == dev ]] && req="$root/requirements-dev.txt"
    # The other files include requirements.txt (and dev the spark file), so the hash covers both always.
    _req_hash() { cat "$root/requirements.txt" "$root/requirements-spark.txt" "$1" | sha256sum | cut -d' ' -f1; }
    local hash
    hash="$(_req_hash "$req")" || return 1
    local stamp="$venv/.requirements-$mode.sha256"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
        _say "Python packages up to date ($(basename "$req"))"
    else
        _say "Installing Python packages from $(basename "$req") (pip, a few minutes the first time)"
        if ! PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore \
            "$venv/bin/python" -m pip install --quiet --requirement "$req"; then
            _warn "pip install failed"
            return 1
        fi
        echo "$hash" >"$stamp"
        if [[ "$mode" == dev ]]; then
            # The dev set holds the runtime and spark sets: a later setup of either need not run pip again.
            _req_hash "$root/requirements.txt" >"$venv/.requirements-runtime.sha256"
            _req_hash "$root/requirements-spark.txt" >"$venv/.requirements-spark.sha256"
        elif [[ "$mode" == spark ]]; then
            _req_hash "$root/requirements.txt" >"$venv/.requirements-runtime.sha256"
        fi
    fi
    _say "Setup done ($mode)"
}

# Run directly: strict mode. Sourced (`source scripts/setup.sh dev` — give the mode, or the caller's own
# arguments are taken): the caller's shell options stay as they were.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
fi
_egov_setup "$@"
