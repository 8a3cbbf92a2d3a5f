"""Workflows and their executions, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.support.builders import BUCKET, OTHER_BUCKET, REGION, T0, at, execution_of, pic_job, workflow
from wanxiang.model.job import JobState
from wanxiang.model.workflow import Workflow, WorkflowState
from wanxiang.store.executions import ExecutionFilter, ExecutionStart
from wanxiang.store.outbox import PendingCallback
from wanxiang.store.paging import PageWindow
from wanxiang.store.store import Store

# -- workflows --------------------------------------------------------------------------------------


def test_a_saved_workflow_reads_back_with_its_topology(store: Store) -> None:
    flow = workflow(name="缩略图")
    store.workflows.insert(flow)
    assert store.workflows.get(BUCKET, flow.workflow_id) == flow
    assert store.workflows.get(OTHER_BUCKET, flow.workflow_id) is None


def test_updating_a_workflow_replaces_name_state_and_topology(store: Store) -> None:
    flow = workflow()
    store.workflows.insert(flow)
    flow.name, flow.state, flow.update_time = "renamed", WorkflowState.PAUSED, at(9)
    flow.topology = dict(flow.topology, Dependencies={"Start": "End"})

    store.workflows.update(flow)

    assert store.workflows.get(BUCKET, flow.workflow_id) == flow


def test_pausing_and_deleting_touch_only_the_buckets_own_workflow(store: Store) -> None:
    flow = workflow()
    store.workflows.insert(flow)

    assert not store.workflows.set_state(OTHER_BUCKET, flow.workflow_id, WorkflowState.PAUSED, at(1))
    assert not store.workflows.delete(OTHER_BUCKET, flow.workflow_id)
    assert store.workflows.set_state(BUCKET, flow.workflow_id, WorkflowState.PAUSED, at(2))
    paused = store.workflows.get(BUCKET, flow.workflow_id)
    assert paused is not None and paused.state == WorkflowState.PAUSED and paused.update_time == at(2)
    assert store.workflows.delete(BUCKET, flow.workflow_id)
    assert store.workflows.get(BUCKET, flow.workflow_id) is None
    assert not store.workflows.delete(BUCKET, flow.workflow_id)


def test_uploads_trigger_only_the_buckets_active_workflows_oldest_first(store: Store) -> None:
    first, paused, second = workflow(name="a"), workflow(name="b", state=WorkflowState.PAUSED), workflow(name="c")
    for flow in (first, paused, second, workflow(OTHER_BUCKET, name="d")):
        store.workflows.insert(flow)
    assert [f.workflow_id for f in store.workflows.active_in_bucket(BUCKET)] == [first.workflow_id, second.workflow_id]


def test_workflow_list_is_newest_first_by_page_number_filtered_by_ids_and_name(store: Store) -> None:
    flows = [workflow(name=f"flow{i}", created=at(i)) for i in range(5)]
    for flow in flows:
        store.workflows.insert(flow)

    page1, total1 = store.workflows.list(BUCKET, page_size=2)
    page3, total3 = store.workflows.list(BUCKET, page_number=3, page_size=2)
    assert (total1, total3) == (5, 5)
    assert [f.name for f in page1] == ["flow4", "flow3"] and [f.name for f in page3] == ["flow0"]
    assert store.workflows.list(BUCKET, name="flow2")[0] == [flows[2]]
    picked, total = store.workflows.list(BUCKET, ids=[flows[0].workflow_id, flows[3].workflow_id, "wnosuch"])
    assert total == 2 and [f.name for f in picked] == ["flow3", "flow0"]


# -- executions -------------------------------------------------------------------------------------


def started(store: Store, *, key: str = "in/a.png", trigger_key: str | None = None, nodes: int = 1,
            created: float = 0) -> ExecutionStart:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    flow = workflow()
    store.workflows.insert(flow)
    start = ExecutionStart(
        execution_of(flow, key, created=at(created)),
        trigger_key=trigger_key,
        tasks=[(f"PicProcess_{n}", pic_job(key=key, workflow_id=flow.workflow_id)) for n in range(1, nodes + 1)],
    )
    assert store.executions.start(start)
    return start


def test_a_started_execution_reads_back_with_its_first_jobs_by_node(store: Store) -> None:
    start = started(store, nodes=2)
    run = start.execution

    assert store.executions.get(BUCKET, run.run_id) == run
    assert store.executions.get(OTHER_BUCKET, run.run_id) is None
    tasks = store.executions.tasks(run.run_id)
    assert {node: job.job_id for node, job in tasks.items()} == {n: j.job_id for n, j in start.tasks}
    assert all(job.state == JobState.SUBMITTED for job in tasks.values())


def test_the_same_upload_event_never_starts_two_executions(store: Store) -> None:
    first = started(store, trigger_key="event-1")
    again = ExecutionStart(execution_of(first_flow(store, first)), trigger_key="event-1",
                           tasks=[("PicProcess_1", pic_job())])

    assert not store.executions.start(again)
    assert store.executions.get(BUCKET, again.execution.run_id) is None
    assert store.jobs.get(again.tasks[0][1].job_id) is None  # its job was not submitted either


def test_manual_executions_of_the_same_object_are_all_kept(store: Store) -> None:
    first = started(store)
    flow = first_flow(store, first)
    for _ in range(2):
        assert store.executions.start(ExecutionStart(execution_of(flow)))
    listed, _ = store.executions.list(BUCKET, ExecutionFilter(workflow_id=flow.workflow_id))
    assert len(listed) == 3


def test_a_node_gets_its_job_once_even_when_two_workers_advance_the_execution(store: Store) -> None:
    run = started(store).execution
    one, two = pic_job(key="mid.png"), pic_job(key="mid.png")

    assert store.executions.add_task(run.run_id, "PicProcess_2", one)
    assert not store.executions.add_task(run.run_id, "PicProcess_2", two)

    assert store.executions.tasks(run.run_id)["PicProcess_2"].job_id == one.job_id
    assert store.jobs.get(two.job_id) is None


def test_a_finished_execution_takes_no_new_jobs(store: Store) -> None:
    run = started(store).execution
    assert store.executions.settle(run.run_id, at(5), JobState.SUCCESS, [])
    late = pic_job()
    assert not store.executions.add_task(run.run_id, "PicProcess_2", late)
    assert store.jobs.get(late.job_id) is None


def test_settling_an_execution_ends_it_once_and_queues_its_callback_once(store: Store) -> None:
    run = started(store).execution
    finish = PendingCallback("WorkflowFinish", "https://hooks.example.com/wf", "application/xml", "<Response/>")

    assert store.executions.settle(run.run_id, at(5), JobState.FAILED, [finish])
    assert not store.executions.settle(run.run_id, at(6), JobState.SUCCESS, [finish])

    ended = store.executions.get(BUCKET, run.run_id)
    assert ended is not None and ended.state == JobState.FAILED and ended.end_time == at(5)
    [queued] = store.callbacks.for_job(run.run_id)
    assert (queued.event, queued.url, queued.state, queued.payload) == (
        "WorkflowFinish", "https://hooks.example.com/wf", "Pending", "<Response/>")


def test_canceling_an_execution_cancels_its_waiting_jobs_and_keeps_finished_ones(store: Store) -> None:
    start = started(store, nodes=2)
    run = start.execution
    claim = store.job_queue.claim(at(1), 30)
    assert claim is not None
    store.job_queue.finish(claim.job.job_id, claim.lease_token, at(2), JobState.SUCCESS, "Success", "", {})

    store.executions.cancel([run.run_id], at(3))

    canceled = store.executions.get(BUCKET, run.run_id)
    assert canceled is not None and canceled.state == JobState.CANCEL and canceled.end_time == at(3)
    states = {job.job_id: job.state for job in store.executions.tasks(run.run_id).values()}
    assert sorted(states.values()) == [JobState.CANCEL, JobState.SUCCESS]
    assert states[claim.job.job_id] == JobState.SUCCESS


def test_running_hands_out_the_least_recently_examined_executions_first(store: Store) -> None:
    flow = first_flow(store, started(store, key="in/0.png"))
    for i in (1, 2):
        store.executions.start(ExecutionStart(execution_of(flow, f"in/{i}.png")))

    examined_first = {r.run_id for r in store.executions.running(at(10), limit=2)}
    [never_examined] = store.executions.running(at(11), limit=1)
    [next_up] = store.executions.running(at(12), limit=1)

    assert len(examined_first) == 2 and never_examined.run_id not in examined_first
    assert next_up.run_id in examined_first
    store.executions.settle(next_up.run_id, at(13), JobState.SUCCESS, [])
    assert next_up.run_id not in {r.run_id for r in store.executions.running(at(14), limit=10)}


def test_touched_finds_executions_whose_jobs_ended_since_and_those_never_examined(store: Store) -> None:
    run = started(store).execution
    assert [r.run_id for r in store.executions.touched(at(0), at(1))] == [run.run_id]  # never examined
    assert store.executions.touched(at(0), at(2)) == []
    claim = store.job_queue.claim(at(3), 30)
    assert claim is not None
    store.job_queue.finish(claim.job.job_id, claim.lease_token, at(4), JobState.SUCCESS, "Success", "", {})
    assert [r.run_id for r in store.executions.touched(at(4), at(5))] == [run.run_id]
    assert store.executions.touched(at(4.5), at(6)) == []


def test_execution_list_pages_by_keyset_without_duplicates_or_gaps_while_executions_start(store: Store) -> None:
    first = started(store, key="in/0.png")
    flow = first_flow(store, first)
    runs = [first.execution]
    for i in range(1, 7):
        start = ExecutionStart(execution_of(flow, f"in/{i}.png", created=at(i)))
        store.executions.start(start)
        runs.append(start.execution)

    def page(token: str | None) -> tuple[list[str], str]:
        found, next_token = store.executions.list(
            BUCKET, ExecutionFilter(workflow_id=flow.workflow_id, window=PageWindow(size=3, next_token=token)))
        return [r.run_id for r in found], next_token

    seen, token = page(None)
    store.executions.start(ExecutionStart(execution_of(flow, "in/late.png", created=at(99))))
    while token:
        more, token = page(token)
        seen += more
    assert seen == [r.run_id for r in reversed(runs)]

    by_object, _ = store.executions.list(BUCKET, ExecutionFilter(workflow_id=flow.workflow_id, name="in/3.png"))
    assert [r.run_id for r in by_object] == [runs[3].run_id]


def first_flow(store: Store, start: ExecutionStart) -> Workflow:
    flow = store.workflows.get(BUCKET, start.execution.workflow_id)
    assert flow is not None
    return flow
