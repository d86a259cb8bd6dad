"""marshmallow schemas of the follow-up API (input validation and OpenAPI in one place), by subject."""
