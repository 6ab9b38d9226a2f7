"""The app built from the environment, for process managers and `coursepipeline serve --workers N`."""

from starlette.applications import Starlette

from app.collector import tune_for_serving
from app.main import create_app
from app.settings import Settings


def build() -> Starlette:
    app = create_app(Settings.from_env())
    tune_for_serving()
    return app
