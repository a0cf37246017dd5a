"""The house's rules, checked on every module: each layer imports only the layers below it,
nothing imports inside a function to dodge a cycle, and no package imports itself in a circle.

A reader can then trust the folder names: a resident's message arrives in handlers/resident/,
its tip is encrypted in storage/, it leaves for an officer from workers/delivery.py, and an
admin's permission is checked in handlers/shared/gate.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Layers from the bottom up. A module may import its own layer and any layer listed before it.
#: `bot.config` and `bot.services` are the settings and the services container every layer is
#: handed; the rest of `bot/` is the wiring on top.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("storage", "evidence", "texts"),
    ("telegram_api", "bot.config", "bot.services", "rules"),
    ("views",),
    ("reports",),
    ("workers",),
    ("handlers.shared",),
    ("handlers.resident", "handlers.officer", "handlers.admin"),
    ("handlers",),
    ("bot", "sandbox"),
)
PACKAGES = ("bot", "handlers", "storage", "evidence", "texts", "rules", "views", "reports",
            "workers", "telegram_api", "sandbox")

#: Imports inside a function that are there for a reason other than a cycle (a heavy library
#: only one command needs, or the sandbox that only `python -m bot sandbox` loads).
LAZY_ALLOWED = {
    "matplotlib.backends.backend_agg", "matplotlib.figure", "matplotlib.font_manager",
    "matplotlib.ticker", "sandbox.runner", "bot.app", "bot.polling", "telegram.error",
    "bot.officers_cli", "bot.audit_cli", "openpyxl", "openpyxl.styles", "openpyxl.utils",
    "evidence.images", "bot.webhook",
    # openpyxl takes a fifth of a second to load and only /export needs it.
    "reports.spreadsheet", "evidence.pdf", "evidence.office", "evidence.audio", "evidence.video",
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (length of the matching prefix, layer)
    for index, names in enumerate(LAYERS):
        for name in names:
            matches = module == name or module.startswith(name + ".")
            if matches and (best is None or len(name) > best[0]):
                best = (len(name), index)
    return None if best is None else best[1]


def imports(path: Path) -> list[tuple[str, bool, int]]:
    """(module imported, inside a function?, line) for every import of a project module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, bool, int]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module, in_function, child.lineno))
            elif isinstance(child, ast.Import):
                found.extend((alias.name, in_function, child.lineno) for alias in child.names)
            visit(child, inner)

    visit(tree, False)
    watched = (*PACKAGES, "openpyxl", "matplotlib", "telegram")
    return [item for item in found if item[0].split(".")[0] in watched]


def role_package(module: str) -> str | None:
    for role in ("handlers.resident", "handlers.officer", "handlers.admin"):
        if module == role or module.startswith(role + "."):
            return role
    return None


def test_every_import_goes_down_the_layers() -> None:
    wrong = []
    for name, path in modules().items():
        mine = layer_of(name)
        assert mine is not None, f"{name} belongs to no layer: add it to LAYERS"
        for target, _, line in imports(path):
            theirs = layer_of(target)
            if theirs is None:
                continue
            if theirs > mine:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target} (a layer above)")
            mine_role, their_role = role_package(name), role_package(target)
            if mine_role and their_role and mine_role != their_role:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target} (another door)")
    assert not wrong, "\n".join(wrong)


def test_no_import_inside_a_function_but_the_heavy_ones() -> None:
    lazy = [
        f"{path.relative_to(ROOT)}:{line} imports {target} inside a function"
        for path in modules().values()
        for target, in_function, line in imports(path)
        if in_function and target not in LAZY_ALLOWED
    ]
    assert not lazy, "\n".join(lazy)


def test_no_module_cycle() -> None:
    graph: dict[str, set[str]] = {}
    known = modules()
    for name, path in known.items():
        graph[name] = {target for target, _, _ in imports(path) if target in known} - {name}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def walk(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend([*trail, node, nxt])
                return True
            if state.get(nxt) is None and walk(nxt, [*trail, node]):
                return True
        state[node] = 2
        return False

    for node in sorted(graph):
        if state.get(node) is None and walk(node, []):
            break
    assert not cycle, " -> ".join(cycle)


def test_tests_and_benchmarks_share_one_testing_package() -> None:
    """bench/ reuses the end-to-end harness from testing/, never from tests/."""
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in (ROOT / "bench").rglob("*.py")
        for target, _, line in _all_imports(path)
        if target == "tests" or target.startswith("tests.")
    ]
    assert not wrong, "\n".join(wrong)


def _all_imports(path: Path) -> list[tuple[str, bool, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, bool, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, False, node.lineno))
        elif isinstance(node, ast.Import):
            out.extend((alias.name, False, node.lineno) for alias in node.names)
    return out
