"""API rate limits as fixed-window counters.

DRF's default throttles keep every request's timestamp in one cached list and
rewrite the whole list on each request, which gets slower the busier a client
is. A counter per client and window costs two small cache operations.
"""

from __future__ import annotations

import time

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class FixedWindowMixin:
    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        window = int(time.time() // self.duration)
        key = f"{ident}:{window}"
        if self.cache.add(key, 1, timeout=self.duration + 1):
            return True
        try:
            count = self.cache.incr(key)
        except ValueError:  # expired between add() and incr()
            self.cache.add(key, 1, timeout=self.duration + 1)
            return True
        self._window_end = (window + 1) * self.duration
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, getattr(self, "_window_end", 0) - time.time())


class AnonThrottle(FixedWindowMixin, AnonRateThrottle):
    """Requests without a signed-in user, per client IP."""


class UserThrottle(FixedWindowMixin, UserRateThrottle):
    """Signed-in users by id; everyone else by IP."""
