"""The four roles of the portal and the permissions each one carries.

Roles are Django groups, kept in step with this table after every migrate
(`accounts.apps`). Object-level rules ("this agent may see this ticket") live
in each app's `permissions.py`; the groups carry only coarse gates.
"""

from __future__ import annotations

import enum

from django.utils.translation import gettext_lazy as _


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @classmethod
    def ordered(cls) -> list[Role]:
        """Roles from least to most privileged."""
        return [cls.CUSTOMER, cls.AGENT, cls.SUPERVISOR, cls.ADMIN]

    @property
    def group_name(self) -> str:
        return self.value.capitalize() + "s"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def is_staff(self) -> bool:
        """Whether the role may sign in to the Django admin."""
        return self in {Role.SUPERVISOR, Role.ADMIN}


ROLE_LABELS = {
    Role.CUSTOMER: _("Customer"),
    Role.AGENT: _("Agent"),
    Role.SUPERVISOR: _("Supervisor"),
    Role.ADMIN: _("Administrator"),
}

# "app_label.codename" per role; each role also has everything below it except
# the customer set. Apps add their own permissions here as they land.
_AGENT_PERMISSIONS = {
    "accounts.access_agent_console",
    "accounts.view_user",
    "accounts.view_agentprofile",
    "helpcenter.view_category",
    # The agent inbox; which requests an agent may see is decided per request
    # by tickets.permissions (their teams, the triage queue, their own).
    "tickets.work_tickets",
    "tickets.view_ticket",
    "tickets.view_ticketcategory",
    "tickets.view_team",
    "tickets.view_macro",
}
_SUPERVISOR_PERMISSIONS = _AGENT_PERMISSIONS | {
    "accounts.supervise_agents",
    "accounts.change_agentprofile",
    "helpcenter.add_category",
    "helpcenter.change_category",
    "helpcenter.edit_helpcenter",
    # Every request, whatever its team; who is in which team; canned replies.
    "tickets.supervise_tickets",
    "tickets.change_team",
    "tickets.view_teammembership",
    "tickets.add_teammembership",
    "tickets.change_teammembership",
    "tickets.delete_teammembership",
    "tickets.add_macro",
    "tickets.change_macro",
    "tickets.delete_macro",
    # What was emailed (and "Retry now"), what was received, and the SLA rules.
    "tickets.view_notification",
    "tickets.change_notification",
    "tickets.view_inboundemail",
    "tickets.view_slapolicy",
    "tickets.view_slacalendar",
    "tickets.view_slaholiday",
}

ROLE_PERMISSIONS: dict[Role, set[str] | None] = {
    Role.CUSTOMER: set(),
    Role.AGENT: _AGENT_PERMISSIONS,
    Role.SUPERVISOR: _SUPERVISOR_PERMISSIONS,
    # None means every permission that exists (request categories and their
    # fields included: they shape what every customer is asked).
    Role.ADMIN: None,
}


# Groups that add a capability to a role instead of replacing it; agents who
# write help-center articles are put in this one by an administrator.
EXTRA_GROUPS: dict[str, set[str]] = {
    "Help-center editors": {"helpcenter.edit_helpcenter", "helpcenter.view_category"},
}
