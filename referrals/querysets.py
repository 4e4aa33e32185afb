"""Reads: every query for records goes through `visible_to(user)` first."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from cram_site.models import Officer


class TeamScopedQuerySet(models.QuerySet):
    """Records that belong to a team. The one visibility rule of SPEC §2 lives here."""

    def visible_to(self, user: Officer) -> TeamScopedQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.force_wide or user.is_superuser:
            return self.all()
        if user.team_id is None:
            return self.none()
        return self.filter(team_id=user.team_id)


class ReferralQuerySet(TeamScopedQuerySet):
    def awaiting_assessment(self) -> ReferralQuerySet:
        # Queue "awaiting desk assessment": partial index referral_awaiting_idx.
        return self.filter(status="new").order_by("assessment_due_at")

    def open(self) -> ReferralQuerySet:
        return self.exclude(status="closed")

    def received_on(self, day: dt.date) -> ReferralQuerySet:
        return self.filter(received_at__date=day)

    def owned_by(self, officer: Officer) -> ReferralQuerySet:
        return self.filter(owner=officer)

    def for_list(self) -> ReferralQuerySet:
        """What a referral list row shows, in a fixed number of queries."""
        from .models import ReferralPerson

        return self.select_related("team", "owner", "supervising_officer").prefetch_related(
            models.Prefetch(
                "referral_people",
                queryset=ReferralPerson.objects.select_related("person").order_by("role", "pk"),
            )
        )


class PersonQuerySet(TeamScopedQuerySet):
    def matching(self, *, last_name: str, first_name: str = "", date_of_birth: dt.date | None = None,
                 limit: int = 8) -> list:
        """Possible matches for a typed name, tolerant of spelling.

        PostgreSQL ranks by trigram similarity (GIN index person_last_name_trgm); SQLite, the
        embedded default, falls back to a prefix match ranked by difflib in Python.
        """
        last_name = last_name.strip()
        first_name = first_name.strip()
        if len(last_name) < 2 and date_of_birth is None:
            return []
        if settings.IS_POSTGRES:
            return self._matching_trigram(last_name, first_name, date_of_birth, limit)
        return self._matching_simple(last_name, first_name, date_of_birth, limit)

    def _matching_trigram(self, last_name: str, first_name: str, date_of_birth: dt.date | None,
                          limit: int) -> list:
        from django.contrib.postgres.search import TrigramSimilarity
        from django.db.models.functions import Greatest

        condition = Q()
        if last_name:
            condition |= Q(last_name__trigram_similar=last_name)
        if date_of_birth:
            condition |= Q(date_of_birth=date_of_birth)
        candidates = self.filter(condition).annotate(
            score=Greatest(TrigramSimilarity("last_name", last_name or "-"), 0.0)
            + (TrigramSimilarity("first_name", first_name) if first_name else models.Value(0.0))
        )
        rows = list(candidates.order_by("-score", "last_name")[: limit * 3])
        return _rank(rows, date_of_birth)[:limit]

    def _matching_simple(self, last_name: str, first_name: str, date_of_birth: dt.date | None,
                         limit: int) -> list:
        from difflib import SequenceMatcher

        condition = Q()
        if last_name:
            condition |= Q(last_name__istartswith=last_name[:2])
        if date_of_birth:
            condition |= Q(date_of_birth=date_of_birth)
        rows = list(self.filter(condition)[:500])
        for person in rows:
            person.score = SequenceMatcher(None, person.last_name.lower(), last_name.lower()).ratio()
            if first_name:
                person.score += SequenceMatcher(None, person.first_name.lower(), first_name.lower()).ratio()
        rows = [p for p in rows if p.score >= 0.6 or (date_of_birth and p.date_of_birth == date_of_birth)]
        rows.sort(key=lambda p: (-p.score, p.last_name))
        return _rank(rows, date_of_birth)[:limit]


def _rank(rows: list, date_of_birth: dt.date | None) -> list:
    """A matching date of birth lifts a candidate to the top; the sort is stable otherwise."""
    if date_of_birth is None:
        return rows
    return sorted(rows, key=lambda p: p.date_of_birth != date_of_birth)
