"""The app as the benchmark serves it: built from the environment, like `coursepipeline serve`."""

from starlette.applications import Starlette

from app.main import create_app
from app.settings import Settings


def app_factory() -> Starlette:
    return create_app(Settings.from_env(dotenv=None))
