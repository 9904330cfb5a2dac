"""The peer's command in-process, no HTTP: `tasks` threads each saving new aggregates one after another for
`seconds` (the library is synchronous; FastAPI would run it in threads too). Prints one JSON object: commands/s,
p50/p99 and this process's CPU per command. Run from the peer's environment by bench/over_http.py.

    PEER_DATABASE_URL=... python -m bench.peer.inprocess --tasks 8 --seconds 5
"""

import argparse
import json
import os
import resource
import threading
import time

from bench.application import permit_application
from bench.peer.app import ApplyForPermit, registry


def body(n: int) -> ApplyForPermit:
    return ApplyForPermit.model_validate(permit_application(f"{n:013d}", f"{n}-1 Kanda, Chiyoda-ku, Tokyo"))


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer.inprocess", description=__doc__)
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    service = registry(os.environ["PEER_DATABASE_URL"])
    for n in range(20):  # warm-up: connections, caches
        service.apply_for_permit(body(n))
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + args.seconds

    def task(index: int) -> None:
        n, mine = 0, []
        while time.perf_counter() < stop:
            n += 1
            started = time.perf_counter()
            service.apply_for_permit(body((index + 1) * 10**9 + n))
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    cpu, started = cpu_s(), time.perf_counter()
    threads = [threading.Thread(target=task, args=(i,)) for i in range(args.tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, cpu_s() - cpu
    ordered = sorted(latencies)
    print(
        json.dumps(
            {
                "tasks": args.tasks,
                "commands": len(ordered),
                "commands_per_s": round(len(ordered) / elapsed, 1),
                "cpu_ms_per_command": round(cpu * 1000 / max(1, len(ordered)), 3),
                "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
                "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
