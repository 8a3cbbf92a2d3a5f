"""The official Node SDK (npm cos-nodejs-sdk-v5, pinned in tests/node/package-lock.json) against a live server."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.images import marker_png
from tests.support.server import REGION, SECRET_ID, SECRET_KEY, RunningServer

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
STAMP = NODE_DIR / "node_modules" / ".wanxiang-installed"


@pytest.fixture(scope="session")
def node_sdk() -> Path:
    """``npm ci`` from the lockfile, once per lockfile change (kept in tests/node/node_modules)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js (node and npm) is not installed: apt-get install nodejs npm")
    lock = NODE_DIR / "package-lock.json"
    if not STAMP.exists() or STAMP.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True, timeout=300)
        STAMP.touch()
    return NODE_DIR


def test_node_sdk_uploads_slices_reads_ci_shaped_keys_and_runs_a_pic_job(
    node_sdk: Path, server: RunningServer, bucket: str, tmp_path: Path
) -> None:
    image = tmp_path / "in.png"
    image.write_bytes(marker_png(200, 100))
    env = dict(os.environ, WANXIANG_PORT=str(server.port), SECRET_ID=SECRET_ID, SECRET_KEY=SECRET_KEY,
               BUCKET=bucket, REGION=REGION, WORK_DIR=str(tmp_path), INPUT_PNG=str(image))
    done = subprocess.run(["node", "sdk_test.js"], cwd=node_sdk, env=env, capture_output=True, text=True, timeout=180)
    passed = [line for line in done.stdout.splitlines() if line.startswith("ok ")]
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(passed) == 4, done.stdout
