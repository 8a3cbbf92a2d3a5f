"""Bench: one Animation job end to end through a live ``wanxiang serve`` (upload done, submit ->
Success, GIF stored), beside the bare PyAV decode + palettegen/paletteuse + GIF encode loop on the
same 10 s 1280x720 clip in the same run.

Run: .venv/bin/python -m bench.animation_e2e [--quick]
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from tests.support.server import SECRET_ID, SECRET_KEY, start_server

from bench import REGION, SignedClient, quick, sized
from bench.animation_engine import GIF_FPS, GIF_WIDTH, bare, make_clip

BUCKET = "bench-1250000000"
JOB_ID = re.compile(r"<JobId>([^<]+)</JobId>")
STATE = re.compile(r"<State>([^<]+)</State>")


def job_request() -> bytes:
    return (
        "<Request><Tag>Animation</Tag><Input><Object>in/clip.mp4</Object></Input><Operation>"
        f"<Animation><Container><Format>gif</Format></Container><Video><Codec>gif</Codec>"
        f"<Width>{GIF_WIDTH}</Width><Fps>{GIF_FPS}</Fps></Video></Animation>"
        f"<Output><Region>{REGION}</Region><Bucket>{BUCKET}</Bucket><Object>out/${{jobid}}.${{ext}}</Object></Output>"
        "</Operation></Request>"
    ).encode()


def one_job(client: SignedClient) -> float:
    started = time.perf_counter()
    response = client.request("POST", "/jobs", content=job_request())
    found = JOB_ID.search(response.text)
    assert found, response.text
    path = f"/jobs/{found.group(1)}"
    while True:
        state = STATE.search(client.request("GET", path).text)
        if state and state.group(1) in ("Success", "Failed"):
            assert state.group(1) == "Success", client.request("GET", path).text[:2000]
            return time.perf_counter() - started
        time.sleep(0.05)


def main() -> None:
    seconds = sized(10, 4)
    rounds = sized(3, 1)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        clip = make_clip(folder / "clip.mp4", seconds)
        server = start_server(folder / "server", "--workers", "1")
        client = SignedClient(server.url, BUCKET, SECRET_ID, SECRET_KEY)
        ours: list[float] = []
        baseline: list[float] = []
        try:
            client.request("PUT", "/in/clip.mp4", content=clip.read_bytes())
            for _ in range(rounds):  # interleaved, so a busy machine hurts both alike
                ours.append(one_job(client))
                started = time.perf_counter()
                bare(clip, folder / "bare.gif")
                baseline.append(time.perf_counter() - started)
        finally:
            client.close()
            server.stop()
        best_ours, best_bare = min(ours), min(baseline)
        print(f"{'(quick sizes) ' if quick() else ''}{seconds} s 1280x720 clip -> {GIF_WIDTH} px GIF at {GIF_FPS} fps")
        print(f"ours, end to end (submit -> Success)   {best_ours:6.2f} s per job (best of {rounds})")
        print(f"bare PyAV palettegen/paletteuse loop    {best_bare:6.2f} s")
        print(f"bare / ours: {best_bare / best_ours:.2f}   (aim 0.8 or better)")


if __name__ == "__main__":
    main()
