"""The service's OpenAPI document: valid, with the results typed by the CLI's own JSON Schema, and every error
a route can answer described with its body."""

from __future__ import annotations

import json
import typing
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI
from openapi_spec_validator import validate as validate_openapi

from tests.integrations.helpers import LOOPBACK_ONLY, finished_scan, start_scan, uvicorn_serving
from tlsprobe import DEFAULT_CHECKS, ScanConfig, json_schema
from tlsprobe.integrations._fastapi._models import MozillaProfile
from tlsprobe.integrations.fastapi import create_scan_router
from tlsprobe.policy import MOZILLA_PROFILES
from tlsprobe.testing import LocalTLSServer

CHECKS = ["tls1_2_cipher_suites", "certificate"]


def document_of(app: FastAPI) -> dict[str, Any]:
    document: dict[str, Any] = app.openapi()
    return document


def service_app(**options: Any) -> FastAPI:
    app = FastAPI(title="scans")
    app.include_router(create_scan_router(ScanConfig(), policy=LOOPBACK_ONLY, **options), prefix="/tls")
    return app


def resolve(document: dict[str, Any], reference: str) -> dict[str, Any]:
    assert reference.startswith("#/components/schemas/"), reference
    schema: dict[str, Any] = document["components"]["schemas"][reference.removeprefix("#/components/schemas/")]
    return schema


def schema_validator(document: dict[str, Any], reference: str) -> jsonschema.Draft202012Validator:
    """A validator of ``reference`` whose ``$ref``s resolve inside the OpenAPI document, as a client's would."""
    return jsonschema.Draft202012Validator({"$ref": reference, "components": document["components"]})


@pytest.mark.slow  # the specification validator takes about half a second
def test_the_document_is_valid_openapi() -> None:
    document = document_of(service_app())
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")


def test_the_results_are_the_clis_server_objects_not_any_object() -> None:
    document = document_of(service_app())
    view = document["paths"]["/tls/scans/{scan_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    view_schema = resolve(document, view["schema"]["$ref"])
    items = view_schema["properties"]["results"]["items"]
    assert items == {"$ref": "#/components/schemas/ServerScanResult"}

    # The same schema as `tlsprobe --json-schema`, with its references moved into the document's components.
    cli = json_schema(check.result_type for check in DEFAULT_CHECKS)["$defs"]
    del cli["InvalidTargetLine"]  # a line of a targets file: part of the CLI's document, not of a server's result
    components = document["components"]["schemas"]
    for name, definition in cli.items():
        assert components[name] == json.loads(json.dumps(definition).replace("#/$defs/", "#/components/schemas/"))
    assert "#/$defs/" not in json.dumps(document)  # every reference rewritten: none points outside the document


def test_the_offered_checks_decide_which_results_a_check_may_carry() -> None:
    only_suites = [check for check in DEFAULT_CHECKS if check.name == "tls1_2_cipher_suites"]
    document = document_of(service_app(checks=only_suites))
    completed = document["components"]["schemas"]["CheckCompleted"]["properties"]["result"]
    assert completed == {"anyOf": [{"$ref": "#/components/schemas/CipherSuitesResult"}]}
    assert "CertificateResult" not in document["components"]["schemas"]


@pytest.mark.slow  # the specification validator takes about half a second
def test_two_routers_with_different_checks_keep_their_own_schemas() -> None:
    app = FastAPI()
    suites_only = [check for check in DEFAULT_CHECKS if check.name == "tls1_2_cipher_suites"]
    app.include_router(create_scan_router(ScanConfig(), checks=suites_only), prefix="/suites")
    app.include_router(create_scan_router(ScanConfig()), prefix="/all")
    document = document_of(app)
    validate_openapi(document)

    def result_kinds(prefix: str) -> int:
        view = document["paths"][f"{prefix}/scans/{{scan_id}}"]["get"]["responses"]["200"]["content"]
        server = resolve(
            document,
            resolve(document, view["application/json"]["schema"]["$ref"])["properties"]["results"]["items"]["$ref"],
        )
        check = server["properties"]["checks"]["items"]["anyOf"][0]["$ref"]
        return len(resolve(document, check)["properties"]["result"]["anyOf"])

    assert result_kinds("/suites") == 1
    assert result_kinds("/all") == len({check.result_type for check in DEFAULT_CHECKS})


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/tls/scans", "post", {"202", "403", "422", "429", "503"}),
        ("/tls/scans", "get", {"200", "422", "503"}),
        ("/tls/scans/{scan_id}", "get", {"200", "404", "422", "503"}),
        ("/tls/scans/{scan_id}", "delete", {"204", "404", "422", "503"}),
        ("/tls/scans/{scan_id}/stream", "get", {"200", "404", "422", "503"}),
        ("/tls/checks", "get", {"200"}),
        ("/tls/policies", "get", {"200"}),
    ],
)
def test_every_error_a_route_answers_is_documented_with_its_body(path: str, method: str, statuses: set[str]) -> None:
    document = document_of(service_app())
    responses = document["paths"][path][method]["responses"]
    assert set(responses) == statuses
    for status in statuses & {"403", "404", "429", "503"}:
        schema = resolve(document, responses[status]["content"]["application/json"]["schema"]["$ref"])
        assert "detail" in schema["required"], (status, schema)
        assert responses[status]["description"]


def test_the_ndjson_stream_and_its_end_line_are_documented() -> None:
    document = document_of(service_app())
    stream = document["paths"]["/tls/scans/{scan_id}/stream"]["get"]["responses"]["200"]
    assert '"event": "end"' in stream["description"]
    assert set(stream["content"]) == {"application/x-ndjson", "text/event-stream"}


@pytest.mark.realserver
def test_a_real_scan_validates_against_the_schema_in_the_served_document(tls_server: LocalTLSServer) -> None:
    with uvicorn_serving(service_app()) as url, httpx.Client(base_url=url, timeout=10) as client:
        document = client.get("/openapi.json").json()
        scan = finished_scan(client, start_scan(client, [f"localhost:{tls_server.port}"], CHECKS)["id"])
        errors = client.get(f"/tls/scans/{'x' * 22}").json()
    view = document["paths"]["/tls/scans/{scan_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    schema_validator(document, view["schema"]["$ref"]).validate(scan)
    [server] = scan["results"]
    schema_validator(document, "#/components/schemas/ServerScanResult").validate(server)
    assert server["checks"][1]["result"]["deployments"], "the certificate check's result is the one validated"
    with pytest.raises(jsonschema.ValidationError):  # the schema is strict: it would catch a renamed field
        schema_validator(document, "#/components/schemas/ServerScanResult").validate({**server, "grade_": None})
    not_found = document["paths"]["/tls/scans/{scan_id}"]["get"]["responses"]["404"]["content"]["application/json"]
    schema_validator(document, not_found["schema"]["$ref"]).validate(errors)


def test_the_mozilla_profiles_a_request_may_name_are_the_built_in_ones() -> None:
    assert typing.get_args(MozillaProfile) == MOZILLA_PROFILES
