"""`make faults`: break a private local stack under load on purpose and check that nothing is lost (issue 10).

Starts a stack of its own (deploy/local/stack.sh with its own data folder and ports; the shared stack is
never touched), then runs each scenario (faults.scenarios) in turn. Prints ONE JSON report; exit code 1
unless every scenario matches. See docs/faults.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import traceback

from bench.harness import Keys
from faults.scenarios import CLUSTER_SCENARIOS, SCENARIOS, run
from faults.stack import ROOT, PrivateStack


async def main(args: argparse.Namespace) -> dict:
    cluster = args.brokers == 3
    if args.only and not cluster and set(args.only) & set(CLUSTER_SCENARIOS):
        raise SystemExit(f"{', '.join(CLUSTER_SCENARIOS)} need --brokers 3")
    stack = PrivateStack(
        args.data / "stack",
        args.kafka_port,
        args.kafka_controller_port,
        args.pg_port,
        "sasl",
        brokers=args.brokers,
        proxy_port=args.kafka_port + 2,  # the PROXIED listener of network-partition-service-broker, +1 bound
    )
    await asyncio.to_thread(stack.start)
    os.environ.update(stack.identity("admin"))  # this process's own clients (faults.check) are its admin
    shutil.rmtree(args.data / "logs", ignore_errors=True)
    keys = Keys()
    result: dict = {"scenarios": {}}  # {"ok": bool, "scenarios": {name: {"ok": bool, ...figures}}}
    try:
        for name in args.only or (CLUSTER_SCENARIOS + SCENARIOS if cluster else SCENARIOS):
            try:
                result["scenarios"][name] = await run(
                    name,
                    stack,
                    keys,
                    args.data / "logs",
                    seconds=args.seconds,
                    settle=args.settle,
                    clients=args.clients,
                )
            except Exception as error:  # the scenario failed to run: reported as failed, the next ones still run
                traceback.print_exc()
                result["scenarios"][name] = {"scenario": name, "ok": False, "problems": [f"did not run: {error!r}"]}
    finally:
        await asyncio.to_thread(stack.stop)  # its data stays in --data until the next run, for a post-mortem
    result["ok"] = all(s["ok"] for s in result["scenarios"].values())
    return result


if __name__ == "__main__":
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20, help="length of the load in each scenario")
    parser.add_argument(
        "--settle", type=float, default=60, help="how long topics and subscribers may take to catch up after the load"
    )
    parser.add_argument(
        "--clients", type=int, default=5, help="clients per service (closed loop: one command each at a time)"
    )
    parser.add_argument("--only", nargs="*", choices=CLUSTER_SCENARIOS + SCENARIOS)
    parser.add_argument("--brokers", type=int, choices=[1, 3], default=1, help="Kafka nodes of the private stack")
    parser.add_argument(
        "--data",
        type=Path,
        default=ROOT / ".data" / "faults",
        help="the private stack's data and the services' logs (wiped at each run)",
    )
    parser.add_argument("--kafka-port", type=int, default=19092)
    parser.add_argument("--kafka-controller-port", type=int, default=19093)
    parser.add_argument("--pg-port", type=int, default=15432)
    report = asyncio.run(main(parser.parse_args()))
    print(json.dumps(report, indent=2))
    sys.exit(0 if report["ok"] else 1)
