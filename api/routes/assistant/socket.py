"""`/ws` (seed 002's WebSocket): hands the socket to api/logic/assistant/socket.py, where its
protocol (the `auth` message first, then `chat` and `approval`) is described."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from api.logic.assistant import socket as logic

router = APIRouter(tags=["assistant"])


@router.websocket("/ws")
async def assistant_socket(websocket: WebSocket) -> None:
    await logic.serve(websocket, websocket.app.state.platform)
