import pytest
from django.contrib.auth.models import Group

from accounts import services
from accounts.caching import new_auth_version
from accounts.models import Presence
from accounts.roles import Role
from tests.accounts.factories import UserFactory
from tests.helpcenter.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_every_role_has_a_group_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Customers",
        "Agents",
        "Supervisors",
        "Admins",
    }


def test_only_agents_and_above_may_use_the_console(customer, agent, supervisor, portal_admin):
    assert not customer.has_perm("accounts.access_agent_console")
    for user in (agent, supervisor, portal_admin):
        assert user.has_perm("accounts.access_agent_console")
    assert supervisor.has_perm("accounts.supervise_agents")
    assert not agent.has_perm("accounts.supervise_agents")


def test_changing_role_replaces_the_group_and_staff_access(customer):
    services.user_set_role(user=customer, role=Role.SUPERVISOR)
    assert customer.role is Role.SUPERVISOR
    assert customer.is_staff
    assert customer.has_perm("accounts.access_agent_console")
    assert list(customer.groups.values_list("name", flat=True)) == ["Supervisors"]

    services.user_set_role(user=customer, role=Role.CUSTOMER)
    assert customer.role is Role.CUSTOMER
    assert not customer.is_staff
    assert not customer.has_perm("accounts.access_agent_console")


def test_roles_sync_is_idempotent_and_restores_drifted_groups():
    agents = Group.objects.get(name="Agents")
    agents.permissions.clear()
    services.roles_sync()
    services.roles_sync()
    assert agents.permissions.filter(codename="access_agent_console").exists()


def test_agent_profile_records_languages_skills_capacity_and_presence(agent):
    withdrawal = CategoryFactory(slug="withdrawal")
    profile = services.agent_profile_update(
        profile=agent.agent_profile,
        languages=["zh-hans", "en", "en"],
        skill_ids=[withdrawal.pk],
        max_concurrent_chats=5,
    )
    services.agent_set_presence(profile=profile, presence=Presence.AWAY)
    profile.refresh_from_db()
    assert profile.languages == ["zh-hans", "en"]
    assert list(profile.skills.all()) == [withdrawal]
    assert profile.max_concurrent_chats == 5
    assert profile.presence == Presence.AWAY


def test_agent_profile_refuses_unknown_languages(agent):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Choose languages"):
        services.agent_profile_update(profile=agent.agent_profile, languages=["fr"])


def test_user_register_makes_an_unverified_customer(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        user = services.user_register(email="a@example.com", password="x" * 12)
    assert not user.is_email_verified
    assert user.role is Role.CUSTOMER
    # One email; the other callbacks tell cached permissions about the new account.
    assert len([callback for callback in callbacks if callback is not new_auth_version]) == 1


def test_verifying_twice_reports_the_first_time_only():
    user = UserFactory(unverified=True)
    assert services.user_verify_email(user=user) is True
    assert services.user_verify_email(user=user) is False
