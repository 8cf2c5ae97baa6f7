"""The schemas as the OpenAPI document states them, where apispec alone would promise more.

Two places where apispec's OpenAPI 3.0 output admits requests the server
refuses (found by fuzzing the live server with schemathesis):

- A nested object that may be null: apispec writes
  `anyOf: [{type: object, nullable: true}, {$ref}]`, whose first branch
  admits any object at all (`"cocktail": {}`), and client generators make a
  model of "any object" out of it. Here the second branch admits null only:
  `anyOf: [{$ref}, {type: object, nullable: true, enum: [null]}]` (the form
  that strict OpenAPI 3.0 validators read as "that object, or null").
- A PATCH body (`PatchSchema`) must change at least one field: `minProperties: 1`.
- Text sent to the server may not hold a NUL character (`StrictSchema`
  refuses it: PostgreSQL cannot store one), so every free-text field of an
  input schema carries the pattern `NO_NUL`.

And a schema may name its component (`Meta.component_name`) where its class
name would clash with a name client generators derive from the document.
"""

from __future__ import annotations

from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter, resolver
from apispec.ext.marshmallow.common import resolve_schema_cls, resolve_schema_instance
from marshmallow import fields

from schemas.common import PatchSchema, StrictSchema, validate_not_blank

_ANY_OBJECT_OR_NULL = {"type": "object", "nullable": True}
NULL_ONLY = {**_ANY_OBJECT_OR_NULL, "enum": [None]}
NO_NUL = "^[^\\u0000]*$"
# What `validate_not_blank` checks: some character that is neither white space nor NUL.
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


class DocumentConverter(OpenAPIConverter):
    def field2property(self, field) -> dict:
        ret = super().field2property(field)
        if isinstance(field, fields.String) and validate_not_blank in field.validators:
            ret["pattern"] = NOT_BLANK
        elif isinstance(field, fields.String) and isinstance(field.root, StrictSchema) \
                and not {"pattern", "enum", "format"} & ret.keys():
            ret["pattern"] = NO_NUL
        return ret

    def field2nullable(self, field, ret) -> dict:
        attributes = super().field2nullable(field, ret)
        choices = attributes.get("anyOf", [])
        if _ANY_OBJECT_OR_NULL in choices:
            attributes["anyOf"] = [*(c for c in choices if c != _ANY_OBJECT_OR_NULL), NULL_ONLY]
        return attributes

    def schema2jsonschema(self, schema) -> dict:
        jsonschema = super().schema2jsonschema(schema)
        if isinstance(resolve_schema_instance(schema), PatchSchema):
            jsonschema["minProperties"] = 1
        return jsonschema


def component_name(schema) -> str:
    """`Meta.component_name` if the schema gives one, else apispec's (the class name
    without `Schema`)."""
    meta = getattr(resolve_schema_cls(schema), "Meta", None)
    return getattr(meta, "component_name", None) or resolver(schema)


class DocumentPlugin(MarshmallowPlugin):
    """flask-smorest's marshmallow plugin, writing schemas with `DocumentConverter`."""

    Converter = DocumentConverter

    def __init__(self) -> None:
        super().__init__(schema_name_resolver=component_name)
