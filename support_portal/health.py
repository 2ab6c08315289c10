"""Component checks behind `GET /healthz`.

Each check returns a `ComponentState`; a check never raises, so one broken
component cannot hide the state of the others. Checks are cheap enough for a
load balancer to call every few seconds.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "health:celery-heartbeat"
CHANNEL_LAYER_TIMEOUT = 2.0


@dataclass
class ComponentState:
    up: bool
    detail: dict[str, Any] = field(default_factory=dict)
    # The exception's message can name hosts and paths: shown to staff only.
    exception_text: str = ""

    @classmethod
    def failed(cls, exc: Exception) -> ComponentState:
        return cls(False, {"error": type(exc).__name__}, str(exc)[:300])

    def as_dict(self, *, include_details: bool = False) -> dict[str, Any]:
        data = {"status": "up" if self.up else "down", **self.detail}
        if include_details and self.exception_text:
            data["error_detail"] = self.exception_text
        return data


def record_worker_heartbeat() -> None:
    """Store the current time as the Celery worker's latest sign of life."""
    # Kept for ten times the allowed age so /healthz can still say how stale it is.
    cache.set(
        HEARTBEAT_CACHE_KEY,
        timezone.now().timestamp(),
        timeout=settings.CELERY_HEARTBEAT_MAX_AGE * 10,
    )


def check_database() -> ComponentState:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return ComponentState.failed(exc)
    return ComponentState(True, {"vendor": connection.vendor})


def check_cache() -> ComponentState:
    key = f"health:probe:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", timeout=10)
        ok = cache.get(key) == "ok"
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001
        return ComponentState.failed(exc)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    if not ok:
        return ComponentState(False, {"backend": backend, "error": "value not read back"})
    return ComponentState(True, {"backend": backend})


def check_channel_layer() -> ComponentState:
    from channels.layers import get_channel_layer

    try:
        layer = get_channel_layer()
        if layer is None:
            return ComponentState(False, {"error": "no channel layer configured"})
        received = async_to_sync(_channel_round_trip)(layer)
    except Exception as exc:  # noqa: BLE001
        return ComponentState.failed(exc)
    backend = type(layer).__name__
    if not received:
        return ComponentState(False, {"backend": backend, "error": "message not received"})
    return ComponentState(True, {"backend": backend})


async def _channel_round_trip(layer) -> bool:
    import asyncio

    channel = await layer.new_channel("health.")
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "health.probe", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), CHANNEL_LAYER_TIMEOUT)
    return message.get("token") == token


def check_celery_worker() -> ComponentState:
    max_age = settings.CELERY_HEARTBEAT_MAX_AGE
    try:
        beat = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception as exc:  # noqa: BLE001
        return ComponentState.failed(exc)
    if beat is None:
        return ComponentState(False, {"error": "no heartbeat from the worker yet"})
    age = max(0.0, time.time() - float(beat))
    detail = {"last_heartbeat_seconds_ago": round(age, 1), "max_age_seconds": max_age}
    if age > max_age:
        return ComponentState(False, {**detail, "error": "heartbeat is stale"})
    return ComponentState(True, detail)


def check_search_index() -> ComponentState:
    try:
        from haystack import connections

        backend = connections["default"].get_backend()
        engine = settings.HAYSTACK_CONNECTIONS["default"]["ENGINE"].rsplit(".", 1)[-1]
        if hasattr(backend, "setup") and engine.endswith("WhooshEngine"):
            backend.setup()
            documents = backend.index.doc_count()
        else:
            from haystack.query import SearchQuerySet

            documents = SearchQuerySet().count()
    except Exception as exc:  # noqa: BLE001
        return ComponentState.failed(exc)
    return ComponentState(True, {"engine": engine, "documents": documents})


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
    "celery_worker": check_celery_worker,
    "search_index": check_search_index,
}


def system_health(*, include_details: bool = False) -> tuple[bool, dict[str, dict[str, Any]]]:
    """Run every component check; return (all up, state per component)."""
    states = {name: check() for name, check in CHECKS.items()}
    return all(state.up for state in states.values()), {
        name: state.as_dict(include_details=include_details) for name, state in states.items()
    }
