"""`pip install .` gives a working `qa` outside the checkout: prompts and the UI ship inside.

The wheel is installed with ``--no-deps`` into a folder of its own that comes first on the
path; its dependencies are the test venv's, so the test takes seconds, not a reinstall of
torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, TEST_LLM, qa_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An installed (not editable) copy of qa in its own folder, found before the checkout."""
    root = tmp_path_factory.mktemp("fresh")
    # Built with this venv's setuptools (no download), as `pip install .` builds it.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(root / "dist"), str(REPO)], check=True,
                   capture_output=True, timeout=600)
    wheel = next((root / "dist").glob("qa-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(root / "site"), str(wheel)], check=True,
                   capture_output=True, timeout=600)
    return root / "site"


def _run(site_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = qa_env()
    env.update(QA_LLM__MODEL=TEST_LLM, PYTHONPATH=str(site_dir))
    return subprocess.run([str(site_dir / "bin" / "qa"), *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=600)


def test_installed_qa_answers_outside_the_checkout(installed: Path, process_index: Path,
                                                  tmp_path: Path) -> None:
    where = subprocess.run([sys.executable, "-c", "import qa, qa.prompts, qa.ui.app;"
                            "print(qa.__file__); print(qa.prompts.packaged_prompts())"],
                           capture_output=True, text=True, cwd=tmp_path, check=True,
                           env={**os.environ, "PYTHONPATH": str(installed)}).stdout
    assert str(installed) in where and str(REPO) not in where  # the installed copy
    result = _run(installed, "ask", "--json", "--index", str(process_index),
                  "What was dantrolene originally developed to treat?", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert not data["refused"] and data["citations"][0]["source"].endswith(".txt")
    assert f"Using embedder all-MiniLM-L6-v2, LLM {TEST_LLM}" in result.stderr
    assert data["disclaimer"] and data["answer"].endswith(data["disclaimer"])

