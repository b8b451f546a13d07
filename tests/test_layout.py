"""The package's layering, as ``nst_helpers/__init__``'s docstring states it: each core module imports
only from core modules listed above it, each application (a sub-package) only from the core and from
itself, and nothing but ``cli`` and ``__main__`` imports an application."""

import ast
import re
from pathlib import Path

import nst_helpers

PACKAGE = Path(nst_helpers.__file__).resolve().parent
TOP = {"cli", "__main__"}


def _tables():
    """The module names of the docstring's two tables, in order: (core, applications)."""
    tables = re.findall(r"=+  =+\n(.*?)\n=+  =+", nst_helpers.__doc__, flags=re.S)
    rows = [[line.split("  ")[0] for line in table.splitlines()] for table in tables]
    core = [name.strip() for row in rows[0] for name in row.split(",")]
    return core, [name.strip() for name in rows[1]]


def _imports(path, package):
    """The package's modules that the file at ``path`` (in sub-package ``package``, or None) imports, as
    top-level names of ``nst_helpers`` (a module of the core, or an application's sub-package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        parts = (node.module or "").split(".") if node.module else []
        if node.level == 1 and package is None or node.level == 2:
            names = [parts[0]] if parts else [a.name for a in node.names]
        else:  # from .x import y inside a sub-package: its own module
            names = [package]
        found.update(names)
    return found


def test_the_docstring_lists_every_module_once():
    core, apps = _tables()
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"} - TOP
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert sorted(core) == sorted(modules) and len(set(core)) == len(core)
    assert sorted(apps) == sorted(packages)


def test_each_core_module_imports_only_from_those_above_it():
    core, apps = _tables()
    for i, name in enumerate(core):
        imported = _imports(PACKAGE / f"{name}.py", None) - {name}
        assert imported <= set(core[:i]), f"{name} imports {sorted(imported - set(core[:i]))}, listed below it"


def test_applications_import_the_core_and_themselves_only():
    core, apps = _tables()
    for app in apps:
        for path in (PACKAGE / app).glob("*.py"):
            imported = _imports(path, app) - {app}
            assert imported <= set(core), f"{app}/{path.name} imports {sorted(imported - set(core))}"


def test_the_checker_sees_a_violation(tmp_path):
    """The checks above can fail: a core module that imports an application is caught."""
    bad = tmp_path / "losses.py"
    bad.write_text("from .video import warp\nfrom . import files\n\ndef f():\n    from .lab import Lab\n")
    assert _imports(bad, None) == {"video", "files", "lab"}
    nested = tmp_path / "paint.py"
    nested.write_text("from ..config import make_config\nfrom .clips import Clip\nfrom ..lab import Lab\n")
    assert _imports(nested, "video") == {"config", "video", "lab"}
