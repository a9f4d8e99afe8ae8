"""The shape of the house, checked (docs/architecture.md says why).

- Imports point only down the layers, and no project modules import each other in a circle.
  The walker reads every module with ``ast`` (no import is executed), so an import inside a
  function, a relative import or an ``import_module("...")`` counts the same as one at the top.
- No Python file outside migrations, tests and bench is over 500 lines.
- No markup assembled in Python with ``mark_safe(f"...")``, and no ``noqa: S308`` that silences
  the linter's warning about it.
- Every rule id that code, tests and templates cite (``# C-12``) is written down in docs/rules.md.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import its own layer and those below it, never one above. Packages
# on the same layer may import each other as long as no circle forms.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("accounts",),
    ("cases",),
    ("escalations", "followups", "inbound", "ideas", "knowledge", "announcements"),
    ("web",),
    ("config",),
    # Demo data and its seed command sit above everything: no product module imports them.
    ("demo",),
)
PACKAGE_LAYER: dict[str, int] = {pkg: rank for rank, pkgs in enumerate(LAYERS) for pkg in pkgs}
PROJECT_PACKAGES: tuple[str, ...] = tuple(PACKAGE_LAYER)

# The one exception, kept as narrow as it can be. A follow-up timer starts when care asks the
# customer for something and stops when the customer answers (F-1, F-5): the case services drive
# it inside their own transaction. So followups.models and followups.timers count as the cases
# layer (cases may import them), and in return they may import nothing of cases but its models;
# everything else in followups (the sweep, tasks, admin, emails) stays above cases.
MODULE_LAYER: dict[str, int] = {
    "followups.models": PACKAGE_LAYER["cases"],
    "followups.timers": PACKAGE_LAYER["cases"],
}
MODULE_MAY_IMPORT_ONLY: dict[str, dict[str, tuple[str, ...]]] = {
    "followups.models": {"cases": ("cases.models",)},
    "followups.timers": {"cases": ("cases.models",)},
}

# Directories that hold no product modules (or none this file judges).
NOT_PRODUCT_DIRS = frozenset({"migrations", "tests", "bench", "__pycache__"})
# Directories of the checkout that are not source at all.
NOT_SOURCE_DIRS = frozenset({"node_modules", "staticfiles", "var", "media"})

MAX_LINES = 500


# --------------------------------------------------------------------------------------------
# The walker
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    source: str  # dotted name of the importing module
    target: str  # dotted name of the project module it reaches
    path: Path
    lineno: int
    in_function: bool

    def where(self, root: Path) -> str:
        try:
            shown = self.path.relative_to(root)
        except ValueError:
            shown = self.path
        local = " (inside a function)" if self.in_function else ""
        return f"{shown}:{self.lineno}{local}"


def discover_modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the given top-level packages.

    A package's ``__init__.py`` is the module named after the package; migrations, tests and
    bench directories are left out.
    """
    modules: dict[str, Path] = {}
    for package in packages:
        base = root / package
        if not (base / "__init__.py").is_file():
            continue
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(root)
            if NOT_PRODUCT_DIRS.intersection(rel.parts[:-1]):
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The project module that ``import name`` loads: the longest known prefix of ``name``
    (``cases.models.Case`` -> ``cases.models``), or None for anything outside the project."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _absolute(module: str, path: Path, level: int, name: str | None) -> str | None:
    """The absolute name behind ``from <level dots><name> import ...`` written in ``module``."""
    if level == 0:
        return name
    package = module.split(".") if _is_package(path) else module.split(".")[:-1]
    if level - 1 > len(package) - 1:
        return None  # beyond the top-level package: not ours to judge
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, name] if name else base)


_DYNAMIC_IMPORTERS = frozenset({"import_module", "import_string", "__import__"})


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, module: str, path: Path, modules: Mapping[str, Path]) -> None:
        self.module = module
        self.path = path
        self.modules = modules
        self.function_depth = 0
        self.found: list[Import] = []
        self._seen: set[tuple[str, int, bool]] = set()

    def _add(self, target: str | None, node: ast.AST) -> None:
        resolved = _resolve(target, self.modules) if target else None
        if resolved is None or resolved == self.module:
            return
        key = (resolved, node.lineno, self.function_depth > 0)
        if key in self._seen:  # ``from m import a, b`` is one import of m
            return
        self._seen.add(key)
        self.found.append(
            Import(
                source=self.module,
                target=resolved,
                path=self.path,
                lineno=node.lineno,
                in_function=self.function_depth > 0,
            )
        )

    def _in_function(self, node: ast.AST) -> None:
        self.function_depth += 1
        self.generic_visit(node)
        self.function_depth -= 1

    visit_FunctionDef = _in_function
    visit_AsyncFunctionDef = _in_function
    visit_Lambda = _in_function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _absolute(self.module, self.path, node.level, node.module)
        if base is None:
            return
        for alias in node.names:
            # ``from pkg import submodule`` reaches the submodule; ``from mod import name``
            # reaches the module.
            submodule = f"{base}.{alias.name}"
            self._add(submodule if submodule in self.modules else base, node)

    def visit_Call(self, node: ast.Call) -> None:
        # import_module("cases.services") and import_string("cases.services.case_open") load a
        # module just as an import statement does.
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if (
            name in _DYNAMIC_IMPORTERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            self._add(node.args[0].value, node)
        self.generic_visit(node)


def collect_imports(modules: Mapping[str, Path]) -> list[Import]:
    """Every import of a project module by a project module, in file and line order."""
    found: list[Import] = []
    for module, path in sorted(modules.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        visitor = _ImportVisitor(module, path, modules)
        visitor.visit(tree)
        found.extend(visitor.found)
    return found


def _longest_prefix(module: str, table: Mapping[str, object]) -> str | None:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in table:
            return candidate
    return None


def layer_of(
    module: str,
    package_layer: Mapping[str, int] = PACKAGE_LAYER,
    module_layer: Mapping[str, int] = MODULE_LAYER,
) -> int:
    exception = _longest_prefix(module, module_layer)
    if exception is not None:
        return module_layer[exception]
    return package_layer[module.split(".")[0]]


def layer_violations(
    imports: Iterable[Import],
    package_layer: Mapping[str, int] = PACKAGE_LAYER,
    module_layer: Mapping[str, int] = MODULE_LAYER,
    may_import_only: Mapping[str, Mapping[str, tuple[str, ...]]] = MODULE_MAY_IMPORT_ONLY,
) -> list[tuple[Import, str]]:
    """The imports that point up a layer, or step outside an exception's limits, with why."""

    def within(target: str, allowed: Iterable[str]) -> bool:
        return any(target == a or target.startswith(a + ".") for a in allowed)

    bad: list[tuple[Import, str]] = []
    for imp in imports:
        source_layer = layer_of(imp.source, package_layer, module_layer)
        target_layer = layer_of(imp.target, package_layer, module_layer)
        if target_layer > source_layer:
            bad.append((imp, f"layer {source_layer} imports layer {target_layer}"))
            continue
        exception = _longest_prefix(imp.source, may_import_only)
        if exception is not None:
            limits = may_import_only[exception]
            target_package = imp.target.split(".")[0]
            if target_package in limits and not within(imp.target, limits[target_package]):
                allowed = ", ".join(limits[target_package])
                bad.append((imp, f"{exception} may import only {allowed} of {target_package}"))
    return bad


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components in a stable order, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0

    nodes = sorted(set(graph) | {t for targets in graph.values() for t in targets})
    for start in nodes:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return sorted(components)


def _shortest_cycle(start: str, graph: Mapping[str, set[str]], members: set[str]) -> list[str]:
    """A shortest path start -> ... -> start inside one component (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        following = []
        for node in frontier:
            for succ in sorted(graph.get(node, ())):
                if succ not in members:
                    continue
                if succ == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if succ not in seen:
                    seen.add(succ)
                    previous[succ] = node
                    following.append(succ)
        frontier = following
    return [start]


def import_cycles(imports: Iterable[Import]) -> list[tuple[list[str], list[Import]]]:
    """Each circle of modules: one shortest loop through it, and every import inside it."""
    imports = list(imports)
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        graph[imp.source].add(imp.target)
    cycles = []
    for component in strongly_connected(graph):
        if len(component) < 2:
            continue
        members = set(component)
        loop = _shortest_cycle(component[0], graph, members)
        inside = [i for i in imports if i.source in members and i.target in members]
        cycles.append((loop, inside))
    return cycles


def describe_violations(violations: list[tuple[Import, str]], root: Path = ROOT) -> str:
    lines = [f"{len(violations)} import(s) point up a layer (layers, lowest first: {_layers()}):"]
    for imp, why in violations:
        lines.append(f"  {imp.source} -> {imp.target}   [{why}]   {imp.where(root)}")
    return "\n".join(lines)


def describe_cycles(cycles: list[tuple[list[str], list[Import]]], root: Path = ROOT) -> str:
    lines = [f"{len(cycles)} import circle(s):"]
    for loop, inside in cycles:
        lines.append("  " + " -> ".join(loop))
        for imp in inside:
            lines.append(f"      {imp.source} -> {imp.target}   {imp.where(root)}")
    return "\n".join(lines)


def _layers() -> str:
    return " < ".join(" / ".join(pkgs) for pkgs in LAYERS)


# --------------------------------------------------------------------------------------------
# The project as it stands
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project_imports() -> list[Import]:
    return collect_imports(discover_modules(ROOT, PROJECT_PACKAGES))


def test_every_top_level_package_has_a_layer():
    unplaced = sorted(
        p.parent.name
        for p in ROOT.glob("*/__init__.py")
        if p.parent.name not in PACKAGE_LAYER and p.parent.name not in {"tests", "bench"}
    )
    assert not unplaced, f"Give these packages a layer in LAYERS: {unplaced}"


def test_the_walker_sees_the_project(project_imports):
    modules = discover_modules(ROOT, PROJECT_PACKAGES)
    assert "cases.models" in modules
    assert "core.tenancy" in modules
    assert not any(".migrations" in m for m in modules)
    edges = {(i.source.split(".")[0], i.target) for i in project_imports}
    assert ("cases", "core.tenancy") in edges


def test_imports_point_only_down(project_imports):
    violations = layer_violations(project_imports)
    assert not violations, describe_violations(violations)


def test_no_import_circles(project_imports):
    cycles = import_cycles(project_imports)
    assert not cycles, describe_cycles(cycles)


def _project_python_files(root: Path = ROOT) -> list[Path]:
    """Every .py file of the checkout outside migrations, tests, bench and non-source folders."""
    files = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts[:-1]
        if any(p.startswith(".") for p in parts):  # .venv, .git, .hypothesis, ...
            continue
        if NOT_PRODUCT_DIRS.intersection(parts) or NOT_SOURCE_DIRS.intersection(parts[:1]):
            continue
        files.append(path)
    return files


def test_no_python_file_is_over_500_lines():
    too_long = []
    for path in _project_python_files():
        with path.open(encoding="utf-8") as f:
            count = sum(1 for _ in f)
        if count > MAX_LINES:
            too_long.append(f"  {path.relative_to(ROOT)} ({count} lines)")
    assert not too_long, (
        f"Over {MAX_LINES} lines (split by concern, not alphabetically):\n" + "\n".join(too_long)
    )


_MARKUP_IN_PYTHON = re.compile(r"mark_safe\(\s*f['\"]|noqa:[^\n]*\bS308\b")


def test_no_markup_marked_safe_in_python():
    found = []
    for path in _project_python_files():
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _MARKUP_IN_PYTHON.search(line):
                found.append(f"  {path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not found, "Markup belongs in templates:\n" + "\n".join(found)


# --------------------------------------------------------------------------------------------
# Rule ids resolve inside the repository
# --------------------------------------------------------------------------------------------

RULE_ID = re.compile(r"\b[TCSBFENIK]-\d+\b")
# A rule is defined by a list item or a heading that starts with its id: "- **C-12** ...".
RULE_DEFINITION = re.compile(r"^\s*(?:[-*]|#{1,6})\s+\**([TCSBFENIK]-\d+)\b", re.MULTILINE)


def _files_citing_rules(root: Path = ROOT) -> Iterator[Path]:
    for pattern in ("*.py", "*.html", "*.txt"):
        for path in sorted(root.rglob(pattern)):
            parts = path.relative_to(root).parts[:-1]
            if any(p.startswith(".") for p in parts) or NOT_SOURCE_DIRS.intersection(parts[:1]):
                continue
            yield path


def defined_rule_ids(text: str) -> list[str]:
    return RULE_DEFINITION.findall(text)


def test_rules_are_defined_once():
    ids = defined_rule_ids((ROOT / "docs" / "rules.md").read_text(encoding="utf-8"))
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    assert ids, "docs/rules.md defines no rules"
    assert not repeated, f"defined more than once in docs/rules.md: {repeated}"


def test_every_cited_rule_id_is_in_docs_rules():
    defined = set(defined_rule_ids((ROOT / "docs" / "rules.md").read_text(encoding="utf-8")))
    missing: dict[str, list[str]] = defaultdict(list)
    for path in _files_citing_rules():
        for rule in set(RULE_ID.findall(path.read_text(encoding="utf-8", errors="replace"))):
            if rule not in defined:
                missing[rule].append(str(path.relative_to(ROOT)))
    assert not missing, "cited but not in docs/rules.md:\n" + "\n".join(
        f"  {rule}: {', '.join(sorted(paths)[:5])}" for rule, paths in sorted(missing.items())
    )


# --------------------------------------------------------------------------------------------
# The walker's own tests, on small made-up projects
# --------------------------------------------------------------------------------------------

TOY_LAYERS = {"low": 0, "mid": 1, "high": 2}


def _toy(tmp_path: Path, files: dict[str, str]) -> list[Import]:
    for name, body in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    for package in TOY_LAYERS:
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    return collect_imports(discover_modules(tmp_path, TOY_LAYERS))


def _edges(imports: Iterable[Import]) -> set[tuple[str, str]]:
    return {(i.source, i.target) for i in imports}


def _toy_violations(imports: list[Import]) -> list[tuple[Import, str]]:
    return layer_violations(imports, TOY_LAYERS, {}, {})


def test_walker_catches_an_upward_import(tmp_path):
    imports = _toy(
        tmp_path,
        {
            "low/a.py": "from high.views import page\n",
            "mid/b.py": "import low.a\n",  # downward: fine
            "high/views.py": "page = 1\n",
        },
    )
    violations = _toy_violations(imports)
    assert [(i.source, i.target) for i, _ in violations] == [("low.a", "high.views")]
    assert "low/a.py:1" in describe_violations(violations, tmp_path)


def test_walker_catches_an_upward_import_inside_a_function(tmp_path):
    imports = _toy(
        tmp_path,
        {
            "low/a.py": "def f():\n    if True:\n        from high import views\n",
            "high/views.py": "",
        },
    )
    ((imp, _),) = _toy_violations(imports)
    assert (imp.source, imp.target, imp.lineno, imp.in_function) == ("low.a", "high.views", 3, True)
    assert "(inside a function)" in describe_violations(_toy_violations(imports), tmp_path)


def test_walker_resolves_relative_and_dynamic_imports(tmp_path):
    imports = _toy(
        tmp_path,
        {
            "mid/pkg/__init__.py": "from . import sub\nfrom .sub import thing\n",
            "mid/pkg/sub.py": "from .. import helpers\nfrom ..helpers import x\nthing = 1\n",
            "mid/helpers.py": "x = 1\n",
            "mid/late.py": (
                "from importlib import import_module\n"
                "from django.utils.module_loading import import_string\n"
                "def f():\n"
                "    import_module('high.views')\n"
                "    return import_string('low.tools.helper')\n"
            ),
            "low/tools.py": "import os\nimport mid\n",
            "high/views.py": "",
        },
    )
    assert _edges(imports) == {
        ("mid.pkg", "mid.pkg.sub"),
        ("mid.pkg.sub", "mid.helpers"),
        ("mid.late", "high.views"),
        ("mid.late", "low.tools"),
        ("low.tools", "mid"),  # the package's __init__ is a module of its own
    }
    assert {(i.source, i.target) for i, _ in _toy_violations(imports)} == {
        ("mid.late", "high.views"),
        ("low.tools", "mid"),
    }


def test_walker_finds_a_three_module_circle(tmp_path):
    imports = _toy(
        tmp_path,
        {
            "mid/a.py": "from mid.b import x\n",
            "mid/b.py": "from mid import c\nx = 1\n",
            "mid/c.py": "def f():\n    import mid.a\n",
            "mid/d.py": "import mid.a\n",  # leads into the circle, is not part of it
        },
    )
    cycles = import_cycles(imports)
    assert [loop for loop, _ in cycles] == [["mid.a", "mid.b", "mid.c", "mid.a"]]
    text = describe_cycles(cycles, tmp_path)
    assert "mid.a -> mid.b -> mid.c -> mid.a" in text
    assert "mid/c.py:2 (inside a function)" in text


def test_walker_sees_a_circle_through_a_package_init(tmp_path):
    imports = _toy(
        tmp_path,
        {
            "mid/svc/__init__.py": "from .open import case_open\n",
            "mid/svc/open.py": "from mid.svc import history\ncase_open = 1\n",
            "mid/svc/history.py": "from mid.svc import case_open\n",
        },
    )
    ((loop, _),) = import_cycles(imports)
    assert set(loop) == {"mid.svc", "mid.svc.open", "mid.svc.history"}


def test_walker_allows_downward_and_same_layer_imports_without_circles(tmp_path):
    imports = _toy(
        tmp_path,
        {
            "high/a.py": "import mid.b\nfrom low import c\n",
            "mid/b.py": "from low.c import y\nfrom mid import e\n",
            "mid/e.py": "",
            "low/c.py": "y = 1\n",
        },
    )
    assert _toy_violations(imports) == []
    assert import_cycles(imports) == []


def test_module_exception_moves_a_module_down_and_limits_what_it_imports(tmp_path):
    imports = _toy(
        tmp_path,
        {
            "mid/models.py": "",
            "mid/services.py": "from high.timers import start\nfrom high.sweep import run\n",
            "high/timers.py": "from mid.models import Case\nfrom mid.services import x\n",
            "high/sweep.py": "",
        },
    )
    module_layer = {"high.timers": TOY_LAYERS["mid"]}
    only = {"high.timers": {"mid": ("mid.models",)}}
    violations = layer_violations(imports, TOY_LAYERS, module_layer, only)
    assert sorted((i.source, i.target) for i, _ in violations) == [
        ("high.timers", "mid.services"),  # beyond the exception's limit
        ("mid.services", "high.sweep"),  # the rest of the package stays above
    ]
