"""Test settings: the same wiring as development, made fast and isolated.

The suite runs twice (see scripts/test): with the embedded defaults (SQLite,
file cache, in-process channel layer, filesystem broker) and with
`DATABASE_URL`/`REDIS_URL` pointing at a real PostgreSQL and Redis.
"""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, env, filesystem_broker_options

DEBUG = False
SECRET_KEY = "test-only-key-9f1c2e7a5b3d8e6f4a0c1b9d7e5f3a2c8b6d4e0f1a3c5e7b9d2f4a6c8e0b1d3"
# The Chromium tests reach the live server as localhost.
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

# One private folder per test run for everything the embedded defaults write.
VAR_DIR = Path(os.environ.get("TEST_VAR_DIR") or tempfile.mkdtemp(prefix="portal-test-"))
MEDIA_ROOT = VAR_DIR / "media"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
if env.str("TEST_EMAIL_URL", default=""):
    # A real worker started by a `worker` test sends to that test's SMTP sink.
    vars().update(env.email_url("TEST_EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not ":memory:": tests that start a real worker or daphne in a
    # child process must see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    # Named explicitly: a daphne child (channels.testing) prefixes "test_" to the
    # database name unless the test name is set, and by then the name already has it.
    DATABASES["default"]["TEST"] = {"NAME": "test_" + DATABASES["default"]["NAME"]}

if not REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")

# Unit tests run tasks in-process once the transaction commits
# (`delay_on_commit` still waits for the commit). Tests marked `worker` start a
# real Celery worker and beat in child processes on the real broker instead.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True

HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": "helpcenter.search.backend.PortalWhooshEngine",
        "PATH": str(VAR_DIR / "whoosh"),
        "BATCH_SIZE": 20000,
    }
}
AXES_FAILURE_LIMIT = 5
