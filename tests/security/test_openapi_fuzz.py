"""Every operation of the OpenAPI, fuzzed by schemathesis (generated paths, queries and bodies,
valid and not) as the admin, on both engines: no answer is a 500.

The acceptance run of issue 24 used the CLI against a real server with 100 examples an
operation (about 10,800 cases an engine, none a 500); this keeps a smaller run in the suite, so
that a new 500 is caught where it is made."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.conftest import ADMIN_KEY
from tests.helpers import make_customer, make_purpose

EXAMPLES = 20
AS_ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def test_no_operation_answers_500(client: TestClient) -> None:
    make_purpose(client)  # something for the operations that name a purpose or a customer
    known = {
        "purpose_id": "newsletter",
        "customer_id": make_customer(client, identifiers={"email": "ann@example.com"}),
    }
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        # Half the cases on things that exist (else most stop at a 404), half anywhere.
        named = {k: v for k, v in known.items() if "{" + k + "}" in operation.path}

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=operation.as_strategy(path_parameters=named or None)
            | operation.as_strategy()
            | operation.as_strategy(schemathesis.GenerationMode.NEGATIVE)
        )
        def fuzz(case: Any) -> None:
            response = case.call(headers=AS_ADMIN)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        fuzz()
    assert operations > 75  # the whole document was read
    assert failures == []
