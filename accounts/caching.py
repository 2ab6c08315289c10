"""A version stamp for what is worked out from users, groups and permissions, and
a cache of each user's permissions built on it.

Cached values of that kind (the list of agents, a user's permission set) put
`auth_version()` in their key. Saving or deleting a user, a group or a
permission, and changing who is in which group or holds which permission,
stamps a new version (signals, `accounts.apps`), so each process sharing the
cache misses every such entry at once and reads the database again.

Changes that send no signal (`QuerySet.update()`, raw SQL, `bulk_create` of
memberships) are not seen: entries expire after `ENTRY_SECONDS` anyway.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from accounts.models import User

VERSION_KEY = "accounts:auth-version"
ENTRY_SECONDS = 5 * 60

# The user columns such values read: activity and superuser status decide
# permissions, the names are shown in lists of agents.
_USER_FIELDS = frozenset({"is_active", "is_superuser", "display_name", "email"})


def auth_version() -> str:
    """The current stamp (a new one if the cache lost it, which only costs a reload)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def new_auth_version() -> None:
    """Stamp a new version: every entry built on the old one is missed from now on."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def load_cached_permissions(user) -> None:
    """Give `user` their permission sets from the cache, else from the database (and cache them).

    Sets what `ModelBackend` keeps on the user object for the rest of the request
    (the attributes `services.user_set_role` forgets), so `has_perm()` reads no
    tables: two queries a page otherwise. Anonymous and inactive users have no
    permissions to load.
    """
    if not user.is_authenticated or not user.is_active or hasattr(user, "_perm_cache"):
        return
    key = f"accounts:permissions:{auth_version()}:{user.pk}"
    cached = cache.get(key)
    if cached is None:
        ModelBackend().get_all_permissions(user)
        cache.set(key, (user._user_perm_cache, user._group_perm_cache), ENTRY_SECONDS)
    else:
        user._user_perm_cache, user._group_perm_cache = cached
        user._perm_cache = {*user._user_perm_cache, *user._group_perm_cache}


def _changed() -> None:
    new_auth_version()
    # Again once the change is visible to others: a request that read the old rows
    # before the commit may have cached them under the stamp set just now.
    transaction.on_commit(new_auth_version)


def _user_saved(sender, instance: User, created: bool, update_fields=None, **kwargs) -> None:
    if created or update_fields is None or _USER_FIELDS & set(update_fields):
        _changed()


def _row_changed(sender, **kwargs) -> None:
    _changed()


def _memberships_changed(sender, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        _changed()


def connect_signals() -> None:
    """Stamp a new version on every change that can alter a user's permissions or name."""
    post_save.connect(_user_saved, sender=User, dispatch_uid="accounts.caching.saved.User")
    for model in (Group, Permission):
        post_save.connect(
            _row_changed, sender=model, dispatch_uid=f"accounts.caching.saved.{model.__name__}"
        )
    for model in (User, Group, Permission):
        post_delete.connect(
            _row_changed, sender=model, dispatch_uid=f"accounts.caching.deleted.{model.__name__}"
        )
    for through in (
        User.groups.through,
        User.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            _memberships_changed,
            sender=through,
            dispatch_uid=f"accounts.caching.m2m.{through._meta.label}",
        )
