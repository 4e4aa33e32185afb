from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .models import Role

# Each role's starting screen, in order of precedence for officers holding several roles.
STARTING_SCREENS: list[tuple[str, str]] = [
    (Role.DESK_SERGEANT, "referrals:desk"),
    (Role.SUPERVISOR, "supervision:home"),
    (Role.INVESTIGATOR, "referrals:list"),
    (Role.PCLO, "conferences:diary"),
    (Role.RESEARCHER, "referrals:search"),
    (Role.PERFORMANCE, "supervision:performance"),
    (Role.AUDITOR, "audit:search"),
    (Role.ADMINISTRATOR, "admin:index"),
]
# Which list view a role lands on, where its starting screen is the referral list.
STARTING_FILTERS = {Role.INVESTIGATOR: "mine"}


def home(request: HttpRequest) -> HttpResponse:
    """Send each officer to the screen their role starts from."""
    user = request.user
    for role, url_name in STARTING_SCREENS:
        if user.has_role(role):
            url = reverse(url_name)
            if role in STARTING_FILTERS:
                url += f"?show={STARTING_FILTERS[role]}"
            return redirect(url)
    if user.is_superuser:
        return redirect("admin:index")
    return redirect("referrals:search")
