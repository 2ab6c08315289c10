"""Permissions and agent lists kept in the cache: read once, then forgotten at every change
of users, groups or permissions, including one committed after a stale read."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import caching, services
from accounts.models import User
from accounts.roles import Role
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

WORK = "tickets.work_tickets"
SUPERVISE = "tickets.supervise_tickets"


def fresh(user: User) -> User:
    """The user as the next request reads them, with their permissions from the cache."""
    user = User.objects.get(pk=user.pk)
    caching.load_cached_permissions(user)
    return user


def permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_permissions_are_read_once_then_from_the_cache(agent):
    with CaptureQueriesContext(connection) as first:
        assert fresh(agent).has_perm(WORK)
    user = User.objects.get(pk=agent.pk)
    with CaptureQueriesContext(connection) as second:
        caching.load_cached_permissions(user)
        assert user.has_perm(WORK)
        assert not user.has_perm(SUPERVISE)
    assert len(first) > len(second) == 0
    assert user.get_all_permissions() == ModelBackend().get_all_permissions(
        User.objects.get(pk=agent.pk)
    )


def test_a_new_role_counts_at_once(agent):
    assert not fresh(agent).has_perm(SUPERVISE)
    services.user_set_role(user=agent, role=Role.SUPERVISOR)
    assert fresh(agent).has_perm(SUPERVISE)
    services.user_set_role(user=agent, role=Role.CUSTOMER)
    assert not fresh(agent).has_perm(WORK)


def test_a_groups_permissions_count_at_once(agent):
    agents = Group.objects.get(name=Role.AGENT.group_name)
    assert fresh(agent).has_perm(WORK)
    agents.permissions.remove(permission(WORK))
    assert not fresh(agent).has_perm(WORK)
    agents.permissions.add(permission(WORK))
    assert fresh(agent).has_perm(WORK)
    agents.permissions.clear()
    assert not fresh(agent).has_perm(WORK)


def test_a_deleted_group_takes_its_permissions_along(customer):
    group = Group.objects.create(name="Auditors")
    group.permissions.add(permission(SUPERVISE))
    customer.groups.add(group)
    assert fresh(customer).has_perm(SUPERVISE)
    group.delete()
    assert not fresh(customer).has_perm(SUPERVISE)


def test_direct_grants_superusers_and_deactivation_count_at_once(customer):
    assert not fresh(customer).has_perm(WORK)
    customer.user_permissions.add(permission(WORK))
    assert fresh(customer).has_perm(WORK)
    customer.is_superuser = True
    customer.save(update_fields=["is_superuser"])
    assert fresh(customer).has_perm(SUPERVISE)
    customer.is_active = False
    customer.save()
    assert not fresh(customer).has_perm(WORK)


def test_signing_in_and_unrelated_saves_keep_the_cache(agent):
    version = caching.auth_version()
    agent.last_login = agent.date_joined
    agent.save(update_fields=["last_login"])
    agent.preferred_language = "ja"
    agent.save(update_fields=["preferred_language"])
    assert caching.auth_version() == version
    agent.display_name = "Wang Fang"
    agent.save(update_fields=["display_name"])
    assert caching.auth_version() != version


def test_a_change_committed_after_a_stale_read_is_not_kept(
    agent, django_capture_on_commit_callbacks
):
    """Another request may read the old permissions between the change and its commit,
    and cache them under the new version: the version changes again on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        services.user_set_role(user=agent, role=Role.SUPERVISOR)
        stale = ({"tickets.work_tickets"}, set())
        cache.set(f"accounts:permissions:{caching.auth_version()}:{agent.pk}", stale)
        assert not fresh(agent).has_perm(SUPERVISE)  # what the other request would see
    assert fresh(agent).has_perm(SUPERVISE)


def test_a_lost_version_only_costs_a_reload(agent):
    assert fresh(agent).has_perm(WORK)
    cache.delete(caching.VERSION_KEY)
    with CaptureQueriesContext(connection) as queries:
        assert fresh(agent).has_perm(WORK)
    assert len(queries) > 1  # the user, then their permissions again


def test_anonymous_and_inactive_users_get_nothing_loaded():
    anonymous = AnonymousUser()
    caching.load_cached_permissions(anonymous)
    assert not anonymous.has_perm(WORK)
    inactive = UserFactory(role=Role.AGENT, is_active=False)
    with CaptureQueriesContext(connection) as queries:
        user = fresh(inactive)
    assert len(queries) == 1  # the user only
    assert not user.has_perm(WORK)
