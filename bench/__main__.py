"""`python -m bench [--latency-ms L] [--quick]`: run the scenarios, print the figures and the targets."""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings

from . import instructions
from .fleet import fleet_scenario
from .harness import FOUND_IDS, USERS, Bench, CommandTiming, at_once, command_text, running_bench, running_lean
from .report import Target, cpu_used, machine_lines, memory_kib, ms, percentile, profile_summary, read_cpu, timing

# Between scenarios: long enough for the app's call budget to refill, as after any quiet moment.
PAUSE_SECONDS = 2.0
ACK_LIMIT_SECONDS = 3.0
# The goal: the app's CPU per command within this factor of the lean reference bot's.
LEAN_FACTOR_MAX = 1.5


@dataclass(frozen=True, slots=True)
class Plan:
    sequential: int
    concurrent: int
    wide_runs: int
    burst: int
    burst_rounds: int  # bursts against each of the app and the lean bot, alternating


# Five rounds: the median of five survives two rounds that the machine's drift took off. A lean bot's burst
# is over in a third of a second, and with three its rounds read anywhere from 0.63 to 1.24 ms in one run.
FULL = Plan(sequential=30, concurrent=50, wide_runs=3, burst=200, burst_rounds=5)
QUICK = Plan(sequential=5, concurrent=50, wide_runs=1, burst=50, burst_rounds=1)


@dataclass(frozen=True, slots=True)
class Burst:
    """One burst against one bot: its commands, and the CPU its process used per command."""

    timings: list[CommandTiming]
    user: float  # seconds per command
    system: float

    @property
    def per_command(self) -> float:
        return self.user + self.system

    @property
    def complete(self) -> int:
        return sum(1 for t in self.timings if t.complete)


async def measured_burst(bench: Bench, count: int, tag: str) -> Burst:
    """`count` commands at once, and the user and system CPU of the bot's process over them."""
    before = read_cpu(bench.app.pid)
    timings = await at_once(bench, count, tag)
    await asyncio.sleep(0.5)  # the last audit lines and metrics are the command's cost too
    user, system = cpu_used(before, read_cpu(bench.app.pid))
    return Burst(timings, user / count, system / count)


def cpu_figure(bursts: Sequence[Burst]) -> str:
    """The median CPU per command over the rounds, its split, and each round's, in ms."""
    median = statistics.median(b.per_command for b in bursts)
    user, system = statistics.median(b.user for b in bursts), statistics.median(b.system for b in bursts)
    rounds = ", ".join(f"{b.per_command * 1000:.2f}" for b in bursts)
    each = f"; rounds {rounds}" if len(bursts) > 1 else ""
    return f"{median * 1000:.2f} ms per command (user {user * 1000:.2f} + system {system * 1000:.2f} ms{each})"


def app_defaults() -> str:
    fields = Settings.model_fields
    names = ("yunxin_max_calls_per_second", "yunxin_concurrency")
    return ", ".join(f"{name.upper()}={fields[name].default:g}" for name in names)


def wide_text(tag: str, count: int = 300) -> str:
    unique = [f"bench_{tag}{n}|1|sandbox_bob" for n in range(count - len(FOUND_IDS))]
    return " ".join([*FOUND_IDS, *unique])


async def sequential(bench: Bench, count: int, tag: str) -> list[CommandTiming]:
    return [await bench.command(command_text(tag, i), USERS[i % len(USERS)]) for i in range(count)]


async def warm_up(bench: Bench, tag: str) -> None:
    await asyncio.gather(*(bench.command(command_text(tag, i), user) for i, user in enumerate(USERS)))


def answered(timings: Sequence[CommandTiming]) -> list[float]:
    return [t.end_to_end for t in timings if t.end_to_end is not None]


def latency_lines(timings: Sequence[CommandTiming], floor: float) -> list[str]:
    acks = [t.ack_seconds for t in timings]
    ends = answered(timings)
    lines = [f"  ack         p50 {ms(percentile(acks, 0.5))}   p99 {ms(percentile(acks, 0.99))}"]
    if ends:
        lines.append(
            f"  end to end  p50 {timing(percentile(ends, 0.5), floor)}   p99 {timing(percentile(ends, 0.99), floor)}"
        )
    lost = len(timings) - len(ends)
    if lost:
        lines.append(f"  {lost} of {len(timings)} commands got no answer")
    return lines


class Run:
    """The scenarios in order, printing as they finish, gathering the targets."""

    def __init__(self, bench: Bench, lean: Bench, plan: Plan, floor: float) -> None:
        self.bench = bench
        self.lean = lean
        self.plan = plan
        self.floor = floor
        self.targets: list[Target] = []

    def calls_since(self, before: int) -> str:
        return f"{self.bench.sandbox.calls - before} upstream calls"

    async def warm_up(self) -> None:
        await warm_up(self.bench, "w")
        await warm_up(self.lean, "lw")
        # The app meets its first burst after the scenarios' load, 50 at once among them; the lean bot
        # gets that much concurrent load first too.
        await at_once(self.lean, self.plan.concurrent, "lc")
        print(
            f"warm-up: one command per bench user ({len(USERS)}) to the app, then to the lean bot and "
            f"{self.plan.concurrent} at once to it, not measured: users.info cached, pools open"
        )

    async def one_at_a_time(self) -> None:
        before = self.bench.sandbox.calls
        timings = await sequential(self.bench, self.plan.sequential, "s")
        print(f"\nOne at a time ({self.plan.sequential} sequential; {self.calls_since(before)})")
        print("\n".join(latency_lines(timings, self.floor)))
        ends = answered(timings)
        p50 = percentile(ends, 0.5) if ends else float("inf")
        self.targets.append(
            Target("one at a time: end-to-end p50 <= 1.1 L", timing(p50, self.floor), p50 <= 1.1 * self.floor)
        )

    async def concurrent(self) -> None:
        before = self.bench.sandbox.calls
        count = self.plan.concurrent
        timings = await at_once(self.bench, count, "c")
        print(f"\n{count} at once ({self.calls_since(before)})")
        print("\n".join(latency_lines(timings, self.floor)))
        ack99 = percentile([t.ack_seconds for t in timings], 0.99)
        ends = answered(timings)
        end99 = percentile(ends, 0.99) if len(ends) == count else float("inf")
        self.targets.append(Target(f"{count} at once: ack p99 <= 200 ms", ms(ack99), ack99 <= 0.2))
        self.targets.append(
            Target(f"{count} at once: end-to-end p99 <= 2 L", timing(end99, self.floor), end99 <= 2 * self.floor)
        )

    async def wide(self) -> None:
        before = self.bench.sandbox.calls
        timings: list[CommandTiming] = []
        for run in range(self.plan.wide_runs):
            timings.append(await self.bench.command(wide_text(f"{run}w"), USERS[run % len(USERS)]))
            await asyncio.sleep(PAUSE_SECONDS)
        runs = "1 run" if self.plan.wide_runs == 1 else f"{self.plan.wide_runs} runs, one after another"
        print(f"\nOne command with 300 IDs ({runs}; {self.calls_since(before)})")
        ends = answered(timings)
        for index, timing_ in enumerate(timings):
            shown = timing(timing_.end_to_end, self.floor) if timing_.end_to_end is not None else "no answer"
            print(f"  run {index + 1}: ack {ms(timing_.ack_seconds)}   end to end {shown}")
        median = percentile(ends, 0.5) if len(ends) == len(timings) else float("inf")
        self.targets.append(
            Target("300 IDs: end to end (median) <= 1.5 L", timing(median, self.floor), median <= 1.5 * self.floor)
        )

    async def burst(self) -> None:
        """Bursts against the app and the lean bot in turn, so the machine's drift reaches both alike."""
        before = self.bench.sandbox.calls
        count, rounds = self.plan.burst, self.plan.burst_rounds
        app_bursts: list[Burst] = []
        lean_bursts: list[Burst] = []
        for round_ in range(rounds):
            if round_:
                await asyncio.sleep(PAUSE_SECONDS)
            app_bursts.append(await measured_burst(self.bench, count, f"b{round_}x"))
            await asyncio.sleep(PAUSE_SECONDS)
            lean_bursts.append(await measured_burst(self.lean, count, f"lb{round_}x"))
        timings = [t for burst in app_bursts for t in burst.timings]
        sent = len(timings)
        per_command = statistics.median(b.per_command for b in app_bursts)
        lean_per_command = statistics.median(b.per_command for b in lean_bursts)
        # Each round's two bursts are seconds apart, so a drift of the machine's speed cancels in their ratio.
        ratios = [
            app_burst.per_command / lean_burst.per_command if lean_burst.per_command > 0 else float("inf")
            for app_burst, lean_burst in zip(app_bursts, lean_bursts, strict=True)
        ]
        ratio = statistics.median(ratios)
        lean_complete = sum(b.complete for b in lean_bursts)
        ends = answered(timings)
        complete = sum(b.complete for b in app_bursts)
        slowest_ack = max(t.ack_seconds for t in timings)
        late = sum(1 for t in timings if not t.acked or t.ack_seconds >= ACK_LIMIT_SECONDS)
        each = "" if rounds == 1 else f"; {rounds} rounds, medians"
        print(
            f"\nBurst of {count} at once, against the app then the lean bot, in turn{each} "
            f"({self.calls_since(before)}; the app's call budget spreads them by design)"
        )
        print(f"  answered    {len(ends)}/{sent} ({complete} with every ID answered)")
        print(f"  slowest ack {ms(slowest_ack)}; acks over 3 s: {late}")
        print(f"  app CPU     {cpu_figure(app_bursts)}, of the app process")
        print(f"  lean bot    {cpu_figure(lean_bursts)}, {lean_complete}/{sent} complete")
        of_rounds = f", the median of the rounds' {', '.join(f'{r:.2f}' for r in ratios)}" if rounds > 1 else ""
        print(f"  app / lean  {ratio:.2f}x{of_rounds} (goal: at most {LEAN_FACTOR_MAX:g}x)")
        if lean_complete < sent:
            print("  the lean bot left commands incomplete: its figure is not a floor for this run")
        if ends:
            print(
                f"  end to end  p50 {timing(percentile(ends, 0.5), self.floor)}   "
                f"p99 {timing(percentile(ends, 0.99), self.floor)}   max {timing(max(ends), self.floor)}"
            )
        self.targets.append(
            Target(
                f"burst of {count}: app CPU per command <= 1.5 ms",
                f"{per_command * 1000:.2f} ms",
                per_command <= 0.0015,
            )
        )
        self.targets.append(
            Target(
                f"burst of {count}: app CPU <= {LEAN_FACTOR_MAX:g}x the lean bot's",
                f"{ratio:.2f}x ({per_command * 1000:.2f} / {lean_per_command * 1000:.2f} ms)",
                ratio <= LEAN_FACTOR_MAX and lean_complete == sent,
            )
        )
        self.targets.append(
            Target(
                f"burst of {count}: none lost, every ack < 3 s",
                f"{complete}/{sent} complete, slowest ack {ms(slowest_ack).strip()}",
                complete == sent and late == 0,
            )
        )

    def memory(self) -> None:
        kib = memory_kib(self.bench.app.pid)
        rss, peak = kib.get("VmRSS", 0) / 1024, kib.get("VmHWM", 0) / 1024
        print(f"\nApp process memory after the runs: VmRSS {rss:.1f} MB, VmHWM (peak) {peak:.1f} MB")
        self.targets.append(Target("memory: peak RSS (VmHWM) <= 120 MB", f"{peak:.1f} MB", peak <= 120))


async def profile(bench: Bench, plan: Plan, path: Path) -> None:
    """Record where the app's Python CPU goes during three bursts, with py-spy attached to the app process."""
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("py-spy")),  # installed beside this Python by the dev extra
        "record",
        "--pid",
        str(bench.app.pid),
        "--rate",
        "500",
        "--format",
        "speedscope",
        "--output",
        str(path),
        "--nonblocking",
        "--gil",  # only while Python holds the GIL: its own work, not waits or system calls
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    await asyncio.sleep(1.0)  # py-spy attaches
    for round_ in range(3):
        await at_once(bench, plan.burst, f"p{round_}")
        await asyncio.sleep(PAUSE_SECONDS)
    spy.send_signal(signal.SIGINT)
    _, err = await spy.communicate()
    if spy.returncode not in (0, -signal.SIGINT):
        print(f"py-spy failed ({spy.returncode}): {err.decode(errors='replace').strip()}")
        return
    print(f"\nProfile of {3 * plan.burst} commands written to {path} (open it at https://www.speedscope.app)")
    print("\n".join(profile_summary(path)))


async def run(
    latency_ms: float,
    quick: bool,
    profile_path: Path | None = None,
    fleet_only: bool = False,
    instructions_only: bool = False,
) -> int:
    plan = QUICK if quick else FULL
    floor = latency_ms / 1000
    print("Yunxin conversation bot: benchmark" + (" (--quick: fewer samples, a smoke test)" if quick else ""))
    print("\n".join(machine_lines()))
    if instructions_only:
        return await count_instructions(floor)
    if fleet_only:
        targets = await fleet_scenario(floor, plan.burst)
        print("\nTargets")
        print("\n".join(target.line() for target in targets))
        return 0
    async with running_bench(floor) as bench:
        print(
            f"app      `uvicorn bot.slack.web:create_asgi_app --factory` in its own process (pid {bench.app.pid}),\n"
            f"         settings at their defaults ({app_defaults()}), logging at INFO\n"
            f"here     Slack stand-in, Yunxin sandbox (L = {latency_ms:g} ms per call) and the load, in one process:\n"
            "         two busy processes for the cores, and every time is taken here, so this process's own\n"
            "         slowness can only add to the figures. L is the floor: no answer can come sooner."
        )
        if profile_path is not None:
            await warm_up(bench, "w")
            print(f"warm-up: one command per bench user ({len(USERS)}), not measured: users.info cached, pools open")
            await profile(bench, plan, profile_path)
            return 0
        async with running_lean(bench) as lean:
            print(
                f"lean bot `python -m bench.lean` in its own process (pid {lean.app.pid}), the same settings:\n"
                "         the reference floor for CPU per command (bench/lean.py); it waits, idle, except\n"
                "         during its own bursts"
            )
            scenarios = Run(bench, lean, plan, floor)
            await scenarios.warm_up()
            for step in (scenarios.one_at_a_time, scenarios.concurrent, scenarios.wide, scenarios.burst):
                await asyncio.sleep(PAUSE_SECONDS)
                await step()
        scenarios.memory()
    scenarios.targets += await fleet_scenario(floor, plan.burst)
    print("\nTargets")
    print("\n".join(target.line() for target in scenarios.targets))
    return 0


async def count_instructions(floor: float) -> int:
    why_not = instructions.available()
    if why_not is not None:
        print(f"--instructions {why_not}")
        return 2
    with tempfile.TemporaryDirectory(prefix="yunxin-bench-callgrind-") as out_dir:
        counts = await instructions.count(floor, Path(out_dir))
    ratio = counts.app / counts.lean if counts.lean > 0 else float("inf")
    print(
        f"\nInstructions per command (callgrind, user space, {counts.commands} commands {instructions.AT_ONCE} "
        f"at once, to each):\n"
        f"  app         {counts.app / 1e6:.2f} M\n"
        f"  lean bot    {counts.lean / 1e6:.2f} M\n"
        f"  app / lean  {ratio:.2f}x"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=100.0, help="Yunxin sandbox latency per call (L)")
    parser.add_argument("--quick", action="store_true", help="fewer samples: a smoke test")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="instead of the scenarios, record the app's CPU over three bursts with py-spy (speedscope JSON)",
    )
    parser.add_argument(
        "--fleet-only", action="store_true", help="only the fleet scenario: 3 replicas sharing one Valkey"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="instead of the scenarios, count the app's instructions per command under valgrind (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.latency_ms <= 0:
        parser.error("--latency-ms must be positive")
    return asyncio.run(run(args.latency_ms, args.quick, args.profile, args.fleet_only, args.instructions))


if __name__ == "__main__":
    sys.exit(main())
