"""schemathesis against every service's OpenAPI (issue 8): requests generated from the schema, valid
and invalid, with a valid admin or officer token, never meet a server error, and every answer matches
the schema the service publishes. A few examples per operation keep it to seconds.
"""

import asyncio

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from shared.settings import SERVICES

EXAMPLES = 4
# Who calls: the roles that reach every operation of the service (a wrong role is the matrix test's business).
CALLERS = {
    "registry": ("otit", "admin"),
    "accreditation": ("otit", "admin"),
    "inspection": ("otit", "admin"),
    "visa": ("immigration", "admin"),
}


def fuzz(schema, send, headers) -> list[str]:
    """Run every operation's examples through `send`; the failures, described."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def check(case):
                try:
                    response = send(case)
                except Exception as error:  # noqa: BLE001 - the app raised: a server error
                    failures.append(f"{operation.label} [{mode.value}] -> raised {error!r}"[:2000])
                    return
                try:
                    case.validate_response(
                        response, checks=[not_a_server_error, response_schema_conformance], headers=headers
                    )
                except Exception as failure:  # noqa: BLE001 - collected, then reported all at once
                    failures.append(f"{operation.label} [{mode.value}] -> {response.status_code}: {failure}"[:2000])

            try:
                check()
            except Unsatisfiable:
                pass  # nothing to get wrong: an operation without parameters or body has no invalid requests
    return failures


@pytest.mark.parametrize("name", SERVICES)
async def test_no_generated_request_meets_a_server_error_and_every_answer_matches_the_schema(
    name, start_service, token
):
    client = await start_service(name)
    loop = asyncio.get_running_loop()
    schema = schemathesis.openapi.from_dict((await client.get("/openapi.json")).json())
    headers = token(*CALLERS[name], subject=f"fuzzer-{name}")

    def send(case):
        kwargs = case.as_transport_kwargs(base_url="http://test")
        request = client.request(
            kwargs["method"],
            kwargs["url"],
            headers=kwargs.get("headers"),
            params=kwargs.get("params"),
            json=kwargs.get("json"),
            content=kwargs.get("data") if isinstance(kwargs.get("data"), bytes) else None,
        )
        # The service runs on this test's event loop; schemathesis drives it from a worker thread.
        return asyncio.run_coroutine_threadsafe(request, loop).result(timeout=30)

    failures = await asyncio.to_thread(fuzz, schema, send, headers)
    assert not failures, "\n\n".join(failures)
