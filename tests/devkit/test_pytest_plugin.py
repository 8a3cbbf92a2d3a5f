"""The pytest plugin shipped in the package, used from a throwaway project as a user would."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from wanxiang.testing import group_members

THROWAWAY_TESTS = '''
import json, os
from pathlib import Path

def test_the_seed_named_in_the_ini_file_is_there(cos_client):
    body = cos_client.get_object(Bucket="seeded-1250000000", Key="hello.txt")["Body"].get_raw_stream().read()
    assert body == b"seeded"

def test_upload_and_read_back(cos_client):
    cos_client.put_object(Bucket="photos-1250000000", Body=b"hello", Key="a/b.txt")
    body = cos_client.get_object(Bucket="photos-1250000000", Key="a/b.txt")["Body"].get_raw_stream().read()
    assert body == b"hello"

def test_a_job_runs_on_the_same_server(wanxiang_server, cos_client):
    listed = cos_client.list_objects(Bucket="photos-1250000000")["Contents"]
    assert [o["Key"] for o in listed] == ["a/b.txt"]   # one server for the whole session
    queues = cos_client.ci_get_media_pic_queue(Bucket="photos-1250000000")["QueueList"]
    assert queues[0]["State"] == "Active"
    Path(os.environ["WANXIANG_PLUGIN_REPORT"]).write_text(json.dumps(
        {"pid": wanxiang_server.process.pid, "data_dir": str(wanxiang_server.data_dir), "url": wanxiang_server.url}))

def test_a_fresh_server_has_forgotten_the_earlier_tests(wanxiang_fresh, cos_client):
    assert "Contents" not in cos_client.list_objects(Bucket="photos-1250000000")
'''


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_plugin_fixtures_serve_a_throwaway_suite_and_leave_nothing_behind(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = tmp_path / "report.json"
    monkeypatch.setenv("WANXIANG_PLUGIN_REPORT", str(report))
    pytester.makepyfile(test_throwaway=THROWAWAY_TESTS)
    seed = pytester.path / "seed" / "seeded-1250000000"
    seed.mkdir(parents=True)
    (seed / "hello.txt").write_bytes(b"seeded")
    pytester.makeini("[pytest]\nwanxiang_serve_args = --workers 1 --seed seed\n")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=240)

    result.assert_outcomes(passed=4)
    seen = json.loads(report.read_text())
    assert not Path(seen["data_dir"]).exists()  # the temporary data dir is removed
    assert not alive(seen["pid"])
    assert group_members(seen["pid"]) == []  # no worker or pool process of its session left over
