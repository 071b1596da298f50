"""notebooks/walkthrough.ipynb runs top to bottom on a real run folder, in a kernel on this venv's python."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_report_runs import session_runs

pytestmark = pytest.mark.integration

NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"
KERNEL = "capplan-venv"


@pytest.fixture
def venv_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec whose argv is this interpreter (the venv's python), found through JUPYTER_PATH."""
    check = subprocess.run([sys.executable, "-c", "import ipykernel"], capture_output=True, text=True)
    if check.returncode != 0:  # the dev extra brings ipykernel; install it if this venv lacks it
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "ipykernel"], check=True)
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "capplan venv", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


def test_walkthrough_executes(venv_kernel: str, tmp_path_factory: pytest.TempPathFactory,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    run = session_runs(tmp_path_factory)["a"]
    monkeypatch.setenv("CAPPLAN_RUN", str(run))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel picks the inline backend
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name=venv_kernel, timeout=180,
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert f"run {run.name}:" in text
    assert "capacity" in text and "msg/s" in text
    assert any(s in text for s in ("PASS", "AT RISK", "FAIL"))
    assert "3x surge =" in text
    assert "hold p99 <=" in text or "needs" in text  # consumers from the fitted service rate, or a capacity factor
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) == 2
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "error"]
