"""Every route answers bad input with a 4xx CI error, never a 500 or a traceback."""

from __future__ import annotations

import random

import pytest

from tests.support.raw import signed
from tests.support.server import RunningServer
from wanxiang.wire.xml import parse_request

ROUTES = [
    ("POST", "/jobs"), ("POST", "/pic_jobs"), ("POST", "/ai_jobs"), ("POST", "/asr_jobs"),
    ("POST", "/template"), ("PUT", "/template/t1" + "0" * 32),
    ("PUT", "/picqueue/p" + "0" * 32), ("PUT", "/queue/p" + "0" * 32),
    ("POST", "/inventorytriggerjob"), ("PUT", "/inventorytriggerjob/b" + "0" * 32),
    ("POST", "/workflow"), ("PUT", "/workflow/w" + "0" * 32), ("POST", "/triggerworkflow"),
    ("GET", "/workflowexecution"), ("GET", "/workflowexecution/i" + "0" * 32),
    ("GET", "/inventorytriggerjob"), ("GET", "/workflow"), ("GET", "/template"), ("GET", "/queue"),
    ("DELETE", "/workflow/w" + "0" * 32), ("DELETE", "/template/t1" + "0" * 32),
    ("POST", "/some/key?image_process"), ("POST", "/?delete"), ("POST", "/some/key?uploads"),
]
SEEDS = [
    b"<Request/>",
    b"<Request><Tag>Animation</Tag><Input/><Operation><Animation><Video><Width>x</Width></Video></Animation></Operation></Request>",
    b"<Request><Name>n</Name><Type>Job</Type><Input><Prefix>a/</Prefix></Input><Operation><Tag>PicProcess</Tag></Operation></Request>",
    b"<Request><MediaWorkflow><Name>w</Name><Topology><Dependencies><Start>X_1</Start></Dependencies><Nodes/></Topology></MediaWorkflow></Request>",
    b"<Request><Tag>PicProcess</Tag><Name>t</Name><PicProcess/></Request>",
    b"<Request><Name>q</Name><State>Sideways</State><NotifyConfig><Url>ftp://x</Url></NotifyConfig></Request>",
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_bad_requests_get_ci_errors_not_server_errors(server: RunningServer, bucket: str, method: str, path: str) -> None:
    rng = random.Random(path)
    bodies = list(SEEDS)
    for seed in SEEDS:
        mutated = bytearray(seed)
        for _ in range(3):
            at = rng.randrange(len(mutated))
            mutated[at:at] = rng.choice([b"<", b">", b"</X>", b"&", b"\x00", "\u00e9".encode(), b"<Tag>x</Tag>"])
        bodies.append(bytes(mutated))
    raw_path, _, query = path.partition("?")
    for body in bodies:
        params = {query: ""} if query else {"workflowId": "w" + "1" * 32, "object": "a.png", "size": "abc"}
        response = signed(server, method, raw_path, bucket, body=body if method in ("POST", "PUT") else None, params=params)
        assert response.status_code < 500, (method, path, body, response.text)
        assert b"Traceback" not in response.content
        if response.status_code >= 400:
            error = parse_request(response.content, root="Error")
            assert error["Code"] and error["Message"] and error["RequestId"]
