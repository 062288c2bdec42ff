"""The HTTP API that speaks Home Assistant's protocols: REST, WebSocket, /metrics and the dashboard."""

from .app import make_app, serve_api

__all__ = ["make_app", "serve_api"]
