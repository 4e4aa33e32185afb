"""The referral list as an export (registered with cram_site.exports): the same referrals, under the
same filter, as the list page shows, every page of them."""
from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Prefetch
from django.http import QueryDict

from cram_site.exports import ExportTable, register_export
from cram_site.models import Officer
from cram_site.rules import is_operational

from .models import CHILD_ROLES, Action, ActionStatus, PersonRole, Referral
from .querysets import ReferralQuerySet
from .views import referral_list_filtered

# Referrals read per query (with their people and open actions prefetched per batch).
CHUNK_SIZE = 500


def sees_names(user: Officer) -> bool:
    """Whether the export names the children: only for officers who work cases.

    A performance manager or an auditor (holding no other role) reads figures, not people: a file
    of children's names leaving the system is more than they need. The summary, free text, is left
    out for everyone.
    """
    return is_operational(user)


@register_export("referrals", label="The referral list")
def referral_list_export(user: Officer, query: QueryDict) -> ExportTable:
    _, title, referrals = referral_list_filtered(user, query)
    with_names = sees_names(user)
    referrals = referrals.for_list().select_related("team").prefetch_related(
        # The next due date counts open actions too, as the case page does.
        Prefetch("actions", queryset=Action.objects.filter(status=ActionStatus.OPEN).order_by(),
                 to_attr="open_actions"),
    )
    headers = ["URN", "Received", "Team", *(["Children"] if with_names else []), "Allegation", "Route", "Status",
               "Risk rating", "Intelligence gaps", "Unmanaged risks", "Investigating officer",
               "Supervising sergeant", "Next due"]
    return ExportTable(title=f"Referrals: {title.lower()}", headers=headers,
                       rows=_rows(referrals, with_names=with_names), total_rows=referrals.count())


def _rows(referrals: ReferralQuerySet, *, with_names: bool) -> Iterator[list[object]]:
    for referral in referrals.iterator(chunk_size=CHUNK_SIZE):
        names = [_children(referral)] if with_names else []
        yield [
            referral.urn, referral.received_at, referral.team.name, *names,
            referral.get_allegation_category_display(), referral.get_route_display(),
            referral.get_status_display(), referral.rating.capitalize(), referral.gap_count,
            referral.unmanaged_risk_count,
            referral.owner.display_name if referral.owner else "Unallocated",
            referral.supervising_officer.display_name if referral.supervising_officer else "",
            referral.next_due_at(referral.open_actions),
        ]


def _children(referral: Referral) -> str:
    """The children's names, the victims first (as the list names its lead child), then siblings."""
    links = sorted((link for link in referral.referral_people.all() if link.role in CHILD_ROLES),
                   key=lambda link: link.role != PersonRole.VICTIM)
    return "; ".join(link.person.full_name for link in links)
