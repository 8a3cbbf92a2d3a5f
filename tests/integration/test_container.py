"""The Dockerfile and compose.yaml, checked without a Docker engine: every command line they run
parses as the real ``wanxiang`` parses it, with their environment, and the image stops and
reports its health the way the lifecycle expects."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from wanxiang.cli import build_parser
from wanxiang.options import COMMON, SERVE, WORKER, resolve

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _instruction(name: str) -> str:
    final_stage = _dockerfile().rsplit("\nFROM ", 1)[1]
    joined = final_stage.replace("\\\n", " ")
    (line,) = [row for row in joined.splitlines() if row.startswith(name + " ")]
    return line[len(name) + 1:].strip()


def _wanxiang_services() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in _compose()["services"].items() if svc.get("image", "").startswith("wanxiang")}


def test_compose_runs_one_api_two_workers_and_postgresql() -> None:
    services = _compose()["services"]
    assert set(services) == {"api", "worker", "postgres"}
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["api"]["command"][0] == "serve" and services["worker"]["command"][0] == "worker"


@pytest.mark.parametrize("service", ["api", "worker"])
def test_each_compose_command_parses_with_its_environment(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = _wanxiang_services()[service]
    command = svc["command"]
    env = {k: str(v) for k, v in svc["environment"].items()}
    for key in [k for k in os.environ if k.startswith("WANXIANG_")]:
        monkeypatch.delenv(key)
    for key, value in {**_image_env(), **env}.items():
        monkeypatch.setenv(key, value)
    args = build_parser().parse_args(command)
    values = resolve(args, COMMON + (SERVE if command[0] == "serve" else WORKER))
    assert values["database_url"] == env["WANXIANG_DATABASE_URL"]
    assert values["log_format"] == "json"
    if service == "api":
        assert values["host"] == "0.0.0.0" and values["workers"] == 0 and values["metrics_token"]
    # The same line as the image's entrypoint would run it, through the installed command.
    result = subprocess.run([sys.executable, "-m", "wanxiang.cli", *command, "--help"], capture_output=True,
                            text=True, env={**os.environ, **_image_env(), **env}, timeout=60)
    assert result.returncode == 0, result.stderr


def _image_env() -> dict[str, str]:
    pairs = re.findall(r"(\w+)=(\S+)", _instruction("ENV"))
    return {k: v for k, v in pairs if k.startswith("WANXIANG_")}


def test_the_image_runs_wanxiang_as_a_non_root_user_and_stops_on_sigterm() -> None:
    assert json.loads(_instruction("ENTRYPOINT")) == ["wanxiang"]
    assert build_parser().parse_args(json.loads(_instruction("CMD"))).command == "serve"
    assert _instruction("STOPSIGNAL") == "SIGTERM"
    assert _instruction("USER") not in ("root", "0")
    assert "/-/ready" in _instruction("HEALTHCHECK")
    grace = float(_image_env().get("WANXIANG_SHUTDOWN_GRACE", "30"))
    stop_grace = _compose()["x-wanxiang"]["stop_grace_period"]
    assert float(stop_grace.rstrip("s")) > grace


def test_the_image_installs_the_system_packages_make_installs() -> None:
    makefile = (ROOT / "Makefile").read_text()
    system_deps = makefile.split("\nsystem-deps:", 1)[1].split("\n\n", 1)[0]
    make_packages = set(re.search(r"apt-get install -y -qq ([^\n]+)", system_deps).group(1).split())  # type: ignore[union-attr]
    image_packages = set(re.search(r'SYSTEM_DEPS="([^"]+)"', _dockerfile()).group(1).split())  # type: ignore[union-attr]
    assert make_packages <= image_packages
