"""Who has a request open in the agent console right now, and live notices to those pages.

The workspace page of a request holds a WebSocket (`tickets.consumers`). Two
pieces of state back it:

- the channel-layer group `ticket_group(ticket_id)`: every open workspace
  socket of the request, so one `group_send` reaches them all;
- a small registry in the cache, one key per request: channel name → who is
  behind it (user id, display name, last heartbeat, typing until). A channel
  layer can deliver to a group but cannot list it, and "who else is here" is
  exactly that list.

A socket that closes normally leaves at once (`leave`). One that dies without
a close (a crashed server, a laptop lid shut) stops sending its heartbeat and
drops out `PRESENCE_TTL` seconds later: expired entries are pruned whenever
the registry is read, and a prune is broadcast like a leave.

Updating the registry is a read-modify-write of one cache key, not atomic:
two agents opening the same request in the same instant can lose one entry.
The lost page writes itself back with its next heartbeat (every
`HEARTBEAT_SECONDS`), which is good enough for a hint ("also viewing") that
never decides anything.

Group events (names per Channels: "presence.update" → `presence_update`):

- ``{"type": "presence.update", "viewers": [{"user_id", "name", "typing"}]}``
- ``{"type": "ticket.changed", "version", "actor_id", "name", "kind"}``

Sockets never see user ids: `presence_message` and `changed_message` turn a
group event into what one agent's page is told.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import transaction

from accounts.models import User
from tickets.models import Ticket

logger = logging.getLogger(__name__)

# A page that has not said "viewing" for this long counts as gone.
PRESENCE_TTL = 45
# How often an open page says "viewing" (tickets-console.js reads it from the page).
HEARTBEAT_SECONDS = 15
# How long one "typing" lasts; the page repeats it while the agent keeps typing.
TYPING_SECONDS = 6
# A "typing" repeated sooner than this after the last broadcast one is not re-broadcast.
TYPING_REBROADCAST_SECONDS = 2

CHANGE_KIND_UPDATE = "update"  # the request row changed (its version moved)
CHANGE_KIND_MESSAGE = "message"  # a reply or an internal note (notes keep the version)


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str
    typing: bool


def ticket_group(ticket_id: int) -> str:
    """The channel-layer group of every open workspace of one request."""
    return f"tickets.ticket.{ticket_id}"


def _key(ticket_id: int) -> str:
    return f"tickets:presence:{ticket_id}"


def _load(ticket_id: int, now: float) -> tuple[dict[str, dict[str, Any]], bool]:
    """The live entries of a request, and whether expired ones were dropped."""
    entries: dict[str, dict[str, Any]] = cache.get(_key(ticket_id)) or {}
    live = {
        channel: entry for channel, entry in entries.items() if entry["seen"] > now - PRESENCE_TTL
    }
    return live, len(live) != len(entries)


def _save(ticket_id: int, entries: dict[str, dict[str, Any]]) -> None:
    if entries:
        # Outlives the entries it holds; an abandoned registry disappears by itself.
        cache.set(_key(ticket_id), entries, timeout=PRESENCE_TTL * 2)
    else:
        cache.delete(_key(ticket_id))


def _entry(user: User, now: float) -> dict[str, Any]:
    return {"user_id": user.pk, "name": user.get_short_name(), "seen": now, "typing_until": 0.0}


def _viewers(entries: dict[str, dict[str, Any]], now: float) -> list[Viewer]:
    """One viewer per agent (several tabs count once; typing in any of them counts)."""
    by_user: dict[int, Viewer] = {}
    for entry in entries.values():
        typing = entry["typing_until"] > now
        known = by_user.get(entry["user_id"])
        by_user[entry["user_id"]] = Viewer(
            user_id=entry["user_id"],
            name=entry["name"],
            typing=typing or (known is not None and known.typing),
        )
    return sorted(by_user.values(), key=lambda viewer: (viewer.name, viewer.user_id))


def _broadcast(ticket_id: int, entries: dict[str, dict[str, Any]], now: float) -> None:
    viewers = [
        {"user_id": viewer.user_id, "name": viewer.name, "typing": viewer.typing}
        for viewer in _viewers(entries, now)
    ]
    async_to_sync(get_channel_layer().group_send)(
        ticket_group(ticket_id), {"type": "presence.update", "viewers": viewers}
    )


def viewers(ticket_id: int, *, now: float | None = None) -> list[Viewer]:
    """Everyone with the request open now (including, if so, the asking agent)."""
    now = time.time() if now is None else now
    entries, _pruned = _load(ticket_id, now)
    return _viewers(entries, now)


def join(ticket_id: int, *, channel_name: str, user: User, now: float | None = None) -> None:
    """Record that `user` opened the request on `channel_name` and tell the others.

    The caller adds the channel to `ticket_group` first, so the joining page
    hears the broadcast too and learns who was already there.
    """
    now = time.time() if now is None else now
    entries, _pruned = _load(ticket_id, now)
    entries[channel_name] = _entry(user, now)
    _save(ticket_id, entries)
    _broadcast(ticket_id, entries, now)


def heartbeat(ticket_id: int, *, channel_name: str, user: User, now: float | None = None) -> None:
    """Keep `channel_name` present; broadcast only when somebody came back or timed out."""
    now = time.time() if now is None else now
    entries, pruned = _load(ticket_id, now)
    entry = entries.get(channel_name)
    if entry is None:  # lost to a concurrent write, or expired while the page slept
        entries[channel_name] = _entry(user, now)
    else:
        entry["seen"] = now
    _save(ticket_id, entries)
    if entry is None or pruned:
        _broadcast(ticket_id, entries, now)


def typing(ticket_id: int, *, channel_name: str, user: User, now: float | None = None) -> None:
    """Mark `user` as typing a reply for `TYPING_SECONDS`; broadcast at most every few seconds."""
    now = time.time() if now is None else now
    entries, pruned = _load(ticket_id, now)
    entry = entries.setdefault(channel_name, _entry(user, now))
    entry["seen"] = now
    entry["typing_until"] = now + TYPING_SECONDS
    announce = pruned or now - entry.get("typing_told_at", 0.0) >= TYPING_REBROADCAST_SECONDS
    if announce:
        entry["typing_told_at"] = now
    _save(ticket_id, entries)
    if announce:
        _broadcast(ticket_id, entries, now)


def leave(ticket_id: int, *, channel_name: str, now: float | None = None) -> None:
    """Forget `channel_name` (its socket closed) and tell the others."""
    now = time.time() if now is None else now
    entries, _pruned = _load(ticket_id, now)
    entries.pop(channel_name, None)
    _save(ticket_id, entries)
    _broadcast(ticket_id, entries, now)


def presence_message(event: dict[str, Any], *, user_id: int) -> dict[str, Any]:
    """What one agent's page is told about a "presence.update": the others, by name."""
    return {
        "type": "presence",
        "viewers": [
            {"name": viewer["name"], "typing": viewer["typing"]}
            for viewer in event["viewers"]
            if viewer["user_id"] != user_id
        ],
        "typing_seconds": TYPING_SECONDS,
    }


def changed_message(event: dict[str, Any], *, user_id: int) -> dict[str, Any] | None:
    """What one agent's page is told about a "ticket.changed"; None for their own change."""
    if event["actor_id"] == user_id:
        return None
    return {
        "type": "changed",
        "version": event["version"],
        "kind": event["kind"],
        "by": event["name"],
    }


def ticket_changed(
    ticket: Ticket,
    *,
    actor: User | None,
    kind: str = CHANGE_KIND_UPDATE,
    version: int | None = None,
) -> None:
    """Tell the request's other open workspaces that it changed, once the transaction commits.

    `actor` None is the system (a scheduled job). Never raises: the change is
    saved whatever happens to the notice, so a channel-layer outage (Redis
    down) costs the banner, not the save.
    """
    event = {
        "type": "ticket.changed",
        "version": ticket.version if version is None else version,
        "actor_id": actor.pk if actor is not None else None,
        "name": actor.get_short_name() if actor is not None else "",
        "kind": kind,
    }
    group = ticket_group(ticket.pk)
    transaction.on_commit(lambda: _send_quietly(group, event))


def _send_quietly(group: str, event: dict[str, Any]) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:  # noqa: BLE001 - any failure of the layer only loses a hint
        logger.warning("Could not tell %s about a change", group, exc_info=True)
