"""Routing runs no encoder: turns arrive embedded by the sentiment service, so no routing module imports the
sentiment package (or its inference runtime), at start-up or when handling records."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import cxpulse_routing

FORBIDDEN = ("cxpulse_sentiment", "onnxruntime", "tokenizers")


def test_no_routing_module_imports_the_sentiment_package():
    modules = [m.name for m in pkgutil.walk_packages(cxpulse_routing.__path__, "cxpulse_routing.")]
    assert {"cxpulse_routing.app", "cxpulse_routing.agents", "cxpulse_routing.guidance"} <= set(modules)
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            f"print(sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout


def test_no_routing_source_names_the_sentiment_package():
    """Also imports inside functions, which importing the modules does not run."""
    for path in Path(cxpulse_routing.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in FORBIDDEN for n in names), f"{path.name} imports {names}"
