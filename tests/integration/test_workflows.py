"""Workflows on a real store: upload triggers, node jobs, settling runs, WorkflowFinish in the outbox."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from tests.integration.flows_support import REGION, Flows, make_flows
from tests.support.images import marker_png, size
from wanxiang.model.errors import CIError
from wanxiang.model.job import JobState, QueueFamily
from wanxiang.model.workflow import validate_topology
from wanxiang.services.workflows import UploadEvent
from wanxiang.storage.memory import MemoryStorage
from wanxiang.store.executions import ExecutionFilter
from wanxiang.store.paging import PageWindow
from wanxiang.store.queues import default_queue_id
from wanxiang.store.schema import callbacks as callbacks_table
from wanxiang.store.store import Store

BUCKET = "flow-1250000000"
HOOK = "http://127.0.0.1:9/hook"


def topology(prefix: str = "in/", *, nodes: dict[str, Any] | None = None, deps: dict[str, str] | None = None,
             notify: dict[str, str] | None = None, ext_filter: dict[str, str] | None = None) -> dict[str, Any]:
    start_input: dict[str, Any] = {
        "QueueId": default_queue_id(BUCKET, QueueFamily.MEDIA),
        "PicProcessQueueId": default_queue_id(BUCKET, QueueFamily.PIC),
        "ObjectPrefix": prefix,
    }
    if notify is not None:
        start_input["NotifyConfig"] = notify
    if ext_filter is not None:
        start_input["ExtFilter"] = ext_filter
    rotate = {
        "Type": "PicProcess",
        "Operation": {
            "PicProcess": {"ProcessRule": "imageMogr2/rotate/90"},
            "Output": {"Region": REGION, "Bucket": BUCKET, "Object": "out/${InputName}_${RunId}.${Ext}"},
        },
    }
    return {
        "Dependencies": deps or {"Start": "PicProcess_1581665960537", "PicProcess_1581665960537": "End"},
        "Nodes": {"Start": {"Type": "Start", "Input": start_input}, **(nodes or {"PicProcess_1581665960537": rotate})},
    }


def create(flows: Flows, topo: dict[str, Any], state: str = "Active") -> str:
    request = {"MediaWorkflow": {"Name": "rotate-uploads", "State": state, "Topology": topo}}
    return flows.workflows.create(flows.ctx, request).workflow_id


def upload(flows: Flows, key: str, request_id: str = "req-1", data: bytes | None = None) -> list[str]:
    meta = flows.storage.put(BUCKET, key, data or marker_png(16, 8), content_type="image/png")
    return flows.workflows.on_upload(UploadEvent(flows.ctx, meta, request_id, {}))


def runs_of(flows: Flows, workflow_id: str) -> list[Any]:
    return flows.store.executions.list(BUCKET, ExecutionFilter(workflow_id=workflow_id, window=PageWindow(size=100)))[0]


def all_settled(flows: Flows, workflow_id: str) -> bool:
    flows.worker.side_tasks[0]()
    return all(run.state.finished for run in runs_of(flows, workflow_id))


def test_every_upload_under_in_becomes_an_output_and_a_workflow_finish_callback(store: Store) -> None:
    flows = make_flows(store, MemoryStorage(), BUCKET)
    notify = {"Url": HOOK, "Event": "TaskFinish,WorkflowFinish", "State": "On", "ResultFormat": "JSON"}
    workflow_id = create(flows, topology(notify=notify))

    started = [upload(flows, f"in/photo-{i}.png", f"req-{i}") for i in range(3)]
    assert upload(flows, "elsewhere/photo.png") == []
    flows.run_until(lambda: all_settled(flows, workflow_id))

    runs = runs_of(flows, workflow_id)
    assert sorted(r.run_id for r in runs) == sorted(ids[0] for ids in started)
    assert {r.state for r in runs} == {JobState.SUCCESS}
    outputs = sorted(o.key for o in flows.storage.list(BUCKET, prefix="out/").objects)
    assert outputs == sorted(f"out/photo-{i}_{ids[0]}.png" for i, ids in enumerate(started))
    with flows.storage.open(BUCKET, outputs[0]) as fh:
        assert size(fh.read()) == (8, 16)
    with store.engine.connect() as conn:
        rows = conn.execute(callbacks_table.select().where(callbacks_table.c.event == "WorkflowFinish")).all()
    payloads = {json.loads(r.payload)["WorkflowExecution"]["RunId"]: json.loads(r.payload) for r in rows}
    assert set(payloads) == {r.run_id for r in runs} and {r.url for r in rows} == {HOOK}
    one = payloads[started[0][0]]["WorkflowExecution"]
    assert one["State"] == "Success" and one["Object"] == "in/photo-0.png"
    task = one["Tasks"][0]  # JSON keeps Tasks an array, as CosHeaders
    assert task["Name"] == "PicProcess_1581665960537" and task["State"] == "Success"
    job = store.jobs.get(task["JobId"])
    assert job is not None and job.workflow_id == workflow_id
    task_finish = [json.loads(r.payload) for r in store.callbacks.for_job(job.job_id)]
    assert [p["JobsDetail"]["Workflow"]["RunId"] for p in task_finish] == [started[0][0]]
    assert job.workflow == {"Name": "PicProcess_1581665960537", "RunId": started[0][0],
                            "WorkflowId": workflow_id, "WorkflowName": "rotate-uploads"}


def test_two_api_processes_seeing_the_same_upload_event_start_one_run(store: Store) -> None:
    flows = make_flows(store, MemoryStorage(), BUCKET)
    workflow_id = create(flows, topology())
    meta = flows.storage.put(BUCKET, "in/a.png", marker_png(), content_type="image/png")
    event = UploadEvent(flows.ctx, meta, "req-raced", {})
    started: list[list[str]] = []
    threads = [threading.Thread(target=lambda: started.append(flows.workflows.on_upload(event))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(s) for s in started) == [0, 0, 0, 1]
    assert len(runs_of(flows, workflow_id)) == 1


def test_the_same_upload_event_never_starts_two_runs(store: Store) -> None:
    flows = make_flows(store, MemoryStorage(), BUCKET)
    workflow_id = create(flows, topology())
    meta = flows.storage.put(BUCKET, "in/a.png", marker_png(), content_type="image/png")
    event = UploadEvent(flows.ctx, meta, "req-same", {})

    first, again = flows.workflows.on_upload(event), flows.workflows.on_upload(event)
    second_upload = flows.workflows.on_upload(UploadEvent(flows.ctx, meta, "req-other", {}))

    assert len(first) == 1 and again == [] and len(second_upload) == 1
    assert len(runs_of(flows, workflow_id)) == 2


def test_paused_workflows_and_filtered_extensions_do_not_trigger(store: Store) -> None:
    flows = make_flows(store, MemoryStorage(), BUCKET)
    paused = create(flows, topology(), state="Paused")
    images_only = create(flows, topology("img/", ext_filter={"State": "On", "Image": "true"}))

    assert upload(flows, "in/a.png") == []
    assert upload(flows, "img/notes.txt", data=b"text") == []
    assert len(upload(flows, "img/b.png")) == 1
    flows.workflows.set_state(flows.ctx, paused, flows.workflows.existing(flows.ctx, paused).state.ACTIVE)
    assert len(upload(flows, "in/c.png")) == 1
    assert [len(runs_of(flows, w)) for w in (paused, images_only)] == [1, 1]


def test_a_failed_node_fails_the_run_and_its_successor_never_runs(store: Store) -> None:
    flows = make_flows(store, MemoryStorage(), BUCKET)
    snapshot = {"Type": "Snapshot", "Operation": {"TemplateId": "t0000", "Output": {
        "Region": REGION, "Bucket": BUCKET, "Object": "snap/${InputName}.jpg"}}}
    rotate = topology()["Nodes"]["PicProcess_1581665960537"]
    workflow_id = create(flows, topology(
        nodes={"Snapshot_1": snapshot, "PicProcess_2": rotate},
        deps={"Start": "Snapshot_1", "Snapshot_1": "PicProcess_2", "PicProcess_2": "End"},
    ))
    run_id = upload(flows, "in/video.mp4")[0]
    flows.run_until(lambda: all_settled(flows, workflow_id))

    run, tasks = flows.workflows.get_execution(flows.ctx, run_id)
    assert run.state == JobState.FAILED
    assert list(tasks) == ["Snapshot_1"] and tasks["Snapshot_1"].state == JobState.FAILED
    assert "Snapshot" in tasks["Snapshot_1"].message


def test_a_batch_of_type_workflow_starts_one_run_per_object(store: Store) -> None:
    flows = make_flows(store, MemoryStorage(), BUCKET, page_size=4)
    workflow_id = create(flows, topology(), state="Paused")  # batches run paused workflows too
    for i in range(10):
        flows.storage.put(BUCKET, f"in/{i}.png", marker_png(16, 8))
    batch = flows.batches.create(flows.ctx, {"Name": "all", "Type": "Workflow", "Input": {"Prefix": "in/"},
                                             "Operation": {"WorkflowIds": workflow_id}})
    flows.run_until(lambda: all_settled(flows, workflow_id) and flows.batches.get(flows.ctx, batch.job_id).state.finished)  # type: ignore[union-attr]

    done = flows.batches.get(flows.ctx, batch.job_id)
    assert done is not None and done.state == JobState.SUCCESS and "10 objects: 10 succeeded" in done.message
    runs = flows.store.executions.list(BUCKET, ExecutionFilter(workflow_id=workflow_id, batch_id=batch.job_id, window=PageWindow(size=100)))[0]
    assert sorted(r.object_key for r in runs) == sorted(f"in/{i}.png" for i in range(10))
    assert len(flows.storage.list(BUCKET, prefix="out/").objects) == 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t["Nodes"].pop("Start"), "Start"),
        (lambda t: t["Nodes"].update({"End": t["Nodes"].pop("PicProcess_1581665960537")}), "not End"),
        (lambda t: t["Dependencies"].update({"PicProcess_1581665960537": "Animation_1"}), "not in Topology.Nodes"),
        (lambda t: t["Nodes"]["Start"]["Input"].pop("ObjectPrefix"), "ObjectPrefix"),
    ],
)
def test_a_topology_ci_would_refuse_is_refused_with_the_reason(change: Any, message: str) -> None:
    topo = topology()
    change(topo)
    with pytest.raises(CIError) as refused:
        validate_topology(topo)
    assert message in refused.value.message


def test_pic_process_cannot_be_followed_by_animation() -> None:
    topo = topology(deps={"Start": "PicProcess_1581665960537", "PicProcess_1581665960537": "Animation_1",
                          "Animation_1": "End"})
    topo["Nodes"]["Animation_1"] = {"Type": "Animation", "Operation": {}}
    with pytest.raises(CIError, match="cannot be followed by Animation"):
        validate_topology(topo)


def test_free_form_node_names_and_no_queue_fields_are_accepted() -> None:
    topo = topology(deps={"Start": "Rotate", "Rotate": "End"})
    topo["Nodes"]["Rotate"] = topo["Nodes"].pop("PicProcess_1581665960537")
    for field in ("QueueId", "PicProcessQueueId"):
        topo["Nodes"]["Start"]["Input"].pop(field)
    validate_topology(topo)
