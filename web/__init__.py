"""Server-rendered pages (Jinja) for each role, on the same services as the API."""
