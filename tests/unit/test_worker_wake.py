"""How idle SQLite workers hear of new work: one doorbell shared by every worker process."""

from __future__ import annotations

import multiprocessing

from wanxiang.worker.wake import PollWaiter


def test_a_worker_that_woke_to_the_doorbell_and_found_work_passes_the_ring_on() -> None:
    """Two jobs submitted at once ring once: the worker that woke clears the bell and claims the
    first; the other, asleep after the clear, still hears of the second."""
    doorbell = multiprocessing.get_context("spawn").Event()
    first, second = PollWaiter(doorbell=doorbell), PollWaiter(doorbell=doorbell)
    doorbell.set()  # the API rings after the two submits commit
    assert first.wait(30)  # woken; the bell is clear again
    first.reset()  # it claimed the first job
    assert second.wait(30)  # woken too, not left to its poll


def test_a_ring_is_passed_on_once_not_by_every_later_claim() -> None:
    doorbell = multiprocessing.get_context("spawn").Event()
    waiter = PollWaiter(doorbell=doorbell)
    doorbell.set()
    assert waiter.wait(30)
    waiter.reset()
    assert doorbell.is_set()
    doorbell.clear()
    assert not waiter.wait(0.01)  # a poll that found the bell silent
    waiter.reset()  # work found by polling rings nobody
    assert not doorbell.is_set()
