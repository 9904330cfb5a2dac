"""bench/apply.lua, wrk's script for figure 1: every body it sends is a valid permit application with a corporate
number of its own (the registry refuses a repeated one), and it counts every answer but the expected one."""

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from shared.reference import valid_corporate_number

WRK = "/usr/bin/wrk"
LUA = Path(__file__).resolve().parents[2] / "bench" / "apply.lua"

# wrk is installed by `make test` (and `make bench-tools`); without it the test fails, it is not skipped.


def serve(status: int) -> tuple[ThreadingHTTPServer, list[dict]]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append({"body": json.loads(body), "authorization": self.headers.get("authorization")})
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def drive(server: ThreadingHTTPServer, expected: int, run: int) -> dict:
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/supervising-organizations"
    out = subprocess.run(
        [WRK, "-t2", "-c2", "-d1s", "-s", str(LUA), url, "--", "post", str(expected), str(run)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env={**os.environ, "BENCH_AUTHORIZATION": "Bearer token"},
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    result: dict = json.loads(line[len("BENCH ") :])
    return result


def test_every_body_is_a_valid_application_with_a_corporate_number_of_its_own():
    server, received = serve(201)
    try:
        result = drive(server, 201, 7)
    finally:
        server.shutdown()
    numbers = [r["body"]["corporate_number"] for r in received]
    assert result["requests"] > 10 and result["failures"] == 0
    assert len(received) >= result["requests"]
    assert all(valid_corporate_number(n) for n in numbers), [n for n in numbers if not valid_corporate_number(n)][:3]
    assert len(set(numbers)) == len(numbers)
    assert {n[1:4] for n in numbers} == {"007"}  # the run's number: another run against the same database differs
    assert {r["authorization"] for r in received} == {"Bearer token"}
    assert {r["body"]["requested_permit_type"] for r in received} == {"general"}


def test_answers_other_than_the_expected_status_are_counted():
    server, received = serve(200)
    try:
        result = drive(server, 201, 8)
    finally:
        server.shutdown()
    assert result["requests"] > 0
    assert result["failures"] == result["requests"] and result["first_unexpected_status"] == 200
