"""Fixed-window rate limits for the account forms that send email or create rows.

Counters live in the shared cache, so every web process sees the same count.
Sign-in itself is protected by django-axes (see settings AXES_*).
"""

from __future__ import annotations

import hashlib
import time

from axes.helpers import get_client_ip_address
from django.core.cache import cache
from django.http import HttpRequest

# scope: (attempts allowed, window in seconds)
LIMITS = {
    "signup-ip": (10, 60 * 60),
    "email-per-address": (1, 60),
    "email-per-ip": (20, 60 * 60),
}


def allow(scope: str, key: str) -> bool:
    """Count one attempt for `key` in `scope`; return False once the limit is passed."""
    limit, window = LIMITS[scope]
    digest = hashlib.sha256(key.lower().encode()).hexdigest()[:32]
    cache_key = f"throttle:{scope}:{digest}:{int(time.time() // window)}"
    if cache.add(cache_key, 1, timeout=window):
        return True
    try:
        return cache.incr(cache_key) <= limit
    except ValueError:
        # The window expired between add() and incr(): this is a new window.
        cache.add(cache_key, 1, timeout=window)
        return True


def client_ip(request: HttpRequest) -> str:
    return get_client_ip_address(request) or "unknown"
