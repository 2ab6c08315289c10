"""Agents reach their console from the account menu; customers are kept out of it."""

import re

from playwright.sync_api import Page, expect

from accounts.models import AgentProfile, Presence
from accounts.roles import Role
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.helpers import open_account_menu, sign_in


def test_agent_opens_the_console_and_goes_online(page: Page):
    agent = UserFactory(email="agent@example.com", display_name="Wang Fang", role=Role.AGENT)

    page.goto("/en/accounts/login/")
    sign_in(page, agent.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("How can we help you?")

    open_account_menu(page, "Wang Fang")
    page.get_by_role("link", name="Agent console").click()
    expect(page).to_have_url(re.compile(r"/en/console/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Wang Fang")
    presence = page.get_by_label("Presence")
    expect(presence).to_have_value("offline")
    expect(page.get_by_test_id("presence")).to_have_text("Offline")

    presence.select_option(label="Online")  # the select submits itself

    expect(page.get_by_role("status")).to_contain_text("Online")
    expect(page.get_by_test_id("presence")).to_have_text("Online")
    expect(page.get_by_label("Presence")).to_have_value("online")
    assert AgentProfile.objects.get(user=agent).presence == Presence.ONLINE

    page.reload()
    expect(page.get_by_label("Presence")).to_have_value("online")


def test_customer_typing_the_console_address_is_not_allowed(page: Page):
    customer = UserFactory(email="customer@example.com", display_name="Li Wei")

    page.goto("/en/accounts/login/")
    sign_in(page, customer.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("How can we help you?")
    open_account_menu(page, "Li Wei")
    expect(page.get_by_role("link", name="Agent console")).to_have_count(0)

    response = page.goto("/en/console/")

    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_role("main")).to_contain_text("Your account cannot open this page.")
    expect(page.get_by_label("Presence")).to_have_count(0)
