"""workers/jobs.py: a Wakeable pass on the real JobQueue runs now, once at a time, again when
woken during a pass, and stops without starting another."""

from __future__ import annotations

import asyncio

from telegram.ext import ApplicationBuilder

from workers.jobs import Wakeable, wind_down


async def _application():  # type: ignore[no-untyped-def]
    application = ApplicationBuilder().token("1:unit").build()
    assert application.job_queue is not None
    await application.job_queue.start()
    return application


async def _until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_wake_during_a_pass_runs_one_more_pass_and_never_two_at_once() -> None:
    application = await _application()
    running, most, passes = 0, 0, 0
    release = asyncio.Event()

    async def cycle() -> float:
        nonlocal running, most, passes
        running += 1
        most = max(most, running)
        passes += 1
        if passes == 1:
            await release.wait()
        running -= 1
        return 3600.0  # idle: only a wake brings the next pass

    worker = Wakeable(application, "unit", cycle)
    worker.start()
    await _until(lambda: passes == 1)
    for _ in range(5):
        worker.wake()  # all during the first pass: one more pass, not five
    release.set()
    await _until(lambda: passes == 2)
    await asyncio.sleep(0.2)
    assert passes == 2 and most == 1
    worker.wake()
    await _until(lambda: passes == 3)
    await wind_down(application)
    await application.job_queue.stop()


async def test_wind_down_cancels_a_busy_pass_and_no_pass_follows() -> None:
    application = await _application()
    started, cancelled, stopped = asyncio.Event(), asyncio.Event(), asyncio.Event()
    passes = 0

    async def cycle() -> float:
        nonlocal passes
        passes += 1
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 0.0

    async def on_stopped() -> None:
        stopped.set()

    worker = Wakeable(application, "unit", cycle, stop_wait=0.1, on_stopped=on_stopped)
    worker.start()
    await asyncio.wait_for(started.wait(), 5)
    await wind_down(application)
    assert cancelled.is_set() and stopped.is_set()
    worker.wake()
    await asyncio.sleep(0.2)
    assert passes == 1
    await application.job_queue.stop()


async def test_a_failing_pass_is_tried_again_later(caplog) -> None:  # type: ignore[no-untyped-def]
    application = await _application()
    passes = 0

    async def cycle() -> float:
        nonlocal passes
        passes += 1
        raise RuntimeError("boom")

    worker = Wakeable(application, "unit", cycle)
    worker.start()
    await _until(lambda: passes == 1)
    await asyncio.sleep(0.2)
    assert passes == 1  # not a busy loop: the next try is AFTER_FAILURE seconds away
    assert "unit failed" in caplog.text
    await wind_down(application)
    await application.job_queue.stop()
