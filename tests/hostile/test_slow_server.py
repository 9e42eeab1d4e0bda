# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A server that sends its answers one byte a second: every byte comes in time, the answer never does.

``timeout`` bounds each whole answer, so a module fails after about ``timeout`` seconds saying the answer was too
slow, the event source turns it into an error event and polls on, and cancelling the source ends it at once
whatever the server does. The bounds asserted are those of a hang against no hang (a dripped answer takes minutes),
not measures of speed.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from ansible_collections.sailpoint.isc.extensions.eda.plugins.event_source import task_status as event_source
from ansible_collections.sailpoint.isc.tests.hostile.emulator import running_emulator
from ansible_collections.sailpoint.isc.tests.hostile.harness import answer_counts, judge, run_module
from ansible_collections.sailpoint.isc.tests.hostile.ledger import LEDGER

SCENARIO = "slow server: one byte a second"
TIMEOUT = 3
MODULE_LIMIT = 10
CANCEL_LIMIT = 5


@pytest.fixture(scope="module")
def dripping():
    with running_emulator(tasks=5) as running:
        running.set_faults(drip_ms=1000)
        yield running


def test_a_module_fails_as_too_slow_within_its_timeout(dripping):
    started = time.monotonic()
    observation = run_module("task_status_info", dict(dripping.connection(), timeout=TIMEOUT, retries=0, scope="completed", count=True), check_mode=True)
    took = time.monotonic() - started
    problems = judge(observation, "(none)", expect="either", secrets=dripping.secrets())
    if observation.outcome != "failed" or "too slow" not in observation.msg or "no answer" in observation.msg:
        problems.append(f"expected a failure saying the answer was too slow, got {observation.outcome}: {observation.msg[:300]}")
    if took > MODULE_LIMIT:
        problems.append(f"the run took {took:.0f}s with timeout {TIMEOUT}")
    LEDGER.row(SCENARIO).record(faults_injected=1, **answer_counts(observation, problems))
    LEDGER.notes.append(f"slow server: task_status_info with timeout {TIMEOUT}, retries 0 failed after {took:.1f}s: {observation.msg[:160]}")
    assert not problems, LEDGER.found("slow server: module", problems, observation.describe(), SCENARIO)


def _source(dripping, tmp_path, monkeypatch, timeout):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    return event_source.TaskStatusSource(dict(dripping.connection(role="api"), timeout=timeout, retries=0, interval=1, api_version="v2025"))


def test_the_event_source_reports_an_error_event_and_polls_on(dripping, tmp_path, monkeypatch):
    source = _source(dripping, tmp_path, monkeypatch, TIMEOUT)
    polls = []

    async def counted_sleep(_seconds):
        polls.append(time.monotonic())

    async def scenario():
        queue = asyncio.Queue()
        running = asyncio.ensure_future(source.run(queue, sleep=counted_sleep))
        started = time.monotonic()
        try:
            first = await asyncio.wait_for(queue.get(), 2 * TIMEOUT)
            took = time.monotonic() - started
            second = await asyncio.wait_for(queue.get(), 2 * TIMEOUT)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        return first, second, took

    first, second, took = asyncio.run(scenario())
    problems = []
    for event in (first, second):
        if event.get("kind") != "error" or "too slow" not in event.get("error", ""):
            problems.append(f"expected an error event saying the answer was too slow, got {event}")
    if second.get("consecutive_failures") != 2:
        problems.append(f"polling did not go on after the first error: {second}")
    LEDGER.row(SCENARIO).record(faults_injected=2, clear_errors=not problems)
    LEDGER.notes.append(f"slow server: the event source's first error event came {took:.1f}s after it started (timeout {TIMEOUT})")
    assert not problems, LEDGER.found("slow server: event source errors", problems, scenario=SCENARIO)


def test_cancelling_the_event_source_ends_it_whatever_the_server_does(dripping, tmp_path, monkeypatch):
    # a timeout far beyond the test: only the cancellation can end the request
    source = _source(dripping, tmp_path, monkeypatch, 3600)
    dripped = threading.Event()
    emulator = dripping.emulator

    def sleep(seconds):
        dripped.set()
        time.sleep(seconds)

    emulator.sleep = sleep

    async def scenario():
        running = asyncio.ensure_future(source.run(asyncio.Queue()))
        # the answer has begun to drip: the source's worker thread waits in the middle of it
        await asyncio.to_thread(dripped.wait, 60)
        cancelled = time.monotonic()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        return cancelled

    try:
        cancelled = asyncio.run(scenario())
        # asyncio.run returns once the default executor's threads have ended: the worker did not wait for the answer
        took = time.monotonic() - cancelled
    finally:
        emulator.sleep = time.sleep
    problems = [] if dripped.is_set() else ["the emulator never began to drip an answer"]
    if took > CANCEL_LIMIT:
        problems.append(f"the source took {took:.0f}s to stop after it was cancelled")
    LEDGER.row(SCENARIO).record(faults_injected=1, clear_errors=not problems)
    LEDGER.notes.append(f"slow server: the event source stopped {took:.2f}s after it was cancelled in the middle of a dripping answer")
    assert not problems, LEDGER.found("slow server: cancelling the event source", problems, scenario=SCENARIO)
