"""The PCLO's conference diary: a week of meetings to come with their police report status and
deadline, filtered by officer, and the minutes still outstanding; never another team's."""
from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conferences import services as conference_services
from conferences.models import Meeting, MeetingKind
from cram_site.calendar import LONDON
from cram_site.models import Officer, Rank, Team
from referrals.models import Referral
from risk import services as risk_services

from ..factories import OfficerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)  # Tuesday of ISO week 2026-W11
THIS_WEEK, NEXT_WEEK = "2026-W11", "2026-W12"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def pclo(haringey: Team) -> Officer:
    return OfficerFactory(username="pclo-hy", first_name="Priya", last_name="Lowe", rank=Rank.DC,
                          staff_number="DC808", team=haringey, roles=["pclo"])


def london(day: int, hour: int = 10, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=LONDON)


def schedule(referral: Referral, actor: Officer, kind: str, starts_at: dt.datetime, *,
             attendee: Officer | None = None, held: bool = False, place: str = "Civic Centre") -> Meeting:
    return conference_services.meeting_create(
        referral=referral, actor=actor, now=NOW, kind=kind, starts_at=starts_at, place=place,
        chair_name="Jo Adeyemi", chair_agency="Safeguarding", police_attendee=attendee, held=held)


def complete_cram(referral: Referral, actor: Officer, kind: str) -> None:
    assessment = risk_services.assessment_start(referral=referral, kind=kind, actor=actor, now=NOW)
    answers = {answer.code: risk_services.AnswerInput("no") for answer in assessment.answers.all()}
    answers |= {"previous_injuries": risk_services.AnswerInput("not_known"),
                "weapon_injury": risk_services.AnswerInput("yes")}
    risk_services.assessment_save(
        assessment=assessment, actor=actor, now=NOW, complete=True,
        data=risk_services.AssessmentInput(revision=assessment.revision, answers=answers, rating="high",
                                           rating_rationale="Weapon used."))


def submit_report(meeting: Meeting, actor: Officer) -> None:
    report = conference_services.police_report_open(meeting=meeting, actor=actor, now=NOW)
    conference_services.police_report_save(report=report, actor=actor, now=NOW, summary_of_concerns="Concerns.",
                                           police_involvement="", analysis="", recommendations="A plan.")
    conference_services.police_report_submit(report=report, actor=actor, now=NOW, submitted_to="The chair",
                                             contents={})


@pytest.fixture
def diary(log_referral: Callable[..., Referral], desk_sergeant: Officer, pclo: Officer) -> dict[str, Meeting]:
    """Meetings of this week and next, each in its own state, on three Haringey referrals."""
    submitted_case, draft_case, plain_case = log_referral(), log_referral(), log_referral()
    complete_cram(submitted_case, desk_sergeant, "initial")
    complete_cram(submitted_case, pclo, "pre_conference")
    meetings = {
        # Saturday: its report was due on Monday and went in on time.
        "submitted": schedule(submitted_case, pclo, MeetingKind.REVIEW_CONFERENCE, london(14), attendee=pclo),
        # Friday: its report was due last week and is still a draft.
        "late_draft": schedule(draft_case, pclo, MeetingKind.REVIEW_CONFERENCE, london(13), place="Town Hall"),
        # Wednesday: a strategy meeting needs no police report.
        "strategy": schedule(plain_case, pclo, MeetingKind.STRATEGY_MEETING, london(11)),
        # Next Thursday: report due the Tuesday before; not started.
        "next_week": schedule(plain_case, pclo, MeetingKind.INITIAL_CONFERENCE, london(19), attendee=pclo,
                              place="Tottenham Green Centre"),
        # Earlier this week, held: no longer to come.
        "held": schedule(plain_case, pclo, MeetingKind.CORE_GROUP, london(9), held=True, place="The school"),
    }
    submit_report(meetings["submitted"], pclo)
    conference_services.police_report_open(meeting=meetings["late_draft"], actor=pclo, now=NOW)
    return meetings


def _rows(markup: str) -> dict[int, str]:
    """Each meeting row of the markup as its reader sees the text, by meeting id, in order."""
    return {int(match[1]): " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match[2])).split())
            for match in re.finditer(r'<tr data-meeting="(\d+)">(.*?)</tr>', markup, re.S)}


def _section(response, testid: str) -> dict[int, str]:
    """The rows of one table of the page: "diary" (meetings to come) or "minutes" (outstanding)."""
    page = response.content.decode()
    return _rows(re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', page, re.S)[0])


def _diary_url(**query: str) -> str:
    url = reverse("conferences:diary")
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def test_next_weeks_conference_is_in_next_week_and_not_this_week(client, pclo, diary) -> None:
    client.force_login(pclo)

    this_week = _section(client.get(_diary_url()), "diary")
    next_week = _section(client.get(_diary_url(week=NEXT_WEEK)), "diary")

    assert set(this_week) == {diary["submitted"].pk, diary["late_draft"].pk, diary["strategy"].pk}
    assert set(next_week) == {diary["next_week"].pk}
    row = next_week[diary["next_week"].pk]
    assert row.startswith("Thu 19 Mar 10:00")
    assert diary["next_week"].referral.urn in row and "Initial child protection conference" in row
    assert "Tottenham Green Centre" in row and "Jo Adeyemi (Safeguarding)" in row
    assert pclo.display_name in row and "Not started" in row and "Tue 17 Mar" in row and "late" not in row


def test_next_week_is_one_link_away(client, pclo, diary) -> None:
    client.force_login(pclo)

    page = client.get(_diary_url()).content.decode()

    assert f'href="{_diary_url(week=NEXT_WEEK)}">Next week' in page
    assert "(this week)" in page


def test_report_status_and_a_late_deadline_are_shown(client, pclo, diary) -> None:
    client.force_login(pclo)

    rows = _section(client.get(_diary_url(week=THIS_WEEK)), "diary")

    assert "Submitted" in rows[diary["submitted"].pk] and "late" not in rows[diary["submitted"].pk]
    assert "Draft" in rows[diary["late_draft"].pk] and rows[diary["late_draft"].pk].endswith("late")
    assert "Not assigned" in rows[diary["late_draft"].pk]
    assert "Not needed" in rows[diary["strategy"].pk]
    page = client.get(_diary_url(week=THIS_WEEK)).content.decode()
    assert reverse("conferences:report", args=[diary["late_draft"].referral.urn, diary["late_draft"].pk]) in page


def test_filter_by_officer_and_by_not_assigned(client, pclo, diary) -> None:
    client.force_login(pclo)

    mine = _section(client.get(_diary_url(week=THIS_WEEK, officer=str(pclo.pk))), "diary")
    unassigned = _section(client.get(_diary_url(week=THIS_WEEK, officer="none")), "diary")
    page = client.get(_diary_url(week=THIS_WEEK, officer=str(pclo.pk))).content.decode()

    assert set(mine) == {diary["submitted"].pk}
    assert set(unassigned) == {diary["late_draft"].pk, diary["strategy"].pk}
    assert f'<option value="{pclo.pk}" selected>{pclo.display_name}</option>' in page
    # the week links keep the officer chosen
    assert f'{html.escape(_diary_url(week=NEXT_WEEK, officer=str(pclo.pk)))}">Next week' in page


def test_minutes_outstanding_are_listed_with_a_late_marker(client, log_referral, pclo) -> None:
    referral = log_referral()
    overdue = schedule(referral, pclo, MeetingKind.STRATEGY_MEETING, NOW - dt.timedelta(days=40), held=True)
    recent = schedule(referral, pclo, MeetingKind.CORE_GROUP, NOW - dt.timedelta(days=2), held=True)
    received = schedule(referral, pclo, MeetingKind.CORE_GROUP, NOW - dt.timedelta(days=10), held=True)
    conference_services.minutes_record(meeting=received, actor=pclo, now=NOW, received_at=NOW)
    client.force_login(pclo)

    minutes = _section(client.get(_diary_url()), "minutes")

    assert list(minutes) == [overdue.pk, recent.pk]
    assert minutes[overdue.pk].endswith("late") and referral.urn in minutes[overdue.pk]
    assert "late" not in minutes[recent.pk]
    assert f"{recent.minutes_due_at.astimezone(LONDON):%a %-d %b %Y}" in minutes[recent.pk]


def test_another_teams_meetings_never_appear(client, log_referral, pclo, diary, other_team_sergeant,
                                             enfield) -> None:
    theirs = log_referral(team=enfield, actor=other_team_sergeant)
    upcoming = schedule(theirs, other_team_sergeant, MeetingKind.INITIAL_CONFERENCE, london(18))
    held = schedule(theirs, other_team_sergeant, MeetingKind.CORE_GROUP, NOW - dt.timedelta(days=30), held=True)
    client.force_login(pclo)

    pages = [client.get(_diary_url(week=week)) for week in (THIS_WEEK, NEXT_WEEK)]

    for response in pages:
        assert theirs.urn not in response.content.decode()
        assert upcoming.pk not in _section(response, "diary") and held.pk not in _section(response, "minutes")
    # and they see theirs, not ours
    client.force_login(other_team_sergeant)
    assert set(_section(client.get(_diary_url(week=NEXT_WEEK)), "diary")) == {upcoming.pk}


def test_a_week_is_london_midnight_to_midnight_across_the_clock_change(client, log_referral, pclo) -> None:
    """Clocks go forward on Sunday 29 March 2026: a meeting late that Sunday is in week 13, one just
    after midnight on Monday in week 14."""
    referral = log_referral()
    sunday_night = schedule(referral, pclo, MeetingKind.CORE_GROUP, london(29, hour=23))
    monday_morning = schedule(referral, pclo, MeetingKind.CORE_GROUP,
                              dt.datetime(2026, 3, 30, 0, 30, tzinfo=LONDON))
    client.force_login(pclo)

    assert set(_section(client.get(_diary_url(week="2026-W13")), "diary")) == {sunday_night.pk}
    assert set(_section(client.get(_diary_url(week="2026-W14")), "diary")) == {monday_morning.pk}


def test_the_diary_is_the_pclos_starting_screen_and_needs_the_role(client, pclo, investigator) -> None:
    client.force_login(pclo)
    assert client.get("/").url == reverse("conferences:diary")
    assert "Conference diary</a>" in client.get(_diary_url()).content.decode()

    client.force_login(investigator)
    assert client.get(_diary_url()).status_code == 403
    assert "Conference diary</a>" not in client.get(reverse("referrals:list")).content.decode()


DIARY_MOST_QUERIES = 10


def _busy_week(log_referral, desk_sergeant: Officer, pclo: Officer, *, size: int) -> None:
    """`size` referrals, each with a conference next week (some with reports), a strategy meeting
    and a held meeting whose minutes are outstanding."""
    for index in range(size):
        referral = log_referral()
        attendee = pclo if index % 2 else OfficerFactory(team=desk_sergeant.team, roles=["investigator"])
        conference = schedule(referral, pclo, MeetingKind.INITIAL_CONFERENCE, london(16 + index % 5), attendee=attendee)
        schedule(referral, pclo, MeetingKind.STRATEGY_MEETING, london(17, hour=9 + index % 8))
        schedule(referral, pclo, MeetingKind.CORE_GROUP, NOW - dt.timedelta(days=30 + index), held=True)
        if index % 2:
            conference_services.police_report_open(meeting=conference, actor=pclo, now=NOW)


def test_diary_queries_do_not_grow_with_the_week(client, log_referral, desk_sergeant, pclo,
                                                 django_assert_max_num_queries) -> None:
    client.force_login(pclo)
    address = _diary_url(week=NEXT_WEEK)
    _busy_week(log_referral, desk_sergeant, pclo, size=1)
    client.get(address)  # fills the content-type cache

    with CaptureQueriesContext(connection) as small:
        assert len(_section(client.get(address), "diary")) == 2
    _busy_week(log_referral, desk_sergeant, pclo, size=6)
    with CaptureQueriesContext(connection) as large:
        response = client.get(address)

    assert len(_section(response, "diary")) == 14 and len(_section(response, "minutes")) == 7
    assert len(large.captured_queries) == len(small.captured_queries), "the diary's queries grew with the week"
    with django_assert_max_num_queries(DIARY_MOST_QUERIES):
        assert "Draft" in client.get(address).content.decode()
