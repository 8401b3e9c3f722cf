"""The served OpenAPI document: valid 3.1, no sign-in needed, and every route of the app in it."""

from __future__ import annotations

from chalice.test import Client
from openapi_spec_validator import validate

from chalicelib.domain.access import Role


def test_the_document_is_served_without_sign_in_and_is_valid(api: Client) -> None:
    response = api.http.get("/openapi.json", headers={"Authorization": ""})
    assert response.status_code == 200
    document = response.json_body
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_route_is_in_the_document_with_its_access() -> None:
    from app import app
    from chalicelib.api.openapi import document

    paths = document(app)["paths"]
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            operation = paths[path][method.lower()]
            access = entry.view_function.access
            assert operation["x-kraken-access"] == (access.name.lower() if isinstance(access, Role) else access)
            if access != "public":
                assert {"401", "500", "503"} <= set(operation["responses"]), (path, method)


def test_bodies_and_answers_name_their_schemas() -> None:
    from app import app
    from chalicelib.api.openapi import document

    doc = document(app)
    create = doc["paths"]["/models"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CreateModelRequest"
    }
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/ModelResponse")
    model = doc["components"]["schemas"]["ModelResponse"]
    assert {"id", "status", "containerPort", "predictTimeoutSeconds"} <= set(model["required"])
    listing = {p["name"]: p for p in doc["paths"]["/models"]["get"]["parameters"]}
    assert {"limit", "search", "status", "nextToken"} <= set(listing)
    assert doc["paths"]["/models/{model_id}"]["delete"]["responses"]["204"] == {"description": "Done; no body"}
