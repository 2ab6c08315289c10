import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_admin_can_list_and_search_users(client, portal_admin, customer):
    client.force_login(portal_admin)
    page = client.get("/en/admin/accounts/user/", {"q": customer.uid})
    assert page.status_code == 200
    assert customer.email in page.content.decode()


def test_admin_creates_a_user_by_email(client, portal_admin):
    client.force_login(portal_admin)
    assert client.get("/en/admin/accounts/user/add/").status_code == 200
    response = client.post(
        "/en/admin/accounts/user/add/",
        {
            "email": "New.Agent@Example.com",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.filter(email="new.agent@example.com").exists()


def test_supervisors_reach_the_admin_but_agents_do_not(client, supervisor, agent):
    client.force_login(supervisor)
    assert client.get("/en/admin/").status_code == 200
    client.force_login(agent)
    assert client.get("/en/admin/").status_code == 302
