"""The set-up promised by the README: two commands, scripts that exist, CI that runs the suite.

These read the README and the scripts as text and run the small pieces that can run safely inside
a test (``bash -n``, and test.sh's pytest wrapper on throwaway suites); they do not install anything.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def quick_start_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^(#{2,3}) [^\n]*快速开始[^\n]*\n(.*?)(?=^#{1,3} |\Z)", text, flags=re.M | re.S)
    assert match, "README has no 快速开始 / Quick start section"
    return match.group(2)


def commands_in_code_blocks(markdown: str) -> list[str]:
    commands = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.M | re.S):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def test_quick_start_has_exactly_two_setup_commands_naming_existing_scripts():
    commands = commands_in_code_blocks(quick_start_section())
    assert commands == ["bash scripts/start.sh", "bash scripts/test.sh"], commands
    for command in commands:
        script = ROOT / command.split()[1]
        assert script.is_file(), f"README names {script}, which does not exist"


def test_quick_start_names_the_app_address_and_default_database():
    section = quick_start_section()
    assert "http://localhost:8501" in section
    assert "data/egov.duckdb" in section


def test_ci_run_is_executable_strict_and_runs_the_test_script():
    ci_run = ROOT / ".ci" / "run"
    assert os.access(ci_run, os.X_OK), ".ci/run must be executable"
    lines = [line.strip() for line in ci_run.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert "set -euo pipefail" in lines
    assert "export CI=true" in lines
    assert any(re.fullmatch(r"(exec )?bash scripts/test\.sh( \"\$@\")?", line) for line in lines), lines


@pytest.mark.parametrize("script", ["scripts/setup.sh", "scripts/start.sh", "scripts/test.sh", ".ci/run"])
def test_script_parses(script):
    result = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_scripts_use_setup_and_start_the_app():
    start = (ROOT / "scripts" / "start.sh").read_text()
    assert "bash scripts/setup.sh runtime" in start
    assert ".venv/bin/python cli.py demo --if-empty" in start
    assert 'exec .venv/bin/streamlit run app.py "$@"' in start
    test = (ROOT / "scripts" / "test.sh").read_text()
    assert "bash scripts/setup.sh dev" in test
    assert ".venv/bin/ruff check ." in test
    assert ".venv/bin/mypy" in test


def run_pytest_wrapper(suite_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """Call test.sh's ``run_pytest`` (sourcing test.sh runs nothing else) on a throwaway suite."""
    script = 'source "$1"; PY="$2"; shift 2; run_pytest -p no:cacheprovider -q "$@"'
    return subprocess.run(
        ["bash", "-c", script, "bash", str(ROOT / "scripts" / "test.sh"), sys.executable, *args],
        cwd=suite_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_test_script_turns_no_tests_collected_into_a_failure(tmp_path):
    result = run_pytest_wrapper(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "collected no tests (exit code 5)" in result.stderr


@pytest.mark.parametrize(
    ("body", "extra_args", "expected"),
    [
        ("def test_ok():\n    pass\n", [], 0),
        ("def test_broken():\n    assert False\n", [], 1),
        ("def test_ok():\n    pass\n", ["--no-such-option"], 4),
    ],
    ids=["passing", "failing", "usage-error"],
)
def test_test_script_propagates_other_pytest_exit_codes(tmp_path, body, extra_args, expected):
    (tmp_path / "test_throwaway.py").write_text(body)
    result = run_pytest_wrapper(tmp_path, *extra_args)
    assert result.returncode == expected, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt", "requirements-spark.txt"])
def test_requirements_pin_every_package(name):
    unpinned = []
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!-]+", line):
            unpinned.append(line)
    assert not unpinned, f"{name}: not pinned with ==: {unpinned}"


def test_streamlit_config_serves_localhost_headless_without_telemetry():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "localhost"
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False


README_CLI = {
    # subcommand (as typed) -> options the README documents for it
    ("ingest",): ["--db", "--mapping", "--kind"],
    ("demo",): ["--db"],
    ("uploads",): ["--db", "remove"],
    ("calendar",): [],
}


@pytest.mark.parametrize("words", list(README_CLI), ids=lambda words: " ".join(words))
def test_readme_cli_commands_exist_in_cli(words):
    """Documentation tested against the code: each command the README shows answers --help."""
    readme = README.read_text(encoding="utf-8")
    assert f"python cli.py {' '.join(words)}" in readme
    result = subprocess.run(
        [sys.executable, "cli.py", *words, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for option in README_CLI[words]:
        assert option in result.stdout, f"`cli.py {' '.join(words)} --help` does not mention {option}"
