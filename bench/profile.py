"""`python -m bench.profile [seconds]`: where a service spends its time under load, sampled by py-spy.

Starts the four services as `make bench` does, puts wrk's 8 connections of permit applications on the registry
(bench/apply.lua, as the `http` figure drives it; `--clients N` for another count) while py-spy samples it, then
grants at 10/s while py-spy samples the inspection service; prints, per service, the functions with the largest
share of samples (inclusive, and own time), and keeps the flame graphs."""

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

from bench.harness import Keys, Service, database, delete_topics
from bench.over_http import require_tools, wrk
from bench.services import APPLY, commands, end_to_end
from shared.settings import SERVICES

PY_SPY = Path(sys.executable).parent / "py-spy"


def top(collapsed: Path, n: int = 25) -> dict:
    """Shares of samples from py-spy's collapsed stacks ('frame;frame;... count' lines)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, samples = line.rsplit(" ", 1)
        frames, count = stack.split(";"), int(samples)
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count

    def shares(counter: Counter) -> list[str]:
        return [f"{100 * c / total:5.1f}%  {frame}" for frame, c in counter.most_common(n)]

    return {"samples": total, "inclusive": shares(inclusive), "own": shares(own)}


async def sampled(service: Service, seconds: float, load, out: Path) -> dict:
    raw = out / f"{service.name}.txt"
    spy = await asyncio.create_subprocess_exec(
        str(PY_SPY),
        "record",
        "--pid",
        str(service.started.pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        str(raw),
        "--nonblocking",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await asyncio.sleep(0.5)
    await load
    await spy.wait()
    return top(raw)


async def main(seconds: float, clients: int) -> dict:
    require_tools()
    keys, out = Keys(), Path(tempfile.mkdtemp(prefix="titp-profile-"))
    officer = keys.headers("otit", subject="bench-officer")
    try:
        async with AsyncExitStack() as stack:
            services = {}
            for name in SERVICES:
                services[name] = Service(name, await stack.enter_async_context(database(name)), keys)
                stack.callback(services[name].stop)
            await asyncio.gather(*(s.ready() for s in services.values()))
            await commands(services["registry"].url, officer, 4, 1)
            driven = services["registry"]
            load = asyncio.to_thread(
                wrk,
                driven.url + APPLY,
                mode="post",
                expected=201,
                clients=clients,
                seconds=seconds - 1,
                server=driven.started.pid,
                auth=officer["authorization"],
            )
            registry = await sampled(driven, seconds, load, out)
            inspection = await sampled(
                services["inspection"],
                seconds,
                end_to_end(
                    services["registry"], services["inspection"], officer, rate=10, count=int(10 * (seconds - 1))
                ),
                out,
            )
    finally:
        await delete_topics()
    under = f"registry_under_{clients}_clients"
    return {"folded_stacks": str(out), under: registry, "inspection_under_grants": inspection}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("seconds", nargs="?", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8, help="wrk's connections to the registry")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.seconds, args.clients)), indent=2))
