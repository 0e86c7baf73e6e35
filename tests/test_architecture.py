"""The layout rules of DESIGN.md's "Architecture", checked on the code itself.

- No import cycle among `app` modules (imports made only for type checking aside).
- `app/jobs.py` is the queue and defines no job; every feature's ``tasks.py`` is imported by
  the worker entry point, `app.worker`.
- Only the edges commit: `app/edge.py` (requests and jobs) and the `flask …` commands.
- No module under `app/` is longer than about 450 lines.
"""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app"
MAX_MODULE_LINES = 450


def _python_files() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def test_no_import_cycles_among_app_modules():
    graph = grimp.build_graph("app", exclude_type_checking_imports=True)
    imports = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    try:
        graphlib.TopologicalSorter(imports).prepare()
    except graphlib.CycleError as error:
        cycle = " -> ".join(reversed(error.args[1]))
        pytest.fail(f"import cycle: {cycle}")


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_the_queue_module_defines_no_job_and_the_worker_knows_them_all():
    # A fresh interpreter each: in this one, other tests have imported task modules already.
    assert _run("import app.jobs as jobs; print(len(jobs.huey._registry._registry))") == "0"
    registered = set(
        _run(
            "import app.worker as worker; print(' '.join(sorted(worker.huey._registry._registry)))"
        ).split()
    )
    task_modules = {
        ".".join(path.relative_to(REPO).with_suffix("").parts) for path in APP.glob("*/tasks.py")
    }
    assert task_modules  # the glob found the features' task modules
    for module in task_modules:
        assert any(name.startswith(f"{module}.") for name in registered), module
    assert {f"app.{feature}.tasks" for feature in ("directory", "drives", "mail", "stats")} <= (
        task_modules
    )


def _commit_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_only_the_edges_commit():
    allowed = {APP / "edge.py", *APP.rglob("cli.py")}
    found = {
        f"{path.relative_to(REPO)}:{line}"
        for path in _python_files()
        if path not in allowed
        for line in _commit_calls(path)
    }
    assert not found, f"commit() outside app/edge.py and the CLI commands: {sorted(found)}"
    # The check itself sees commits where they are.
    assert _commit_calls(APP / "edge.py")


def test_no_module_is_too_long_to_read():
    long = {
        str(path.relative_to(REPO)): lines
        for path in _python_files()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"
