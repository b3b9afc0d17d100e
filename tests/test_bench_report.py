"""The bench's CPU reading (bench/report.py): the scheduler's total, split as the ticks split it, and the
ticks alone when a thread came or went between the readings or the kernel keeps no schedstat."""

from __future__ import annotations

import os
import threading

import pytest

from bench.report import CpuReading, cpu_used, read_cpu


def test_the_total_is_the_schedulers_split_as_the_ticks_split_it() -> None:
    before = CpuReading(user=1.00, system=0.50, threads_ns={1: 4_000_000_000, 2: 1_000_000_000})
    after = CpuReading(user=1.30, system=0.60, threads_ns={1: 4_283_000_000, 2: 1_100_000_000})

    user, system = cpu_used(before, after)

    assert user + system == pytest.approx(0.383)  # not the ticks' 0.40
    assert user / (user + system) == pytest.approx(0.30 / 0.40)


def test_a_thread_that_came_or_went_leaves_the_ticks_figures() -> None:
    before = CpuReading(user=1.00, system=0.50, threads_ns={1: 4_000_000_000, 2: 1_000_000_000})
    after = CpuReading(user=1.30, system=0.60, threads_ns={1: 4_283_000_000})

    assert cpu_used(before, after) == pytest.approx((0.30, 0.10))


def test_without_schedstat_the_ticks_figures_stand() -> None:
    before = CpuReading(user=1.00, system=0.50, threads_ns={})
    after = CpuReading(user=1.30, system=0.60, threads_ns={})

    assert cpu_used(before, after) == pytest.approx((0.30, 0.10))


def test_no_ticks_at_all_counts_the_time_as_user_time() -> None:
    reading = CpuReading(user=1.0, system=0.5, threads_ns={1: 10})
    later = CpuReading(user=1.0, system=0.5, threads_ns={1: 20})

    assert cpu_used(reading, later) == pytest.approx((10e-9, 0.0))


def test_a_process_is_read_thread_by_thread() -> None:
    started, finish = threading.Event(), threading.Event()

    def wait() -> None:
        started.set()
        finish.wait()

    worker = threading.Thread(target=wait)
    worker.start()
    started.wait()
    try:
        reading = read_cpu(os.getpid())
        assert {threading.get_native_id(), worker.native_id} <= reading.threads_ns.keys()
        assert all(ns >= 0 for ns in reading.threads_ns.values())
        assert reading.user >= 0 and reading.system >= 0
    finally:
        finish.set()
        worker.join()
