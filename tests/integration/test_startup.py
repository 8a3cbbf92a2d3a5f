"""Start-up mistakes an operator makes, each answered by one line naming what to change and exit
status 2; and what --help, --version and doctor tell them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import free_port, start_server


def _wanxiang(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WANXIANG_")}
    clean.update(env or {})
    return subprocess.run([sys.executable, "-m", "wanxiang.cli", *args], capture_output=True, text=True, env=clean,
                          timeout=timeout)


def _one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for part in expected:
        assert part in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def test_a_port_already_taken_is_named_before_anything_else_is_printed(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = _wanxiang("serve", "--data-dir", str(tmp_path), "--port", str(port), "--workers", "0")
    _one_line_error(result, f"port {port}", "already in use", "--port")
    assert result.stdout == ""  # no "Generated credentials" that reads like success
    assert not (tmp_path / "credentials").exists()


def test_a_data_dir_that_is_a_file_is_named_with_the_reason(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = _wanxiang("serve", "--data-dir", str(not_a_dir), "--port", str(free_port()))
    _one_line_error(result, str(not_a_dir), "not a directory", "--data-dir")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_data_dir_without_write_permission_is_named(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = _wanxiang("serve", "--data-dir", str(locked), "--port", str(free_port()))
    _one_line_error(result, str(locked), "not writable")


def test_a_keys_file_in_the_wrong_format_is_named_with_its_line_number(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# my keys\nAKIDgood goodsecretkey\nAKIDbad:badsecretkey\n")
    result = _wanxiang("serve", "--data-dir", str(tmp_path / "d"), "--port", str(free_port()),
                       env={"WANXIANG_KEYS_FILE": str(keys)})
    line = _one_line_error(result, str(keys), "line 3", "SecretId SecretKey")
    assert "badsecretkey" not in line and "goodsecretkey" not in line


@pytest.mark.parametrize("command", ["serve", "worker", "doctor"])
def test_a_bad_environment_value_names_the_variable(tmp_path: Path, command: str) -> None:
    env = {"WANXIANG_PORT": "80a", "WANXIANG_WORKERS": "two", "WANXIANG_DATA_DIR": str(tmp_path)}
    result = _wanxiang(command, env=env)
    if command == "doctor":  # doctor reads neither: a bad port must not break it
        assert result.returncode == 0, result.stderr
    elif command == "serve":
        _one_line_error(result, "WANXIANG_")
    else:
        _one_line_error(result, "WANXIANG_WORKERS", "'two'")


def test_a_port_out_of_range_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    result = _wanxiang("serve", "--data-dir", str(tmp_path), env={"WANXIANG_PORT": "80a"})
    _one_line_error(result, "WANXIANG_PORT", "'80a'", "not a whole number")


def test_negative_workers_are_refused(tmp_path: Path) -> None:
    result = _wanxiang("serve", "--data-dir", str(tmp_path), "--workers", "-1")
    _one_line_error(result, "--workers", "-1", "out of range")


def test_an_unreachable_database_is_one_line_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://someone:hunter2secret@127.0.0.1:{free_port()}/nowhere"
    result = _wanxiang("serve", "--data-dir", str(tmp_path), "--port", str(free_port()), "--workers", "0",
                       "--database-url", url)
    line = _one_line_error(result, "database", "--database-url")
    assert "hunter2secret" not in result.stderr + result.stdout and "cannot be opened" in line


def test_a_restart_says_where_the_credentials_are_kept_but_never_the_secret_again(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANXIANG_SECRET")}
    first = start_server(tmp_path, "--workers", "0", env={**env, "WANXIANG_SECRET_ID": "", "WANXIANG_SECRET_KEY": ""})
    first.stop()
    keys = tmp_path / "credentials"
    secret = keys.read_text().splitlines()[-1].split()[1]
    assert secret in first.log()
    again = start_server(tmp_path, "--workers", "0", env={"WANXIANG_SECRET_ID": "", "WANXIANG_SECRET_KEY": ""})
    again.stop()
    assert f"from {keys}" in again.log() and secret not in again.log()


def test_help_shows_each_default_and_environment_variable() -> None:
    result = _wanxiang("serve", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for expected in ("default: 8080; env WANXIANG_PORT", "default: 127.0.0.1; env WANXIANG_HOST",
                     "default: 30.0; env WANXIANG_SHUTDOWN_GRACE", "env WANXIANG_LOG_FORMAT",
                     "default: CPU count; env WANXIANG_WORKERS", "env WANXIANG_METRICS_TOKEN"):
        assert expected in text, expected


def test_version_names_wanxiang_and_its_engines() -> None:
    result = _wanxiang("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("wanxiang 0.") and "pyvips" in result.stdout and "PyAV" in result.stdout


def test_doctor_reports_libvips_formats_codecs_and_fonts() -> None:
    result = _wanxiang("doctor")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "PicProcess: libvips 8." in out and "jpeg" in out and "png" in out and "webp" in out
    assert "Animation: PyAV" in out and "encoders: gif (gif)" in out
    assert "Watermark text" in out and "espeak-ng:" in out and "apertium:" in out
    assert "WordsGeneralize: jieba" in out


def test_doctor_strict_fails_when_a_configured_engine_lacks_what_it_needs(tmp_path: Path) -> None:
    config = tmp_path / "engines.toml"
    config.write_text('[asr]\n"16k_zh" = "vosk:/nowhere/model"\n')
    result = _wanxiang("doctor", "--strict", env={"WANXIANG_ENGINES_CONFIG": str(config)})
    assert result.returncode == 1, result.stdout
    assert "missing for a configured engine" in result.stdout and "SpeechRecognition 16k_zh" in result.stdout
