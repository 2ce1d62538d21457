"""Every import points down: the layers of ARCHITECTURE.md, read from the code (imports inside functions too).

Bottom first: the leaf helpers (settings, clock, errors, text, cells, names, numfmt, terminal, scratch);
``store/`` (the canonical model, schema, connections, the single writer); ``ingest/`` and ``metrics/`` side
by side on it, neither importing the other; ``charts/`` (frames in, figures out: no database, no metrics);
``reports/`` (store, metrics, charts); ``demo/`` (a generator that loads through ingest); ``lake/`` (the
Parquet lake: store, metrics); ``spark/`` (the metrics on Spark over a lake: lake, metrics, store); then ``ui/``,
``views/``, ``app.py`` and the command line (``cli.py``, ``clitools.py``, each package's ``cli_commands``).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEAVES = {"settings", "clock", "errors", "text", "cells", "names", "numfmt", "terminal", "scratch", "scope"}
#: layer -> the layers it may import (besides itself and the leaves).
ALLOWED: dict[str, set[str]] = {
    "leaf": set(),
    "store": set(),
    "ingest": {"store"},
    "metrics": {"store"},
    "charts": set(),
    "reports": {"store", "metrics", "charts"},
    "demo": {"store", "ingest", "metrics"},
    "lake": {"store", "metrics"},
    "spark": {"store", "metrics", "lake"},
    "ui": {"store", "ingest", "metrics", "charts", "reports", "demo", "lake"},
    "views": {"store", "ingest", "metrics", "charts", "reports", "demo", "lake", "ui"},
    "cli": {"store", "ingest", "metrics", "charts", "reports", "demo", "lake", "spark"},
    "app": {"store", "ingest", "metrics", "charts", "reports", "demo", "lake", "ui"},
}
PACKAGES = {"store", "ingest", "metrics", "charts", "reports", "demo", "lake", "spark", "ui", "views"}


def layer_of(module: str) -> str | None:
    """The layer of a project module by dotted name (None: not the project's)."""
    top, _, rest = module.partition(".")
    if top in LEAVES:
        return "leaf"
    if top in ("cli", "clitools") or rest.split(".")[-1:] == ["cli_commands"]:
        return "cli"
    if top == "app":
        return "app"
    return top if top in PACKAGES else None


def product_modules() -> dict[str, Path]:
    found = {p.stem: p for p in ROOT.glob("*.py")}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[dotted.removesuffix(".__init__")] = path
    return found


def imports(path: Path, module: str) -> list[tuple[int, str]]:
    """Every project module ``path`` imports, with its line (``from x import y`` counts y when it is a module)."""
    out = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            out.append((node.lineno, base))
            out += [
                (node.lineno, f"{base}.{alias.name}")
                for alias in node.names
                if (ROOT / base / f"{alias.name}.py").exists()
            ]
    return out


def test_every_import_points_down():
    wrong = []
    for module, path in sorted(product_modules().items()):
        mine = layer_of(module)
        assert mine is not None, module
        for line, target in imports(path, module):
            theirs = layer_of(target)
            if theirs is None or theirs in (mine, "leaf"):
                continue
            if theirs not in ALLOWED[mine]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({mine}) imports {target} ({theirs})")
    assert wrong == [], "imports that point up or sideways:\n" + "\n".join(wrong)


def test_the_leaves_import_no_layer():
    for module, path in product_modules().items():
        if layer_of(module) == "leaf":
            above = [t for _, t in imports(path, module) if layer_of(t) not in (None, "leaf")]
            assert above == [], (module, above)


def test_the_rule_catches_an_import_that_points_up(tmp_path):
    """The check itself: a store module importing metrics, or charts importing the database, is found."""
    assert "metrics" not in ALLOWED["store"] and "store" not in ALLOWED["charts"]
    assert "ingest" not in ALLOWED["metrics"] and "metrics" not in ALLOWED["ingest"]
    sample = tmp_path / "targets.py"
    sample.write_text("def f():\n    from metrics.catalog import KPIS\n", encoding="utf-8")
    assert imports(sample, "store.targets") == [(2, "metrics.catalog")]
    assert layer_of("metrics.catalog") == "metrics" and layer_of("metrics.cli_commands") == "cli"


def test_no_product_module_is_a_big_room():
    """No product module over about 700 lines."""
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in product_modules().values()
    }
    assert {k: v for k, v in sizes.items() if v > 750} == {}
