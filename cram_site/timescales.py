"""Due dates from the team's timescale table (SPEC §5)."""
from __future__ import annotations

import datetime as dt

from .models import Clock, Team, Timescale


def due_after(*, team: Team | int, clock: str, start: dt.datetime) -> dt.datetime:
    team_id = team if isinstance(team, int) else team.pk
    return Timescale.objects.for_team(team_id, clock).after(start)


def due_before(*, team: Team | int, clock: str, deadline: dt.datetime) -> dt.datetime:
    team_id = team if isinstance(team, int) else team.pk
    return Timescale.objects.for_team(team_id, clock).before(deadline)


def desk_assessment_due(received_at: dt.datetime, *, team: Team, urgent: bool) -> dt.datetime:
    clock = Clock.DESK_ASSESSMENT_URGENT if urgent else Clock.DESK_ASSESSMENT
    return due_after(team=team, clock=clock, start=received_at)


def written_followup_due(received_at: dt.datetime, *, team: Team) -> dt.datetime:
    return due_after(team=team, clock=Clock.WRITTEN_FOLLOWUP, start=received_at)


def team_timescales_create(*, team: Team) -> int:
    """Give a team a row for every clock at its default; rows it already has are kept."""
    from .models import DEFAULT_TIMESCALES

    rows = [Timescale(team=team, clock=clock, amount=amount, unit=unit)
            for clock, (amount, unit) in DEFAULT_TIMESCALES.items()]
    created = Timescale.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)
