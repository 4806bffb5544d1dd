"""Web dashboard: a read-only FastAPI app over the results store."""

from fabnet.web.app import create_app

__all__ = ["create_app"]
