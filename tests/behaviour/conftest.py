"""The face stages' fixtures (real MediaPipe models, astronaut-photo frames) for the behaviour tests."""

from tests.vision.conftest import detector, mesh, truth  # noqa: F401
