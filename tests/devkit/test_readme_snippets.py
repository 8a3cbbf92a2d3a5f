"""The README's Python and Node quick starts, run verbatim against the plugin's dev server."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from wanxiang.testing import RunningServer

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"  # cos-nodejs-sdk-v5, pinned by its package-lock.json
NODE_STAMP = NODE_DIR / "node_modules" / ".wanxiang-installed"


def snippet(heading: str, language: str) -> str:
    """The first ``language`` code block after the README paragraph that starts with ``heading``."""
    readme = (ROOT / "README.md").read_text()
    after = readme[readme.index(heading):]
    match = re.search(rf"```{language}\n(.*?)```", after, re.DOTALL)
    assert match, f"no {language} block after {heading!r}"
    return match.group(1)


def test_python_quick_start_rotates_a_photo(wanxiang_server: RunningServer, cos_client: Any, tmp_path: Path) -> None:
    photo = io.BytesIO()
    Image.new("RGB", (64, 32), (200, 30, 30)).save(photo, "JPEG")
    (tmp_path / "deer.jpg").write_bytes(photo.getvalue())
    (tmp_path / "quickstart.py").write_text(snippet("**Python**", "python"))

    env = {**os.environ, "WANXIANG_PORT": str(wanxiang_server.port)}
    done = subprocess.run([sys.executable, "quickstart.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)

    assert done.returncode == 0, done.stderr
    job_id, state = done.stdout.split()
    assert state == "Success" and job_id.startswith("c")
    out = cos_client.get_object(Bucket="photos-1250000000", Key="output/deer.jpg")["Body"].get_raw_stream().read()
    assert Image.open(io.BytesIO(out)).size == (32, 64)


@pytest.fixture(scope="session")
def node_modules() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js (node and npm) is not installed: apt-get install nodejs npm")
    lock = NODE_DIR / "package-lock.json"
    if not lock.exists():
        pytest.skip("tests/node (the pinned Node SDK) is not in this tree")
    if not NODE_STAMP.exists() or NODE_STAMP.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True,
                       timeout=300)
        NODE_STAMP.touch()
    return NODE_DIR / "node_modules"


def test_node_quick_start_uploads_and_reads_back(
    wanxiang_server: RunningServer, cos_client: Any, node_modules: Path, tmp_path: Path
) -> None:
    (tmp_path / "quickstart.js").write_text(snippet("**Node**", "js"))
    env = {**os.environ, "WANXIANG_PORT": str(wanxiang_server.port), "NODE_PATH": str(node_modules)}
    done = subprocess.run(["node", "quickstart.js"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hello from node"
    stored = cos_client.get_object(Bucket="photos-1250000000", Key="notes/hello.txt")["Body"].get_raw_stream().read()
    assert stored == b"hello from node"
