"""marshmallow 4 schemas: request validation, response shape and the OpenAPI document."""
