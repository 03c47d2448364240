"""The staff page: FastAPI with server-rendered templates; every action works without JavaScript."""

from __future__ import annotations

from monitor.web.factory import create_app

__all__ = ["create_app"]
