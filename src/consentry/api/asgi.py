"""The ASGI application for ``uvicorn consentry.api.asgi:app`` (settings from the environment)."""

from __future__ import annotations

from consentry.api.app import create_app
from consentry.services.hub import Hub
from consentry.settings import Settings

app = create_app(Hub.open(Settings()))
