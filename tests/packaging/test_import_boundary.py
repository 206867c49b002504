"""The import boundary between serving code and everything else, checked by import-linter (contracts in the root
pyproject.toml, `[tool.importlinter]`; by hand: `.venv/bin/lint-imports`):
- layers: cxpulse_lab over the six services over cxpulse_core; the services are independent of each other (routing
  does not import cxpulse_sentiment, ...), none imports the lab, and core imports no service;
- no serving module (core outside its pytest plugin `cxpulse_core.testing`, and every service) imports that plugin,
  pytest or hypothesis, or a training / plotting tool.
Plus what import-linter cannot see: no serving package ships a test, benchmark, training or simulator module."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
SERVING = ("cxpulse_core", "cxpulse_ingest", "cxpulse_sentiment", "cxpulse_churn", "cxpulse_routing",
           "cxpulse_notification", "cxpulse_insights")
LAB_NAMES = ("test", "bench", "train", "training", "evaluate", "simulat", "export_onnx", "dataset", "finetune")


def lint_imports(*config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", *map(str, config)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_the_contracts_are_kept() -> None:
    done = lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout, done.stdout


def test_a_broken_contract_fails(tmp_path: Path) -> None:
    """The checker sees real imports across packages: the lab does import the sentiment model, so forbidding it
    must fail, naming the import."""
    config = tmp_path / "broken.ini"
    config.write_text("[importlinter]\nroot_packages =\n    cxpulse_lab\n    cxpulse_sentiment\n\n"
                      "[importlinter:contract:lab-without-sentiment]\nname = the lab without the sentiment model\n"
                      "type = forbidden\nsource_modules = cxpulse_lab\nforbidden_modules = cxpulse_sentiment\n")
    done = lint_imports(config)
    assert done.returncode == 1 and "BROKEN" in done.stdout, done.stdout + done.stderr
    assert "cxpulse_lab.sentiment" in done.stdout and "cxpulse_sentiment.model" in done.stdout, done.stdout


@pytest.mark.parametrize("package", SERVING)
def test_no_serving_package_ships_lab_modules(package: str) -> None:
    root = import_module(package)
    names = [m.name for m in pkgutil.walk_packages(root.__path__, f"{package}.")
             if not m.name.startswith("cxpulse_core.testing")]
    assert names, package
    lab = [n for n in names if n.rsplit(".", 1)[-1].startswith(LAB_NAMES)]
    assert lab == [], f"{package} ships lab modules {lab}: they belong in services/lab (cxpulse_lab)"
