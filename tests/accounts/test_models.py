import re

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User, generate_uid
from accounts.roles import Role
from tests.accounts.factories import UserFactory


def test_uid_is_nine_random_digits():
    uids = {generate_uid() for _ in range(200)}
    assert all(re.fullmatch(r"[1-9]\d{8}", uid) for uid in uids)
    assert len(uids) > 190


@pytest.mark.django_db
def test_consecutive_accounts_get_unrelated_uids():
    first, second = UserFactory(), UserFactory()
    assert first.uid != second.uid
    assert abs(int(first.uid) - int(second.uid)) != 1


@pytest.mark.django_db
def test_email_is_stored_lower_case_and_sign_in_ignores_case():
    user = User.objects.create_user(email="Li.Wei@Example.COM", password="x" * 12)
    assert user.email == "li.wei@example.com"
    assert User.objects.get_by_natural_key("LI.WEI@example.com") == user


@pytest.mark.django_db
def test_unknown_time_zone_is_refused():
    user = UserFactory.build(time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError, match="not a known time zone"):
        user.full_clean(exclude=["password"])


@pytest.mark.django_db
def test_markup_in_display_name_is_refused():
    user = UserFactory.build(display_name="<script>alert(1)</script>")
    with pytest.raises(ValidationError, match="cannot contain"):
        user.full_clean(exclude=["password"])


@pytest.mark.django_db
def test_role_follows_group(customer, agent, supervisor, portal_admin):
    assert customer.role is Role.CUSTOMER
    assert agent.role is Role.AGENT
    assert supervisor.role is Role.SUPERVISOR
    assert portal_admin.role is Role.ADMIN
    assert agent.is_agent and not customer.is_agent
