"""The app as the benchmark serves it: the same factory `coursepipeline serve --workers` uses."""

from app.asgi import build as app_factory

__all__ = ["app_factory"]
