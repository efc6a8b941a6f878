"""The package layers stay as docs/architecture.md draws them: the lower packages (project files,
NLU, stores, the action SDK) import nothing of the dialogue engine or the server, so each can be
used, tested and reasoned about alone. Every import counts: top-level, in a function, or only
for type checking."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import parley

ROOT = Path(parley.__file__).parent
FORBIDDEN = ("parley.server", "parley.dialogue", "parley.agent", "parley.testing")
LOWER_LAYERS = ("project", "nlu", "stores", "sdk")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, package: str) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in the file; `package` resolves relative ones."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                yield node.lineno, f"{base}.{node.module}" if node.module else base
            elif node.module:
                yield node.lineno, node.module


def _violations(layer: str) -> list[str]:
    found = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for line, name in _imports(path, package):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                found.append(f"{path.relative_to(ROOT.parent)}:{line} imports {name}")
    return found


def test_lower_layers_import_no_dialogue_or_server_code() -> None:
    violations = [v for layer in LOWER_LAYERS for v in _violations(layer)]
    assert violations == []


def test_the_layer_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from parley.dialogue.events import UserUttered\n")
    assert [name for _, name in _imports(module, "parley.nlu")] == ["parley.dialogue.events"]


def _drawn_edges(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    """Nodes and edges of the first mermaid flowchart of docs/architecture.md."""
    block = text.split("```mermaid", 1)[1].split("```", 1)[0]
    nodes: set[str] = set()
    edges: set[tuple[str, str]] = set()
    for line in block.splitlines():
        line = line.strip()
        if "-->" in line:
            source, targets = (part.strip() for part in line.split("-->"))
            edges |= {(source, t.strip()) for t in targets.split("&")}
        elif "[" in line:
            nodes.add(line.split("[", 1)[0])
    return nodes, edges


def _package_edges() -> set[tuple[str, str]]:
    """(package, package) for every import between parley's top-level packages and modules."""
    edges = set()
    for path in ROOT.rglob("*.py"):
        if "templates" in path.parts:
            continue
        module = _module_name(path)
        source = module.split(".")[1] if "." in module else module
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for _, name in _imports(path, package):
            parts = name.split(".")
            if parts[0] == "parley" and len(parts) > 1 and parts[1] != source:
                edges.add((source, parts[1]))
    return edges


def test_the_architecture_picture_draws_every_import_between_packages() -> None:
    doc = ROOT.parent / "docs" / "architecture.md"
    nodes, drawn = _drawn_edges(doc.read_text(encoding="utf-8"))
    actual = {
        (a, b) for a, b in _package_edges() if a in nodes and b in nodes and a != "cli"
    }  # the CLI sits on top and may use anything
    assert sorted(actual - drawn) == []


_LOAD_LAYER = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for module in pkgutil.walk_packages(package.__path__, sys.argv[1] + "."):
    if not module.name.endswith(".migrations.env"):  # Alembic's script, run by Alembic only
        importlib.import_module(module.name)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("layer", LOWER_LAYERS)
def test_lower_layers_load_no_dialogue_or_server_code_even_indirectly(layer: str) -> None:
    """What the layer's modules load at run time, through any package's __init__ on the way."""
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_LAYER, f"parley.{layer}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)] == []
