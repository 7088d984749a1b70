"""Validating JSON against the schemas of the edge's OpenAPI document (JSON Schema 2020-12)."""

from __future__ import annotations

from typing import Any

import jsonschema


def validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator of `schema`, whose $refs ("#/components/schemas/...") resolve in `document`."""
    rooted = {**schema, "components": document["components"]}
    return jsonschema.Draft202012Validator(
        rooted, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def response_schema(document: dict[str, Any], path: str, method: str, status: str = "200") -> dict[str, Any]:
    schema: dict[str, Any] = document["paths"][path][method]["responses"][status]["content"][
        "application/json"
    ]["schema"]
    return schema


def errors(document: dict[str, Any], schema: dict[str, Any], instance: object) -> list[str]:
    """Every way `instance` breaks `schema`, one line each (empty when it fits)."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator(document, schema).iter_errors(instance)
    ]
