"""Property-based fuzz of the running backend from its own /openapi.json (schemathesis).

For every operation: requests generated from the documented schemas
(positive) and requests that violate them (negative), sent with a valid
service token and a valid verification token, so that generated data reaches
the domain logic. Every response must be documented (status code, content
type, body schema) and never a 5xx; invalid requests must be rejected with a 4xx.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from bot.backend.openapi import document

pytestmark = pytest.mark.fuzz


def _has_inputs(operation: dict) -> bool:
    return bool(operation.get("parameters") or operation.get("requestBody"))


# (operationId, method, path, generation mode); an operation without inputs has nothing to make invalid.
CASES = sorted(
    (operation["operationId"], method.upper(), path, mode)
    for path, operations in document(development=True)["paths"].items()
    for method, operation in operations.items()
    for mode in ("positive", "negative")
    if mode == "positive" or _has_inputs(operation)
)
MAX_EXAMPLES = 50
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="session")
def fuzz_target(backend):
    schema = schemathesis.openapi.from_url(f"{backend.url}/openapi.json")
    # The tokens are ours to send (valid ones, so generated data gets past
    # authentication); authentication failures have tests of their own.
    schema.config.generation.update(with_security_parameters=False)
    # A generated body over BACKEND_MAX_BODY_BYTES is rightly refused with 413.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    person = backend.person("issued_inactive", "active", "ready_for_pickup")
    token = backend.verify(person)
    return schema, {**backend.auth, "X-Verification-Token": token}, sorted(person.cards.values())


@pytest.mark.parametrize("operation_id,method,path,mode_name", CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_fuzz_operation(backend, fuzz_target, operation_id, method, path, mode_name):
    mode = GenerationMode.POSITIVE if mode_name == "positive" else GenerationMode.NEGATIVE
    schema, headers, card_ids = fuzz_target
    operation = schema.find_operation_by_id(operation_id)
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case, data):
        if mode is GenerationMode.POSITIVE and "card_id" in (case.path_parameters or {}) and data.draw(st.booleans()):
            # Half the time one of the holder's real cards, so that generated
            # bodies reach activation and loss reports (200/201/409 responses).
            case.path_parameters["card_id"] = data.draw(st.sampled_from(card_ids))
        response = case.call(base_url=backend.url, headers=headers, timeout=30)
        case.validate_response(response, checks=checks)

    run()
