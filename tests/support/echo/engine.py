"""The Echo engine: the input object copied to Output.Object behind Echo.Prefix."""

from __future__ import annotations

from wanxiang.engines.base import EngineJob, JobIO
from wanxiang.model.tree import Tree, text


class EchoEngine:
    tag = "Echo"

    def run(self, job: EngineJob, io: JobIO) -> Tree:
        body = text(job.operation, "Echo", "Prefix").encode() + io.input_path().read_bytes()
        stored = io.write_object(text(job.operation, "Output", "Object"), body, "text/plain")
        io.progress(100)
        return {"EchoResult": {"Object": stored.key, "Size": str(stored.size)}}
