"""The WebSocket API at `/api/websocket`, message for message as Home Assistant's."""

__all__: list[str] = []
