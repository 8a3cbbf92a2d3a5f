"""Whatever a client sends, the answer is a CI error or a job: never an unhandled exception
(which the HTTP layer would have to turn into a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wanxiang.model.errors import CIError
from wanxiang.services.context import BucketContext
from wanxiang.services.jobs import JobService, parse_job_filter
from wanxiang.services.queues import QueueService
from wanxiang.services.templates import TemplateService
from wanxiang.store.store import Store
from wanxiang.wire.submit import parse_submit_job
from wanxiang.wire.xml import parse_request

CTX = BucketContext("fuzz-1250000000", "ap-guangzhou")
VALID = (
    b"<Request><Tag>PicProcess</Tag><Input><Object>a.png</Object></Input><Operation>"
    b"<PicProcess><IsPicInfo>true</IsPicInfo><ProcessRule>imageMogr2/rotate/90</ProcessRule></PicProcess>"
    b"<Output><Region>ap-guangzhou</Region><Bucket>fuzz-1250000000</Bucket><Object>o.png</Object></Output>"
    b"<UserData>u</UserData><JobLevel>1</JobLevel></Operation><CallBackFormat>JSON</CallBackFormat></Request>"
)
TAGS = ["Tag", "Input", "Object", "Operation", "PicProcess", "ProcessRule", "Output", "Region", "Bucket",
        "JobLevel", "UserData", "TemplateId", "QueueId", "CallBack", "CallBackFormat", "Animation", "Video",
        "Width", "Container", "Format", "SpeechRecognition", "EngineModelType", "Translation", "Lang", "Type"]


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[JobService, TemplateService, QueueService]]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'db.sqlite'}")
    yield JobService(store), TemplateService(store), QueueService(store)
    store.close()


def mutate(data: st.DataObject) -> bytes:
    body = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 6))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert", "tag", "text"]))
        at = data.draw(st.integers(0, max(len(body) - 1, 0)))
        if kind == "flip" and body:
            body[at] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del body[at : at + data.draw(st.integers(1, 40))]
        elif kind == "insert":
            body[at:at] = data.draw(st.binary(max_size=40))
        elif kind == "tag":
            name = data.draw(st.sampled_from(TAGS))
            body[at:at] = f"<{name}>{data.draw(st.text(max_size=20))}</{name}>".encode()
        else:
            body[at:at] = data.draw(st.text(max_size=30)).encode("utf-8", "surrogatepass")
    return bytes(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_job_requests_get_a_ci_error_or_a_job(
    services: tuple[JobService, TemplateService, QueueService], data: st.DataObject
) -> None:
    jobs, templates, _ = services
    body = mutate(data)
    try:
        tree = parse_request(body)
        jobs.submit(CTX, parse_submit_job(tree), path_family=data.draw(st.sampled_from(["jobs", "pic_jobs", "ai_jobs", "asr_jobs"])))
    except CIError as error:
        assert 400 <= error.status < 500 and error.code and error.message
    try:
        templates.create(CTX, parse_request(body))
    except CIError as error:
        assert 400 <= error.status < 500


@settings(max_examples=300, deadline=None)
@given(params=st.dictionaries(
    st.sampled_from(["tag", "queueId", "states", "size", "nextToken", "orderByTime", "startCreationTime",
                     "endCreationTime", "inputObject", "pageNumber", "pageSize", "state", "queueIds"]),
    st.text(max_size=30),
))
def test_any_list_parameters_get_a_ci_error_or_a_filter(params: dict[str, str]) -> None:
    try:
        parse_job_filter(params)
    except CIError as error:
        assert error.status == 400 and error.code == "InvalidArgument"


@pytest.mark.parametrize(
    "body",
    [
        b"<Request>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</Request>",
        b'<?xml version="1.0" encoding="UTF-16"?><Request/>',
        b"\xff\xfe<\x00R\x00",
        b"<Request><Tag>\xc3\x28</Tag></Request>",
        b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><Request><Tag>&e;</Tag></Request>',
    ],
)
def test_known_hostile_bodies_are_400s(body: bytes, services: tuple[JobService, TemplateService, QueueService], tmp_path: Path) -> None:
    with pytest.raises(CIError) as caught:
        services[0].submit(CTX, parse_submit_job(parse_request(body)))
    assert caught.value.status == 400
    assert "root:" not in caught.value.message  # nothing of /etc/passwd echoed
