"""Reads about accounts that are more than one queryset call."""

from __future__ import annotations

from accounts.models import AgentProfile, User


def agent_profile_for(user: User) -> AgentProfile | None:
    """Return the user's agent profile, or None for customers."""
    return AgentProfile.objects.filter(user=user).prefetch_related("skills").first()
