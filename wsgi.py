"""gunicorn entry point: `gunicorn wsgi:app`."""
from factory import create_app

app = create_app()
