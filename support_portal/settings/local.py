"""Development settings: what `./scripts/run` uses on a laptop."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A fixed development key keeps sessions across restarts; production refuses it.
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="dev-only-insecure-key-4c7d0e2b9a1f6e3d8c5b2a7f0e9d4c1b6a3f8e5d2c7b0a9f",
)
# Serve static files straight from the source folders while developing.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
