"""`make bench`: every figure beside its baseline, measured in one run against the local stack; prints ONE
JSON object. `python -m bench --scale 1` is the full size (1 M events replayed, 10 M stored before appending);
the default scale 0.1 finishes in a few minutes. `--only` picks figures. See docs/performance.md."""

import argparse
import asyncio
import json
import os
import platform
import time

from bench import harness, over_http, services, store

FIGURES = {
    "http": lambda args: over_http.run(args.seconds),  # figure 1: wrk, beside the peer, bare FastAPI and pgbench
    "services": lambda args: services.run(args.seconds),
    "store": lambda args: store.run(args.scale),
}


def machine() -> dict:
    model = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.machine(),
    )
    memory_kb = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(memory_kb / 2**20, 1),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
    }


async def main(args: argparse.Namespace) -> dict:
    result = {"machine": machine(), "scale": args.scale, "seconds_per_point": args.seconds, "run": harness.RUN}
    started = time.perf_counter()
    try:
        for name in args.only or FIGURES:
            result.update(await FIGURES[name](args))
    finally:
        await harness.delete_topics()
    result["bench_seconds"] = round(time.perf_counter() - started, 1)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1, help="1 = 1 M events replayed, 10 M stored")
    parser.add_argument("--seconds", type=float, default=5, help="length of each throughput point")
    parser.add_argument("--only", nargs="*", choices=list(FIGURES))
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
