"""The supervisor's queues (SPEC §6): each holds exactly the right referrals at its edges and never
another team's; the home page counts match them; sorting, filters and acting from a row work; a
stale reminder sweep is warned of; and every page makes a fixed number of queries."""
from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conferences import services as conference_services
from cram_site.models import Officer, Rank, Team
from referrals import services as referral_services
from referrals.models import CaseLogKind, Referral
from risk import services as risk_services
from risk.services import AnswerInput, AssessmentInput, SignOffInput
from supervision.models import SweepRun
from supervision.queues import QUEUES, QUEUES_BY_SLUG, Queues
from tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in London (GMT)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)
_names = itertools.count(1)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class TeamCast:
    desk: Officer
    investigator: Officer
    supervisor: Officer
    leaver: Officer


@pytest.fixture
def haringey_cast(desk_sergeant: Officer, investigator: Officer, supervisor: Officer, haringey: Team) -> TeamCast:
    leaver = OfficerFactory(username="leaver-hy", first_name="Lee", last_name="Moore", rank=Rank.DC,
                            staff_number="DC777", team=haringey, roles=["investigator"],
                            leaving_date=dt.date(2026, 3, 31))
    return TeamCast(desk_sergeant, investigator, supervisor, leaver)


@pytest.fixture
def enfield_cast(other_team_sergeant: Officer, enfield: Team) -> TeamCast:
    """Enfield's sergeant is desk sergeant and supervisor at once."""
    investigator = OfficerFactory(username="investigator-en", first_name="Erin", last_name="Hale", rank=Rank.DC,
                                  staff_number="DC808", team=enfield, roles=["investigator"])
    leaver = OfficerFactory(username="leaver-en", first_name="Eli", last_name="Ward", rank=Rank.DC,
                            staff_number="DC818", team=enfield, roles=["investigator"],
                            leaving_date=dt.date(2026, 3, 20))
    return TeamCast(other_team_sergeant, investigator, other_team_sergeant, leaver)


# --- Building referrals in each state ------------------------------------------------------------------

def log(cast: TeamCast, *, at: dt.datetime = NOW - HOUR, **fields: object) -> Referral:
    number = next(_names)
    people = [
        referral_services.PersonDetails(role="victim", first_name=f"Child{number}", last_name="Adeyemi",
                                        date_of_birth=dt.date(2018, 1, 1)),
        referral_services.PersonDetails(role="sibling", first_name=f"Sibling{number}", last_name="Adeyemi",
                                        date_of_birth=dt.date(2020, 1, 1)),
        referral_services.PersonDetails(role="suspect", first_name=f"Adult{number}", last_name="Cole"),
    ]
    values = dict(team=cast.desk.team, actor=cast.desk, now=at, received_at=at - HOUR, channel="email",
                  source_agency="Children's social care", allegation_category="physical",
                  summary="Bruising seen at school.", people=people)
    values.update(fields)
    return referral_services.referral_log(**values)


OWNER = object()


def open_case(cast: TeamCast, *, at: dt.datetime = NOW - HOUR, route: str = "police_investigation",
              owner: object = OWNER, **fields: object) -> Referral:
    """A referral logged and assessed at `at`, by default a police investigation for the investigator."""
    referral = log(cast, at=at, **fields)
    referral_services.referral_assess(referral=referral, actor=cast.desk, now=at, urgency="routine", route=route,
                                      rationale="Disclosure to a teacher.",
                                      owner=cast.investigator if owner is OWNER else owner,
                                      supervising_officer=cast.supervisor)
    return Referral.objects.get(pk=referral.pk)


def complete_cram(referral: Referral, actor: Officer, now: dt.datetime) -> None:
    assessment = risk_services.assessment_start(referral=referral, kind="initial", actor=actor, now=now)
    answers = {answer.code: AnswerInput("no") for answer in assessment.answers.all()}
    risk_services.assessment_save(assessment=assessment, actor=actor, now=now, complete=True,
                                  data=AssessmentInput(revision=assessment.revision, answers=answers,
                                                       rating="standard"))


def conference(referral: Referral, cast: TeamCast, *, kind: str, starts_at: dt.datetime, held: bool = False,
               now: dt.datetime = NOW - HOUR):
    return conference_services.meeting_create(referral=referral, actor=cast.desk, now=now, kind=kind,
                                              starts_at=starts_at, place="Civic Centre", chair_name="R. Chair",
                                              chair_agency="Children's services", held=held)


def build(cast: TeamCast, copies: int = 1) -> dict[str, set[str]]:
    """`copies` referrals in the state of every queue; returns the URNs each queue should hold."""
    expected: dict[str, set[str]] = defaultdict(set)
    for _ in range(copies):
        expected["awaiting-assessment"].add(log(cast).urn)

        signoff = open_case(cast)
        complete_cram(signoff, cast.desk, NOW - HOUR)
        expected["cram-signoff"].add(signoff.urn)

        review = open_case(cast)
        # The referral's CRAM summary is kept by the risk services; here its review date is simply past.
        Referral.objects.filter(pk=review.pk).update(cram_review_due_at=NOW - 60 * SECOND)
        expected["reviews-overdue"].add(review.urn)

        pre_conference = open_case(cast)
        # Initial conference tomorrow: report and pre-conference CRAM were due 2 working days before (Monday).
        conference(pre_conference, cast, kind="initial_conference", starts_at=NOW + DAY)
        expected["reviews-overdue"].add(pre_conference.urn)
        expected["conference-reports"].add(pre_conference.urn)

        review_conference = open_case(cast)
        conference(review_conference, cast, kind="review_conference", starts_at=NOW + 14 * DAY)
        expected["conference-reports"].add(review_conference.urn)

        social_services = open_case(cast, at=NOW - 15 * DAY, route="social_services_only")
        expected["social-services-updates"].add(social_services.urn)

        followup = open_case(cast, at=NOW - 2 * DAY, channel="phone")
        expected["written-followups"].add(followup.urn)

        inactive = open_case(cast, at=NOW - 15 * DAY)
        expected["inactive"].add(inactive.urn)

        limitation = open_case(cast, summary_only_offence=True, offence_date=dt.date(2025, 11, 10))
        expected["limitation"].add(limitation.urn)

        protection = open_case(cast)
        conference_services.protection_start(referral=protection, actor=cast.investigator, now=NOW - HOUR,
                                             child=protection.lead_child, started_at=NOW - 2 * HOUR,
                                             designated_officer=cast.investigator, reason="Found alone at home.")
        expected["police-protection"].add(protection.urn)

        minutes = open_case(cast)
        conference(minutes, cast, kind="strategy_meeting", starts_at=NOW - DAY, held=True)
        expected["minutes"].add(minutes.urn)

        leavers_case = open_case(cast, owner=cast.leaver)
        referral_services.action_create(referral=leavers_case, actor=cast.supervisor, now=NOW - HOUR,
                                        description="Visit the school", owner=cast.leaver, due_at=NOW + 2 * DAY)
        expected["leavers"].add(leavers_case.urn)

        expected["unallocated"].add(open_case(cast, route="no_further_action", owner=None).urn)
    return dict(expected)


def shown_urns(client, slug: str, query: str = "") -> list[str]:
    response = client.get(reverse("supervision:queue", args=[slug]) + query)
    assert response.status_code == 200, slug
    return re.findall(r'data-testid="row-([A-Z]+-\d{2}-\d{5})"', response.content.decode())


# --- Membership -----------------------------------------------------------------------------------------

def test_each_queue_holds_exactly_its_referrals_and_never_another_teams(client, haringey_cast: TeamCast,
                                                                         enfield_cast: TeamCast) -> None:
    """Given a referral in the state of every queue in Haringey and in Enfield, each supervisor's
    queue pages show exactly their own team's referrals for that queue."""
    haringey = build(haringey_cast)
    enfield = build(enfield_cast)

    for supervisor, expected in ((haringey_cast.supervisor, haringey), (enfield_cast.supervisor, enfield)):
        client.force_login(supervisor)
        shown = {queue.slug: set(shown_urns(client, queue.slug)) for queue in QUEUES}
        assert shown == {queue.slug: expected.get(queue.slug, set()) for queue in QUEUES}


def test_the_home_page_counts_every_queue_as_its_page_shows_it(client, haringey_cast: TeamCast,
                                                               enfield_cast: TeamCast) -> None:
    build(haringey_cast, copies=2)
    build(enfield_cast)
    client.force_login(haringey_cast.supervisor)

    body = client.get(reverse("supervision:home")).content.decode()

    counts = dict(re.findall(r'data-testid="count-([a-z-]+)">(\d+)', body))
    assert counts == {queue.slug: str(len(shown_urns(client, queue.slug))) for queue in QUEUES}
    # Two of everything; the queues that list two records of one case show it twice.
    assert counts["minutes"] == "2" and counts["leavers"] == "4" and counts["reviews-overdue"] == "4"
    for queue in QUEUES:
        assert reverse("supervision:queue", args=[queue.slug]) in body


# --- The edges of each clock ----------------------------------------------------------------------------

def _holds(user: Officer, now: dt.datetime, slug: str) -> set[int]:
    queues = Queues(user, now)
    return {referral_id for _, _, referral_id, _ in queues.rows(QUEUES_BY_SLUG[slug])}


@pytest.mark.parametrize(("slug", "field"), [
    ("reviews-overdue", "cram_review_due_at"),
    ("social-services-updates", "social_services_update_due_at"),
    ("written-followups", "written_followup_due_at"),
])
def test_a_referral_joins_its_overdue_queue_only_once_its_date_has_passed(haringey_cast: TeamCast, slug: str,
                                                                           field: str) -> None:
    referral = open_case(haringey_cast, route="social_services_only", channel="phone", at=NOW - 3 * DAY)
    due = NOW + 5 * DAY
    Referral.objects.filter(pk=referral.pk).update(**{field: due})

    assert referral.pk not in _holds(haringey_cast.supervisor, due - SECOND, slug)
    assert referral.pk not in _holds(haringey_cast.supervisor, due, slug)
    assert referral.pk in _holds(haringey_cast.supervisor, due + SECOND, slug)


def test_the_queue_page_at_the_clock_edge_shows_the_referral_only_once_overdue(client,
                                                                                haringey_cast: TeamCast) -> None:
    """A phone referral received Monday 09:00: its written referral is due Tuesday 09:00 (one working day)."""
    received = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
    referral = open_case(haringey_cast, channel="phone", at=received + HOUR)
    due = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    assert referral.written_followup_due_at == due
    client.force_login(haringey_cast.supervisor)

    with time_machine.travel(due - SECOND, tick=False):
        before = shown_urns(client, "written-followups")
    with time_machine.travel(due + SECOND, tick=False):
        after = client.get(reverse("supervision:queue", args=["written-followups"])).content.decode()

    assert before == []
    assert f'data-testid="row-{referral.urn}"' in after
    assert '<span class="overdue">10/03/2026 09:00 (overdue)</span>' in after


def test_a_received_update_or_written_referral_leaves_the_queue(haringey_cast: TeamCast) -> None:
    referral = open_case(haringey_cast, route="social_services_only", channel="phone", at=NOW - 15 * DAY)
    assert referral.pk in _holds(haringey_cast.supervisor, NOW, "social-services-updates")
    assert referral.pk in _holds(haringey_cast.supervisor, NOW, "written-followups")

    referral_services.social_services_update_record(referral=referral, actor=haringey_cast.investigator, now=NOW,
                                                    received_at=NOW - HOUR, note="Visit done; no concerns.")
    referral_services.written_followup_record(referral=referral, actor=haringey_cast.desk, now=NOW,
                                              received_at=NOW - HOUR)

    assert referral.pk not in _holds(haringey_cast.supervisor, NOW, "social-services-updates")
    assert referral.pk not in _holds(haringey_cast.supervisor, NOW, "written-followups")


def test_a_conference_joins_reviews_overdue_once_its_report_date_has_passed(haringey_cast: TeamCast) -> None:
    """Both conferences are in "reports due" while their reports are outstanding; only the one whose
    report date has passed is a review overdue; a cancelled one is in neither."""
    referral = open_case(haringey_cast)
    meeting = conference(referral, haringey_cast, kind="review_conference", starts_at=NOW + 14 * DAY)
    due = meeting.report_due_at

    assert referral.pk in _holds(haringey_cast.supervisor, due - SECOND, "conference-reports")
    assert referral.pk not in _holds(haringey_cast.supervisor, due - SECOND, "reviews-overdue")
    assert referral.pk in _holds(haringey_cast.supervisor, due + SECOND, "reviews-overdue")

    conference_services.meeting_cancel(meeting=meeting, actor=haringey_cast.desk, now=NOW, reason="Family moved.")
    assert referral.pk not in _holds(haringey_cast.supervisor, due + SECOND, "conference-reports")
    assert referral.pk not in _holds(haringey_cast.supervisor, due + SECOND, "reviews-overdue")


def test_an_investigation_is_inactive_14_days_after_the_last_entry_an_officer_wrote(haringey_cast: TeamCast) -> None:
    """The system's own entries (an allocation change) do not count as activity; an officer's entry does."""
    started = NOW - 20 * DAY
    referral = open_case(haringey_cast, at=started)
    referral_services.case_log_append(referral=referral, kind=CaseLogKind.INFORMATION, actor=haringey_cast.investigator,
                                      now=started + DAY, text="Spoke to the class teacher.")
    due = started + 15 * DAY

    assert referral.pk not in _holds(haringey_cast.supervisor, due - SECOND, "inactive")
    assert referral.pk in _holds(haringey_cast.supervisor, due + SECOND, "inactive")

    referral_services.referral_allocate(referral=referral, actor=haringey_cast.supervisor, now=due + HOUR,
                                        owner=haringey_cast.leaver, supervising_officer=haringey_cast.supervisor,
                                        reason="Cover while on leave.")
    assert referral.pk in _holds(haringey_cast.supervisor, due + 2 * HOUR, "inactive")

    referral_services.case_log_append(referral=referral, kind=CaseLogKind.ACTION, actor=haringey_cast.leaver,
                                      now=due + 2 * HOUR, text="Arranged the ABE interview.")
    assert referral.pk not in _holds(haringey_cast.supervisor, due + 3 * HOUR, "inactive")


def test_limitation_shows_offences_whose_limit_is_within_two_months_with_the_limit_date(
        client, haringey_cast: TeamCast) -> None:
    """Offence on 10 November 2025: proceedings by 09:00 on 10 May 2026, two months after 10 March at 09:00."""
    inside = open_case(haringey_cast, summary_only_offence=True, offence_date=dt.date(2025, 11, 10))
    outside = open_case(haringey_cast, summary_only_offence=True, offence_date=dt.date(2025, 11, 11))
    passed = open_case(haringey_cast, summary_only_offence=True, offence_date=dt.date(2025, 8, 1))
    not_summary = open_case(haringey_cast, offence_date=dt.date(2025, 8, 1))

    assert _holds(haringey_cast.supervisor, NOW, "limitation") == {inside.pk, passed.pk}
    # 08:59:59 London on 10 March: the horizon is 08:59:59 on 10 May, a second short of the limit.
    assert _holds(haringey_cast.supervisor, dt.datetime(2026, 3, 10, 8, 59, 59, tzinfo=dt.UTC),
                  "limitation") == {passed.pk}
    assert not_summary.pk not in _holds(haringey_cast.supervisor, NOW, "limitation")
    assert outside.pk not in _holds(haringey_cast.supervisor, NOW, "limitation")

    client.force_login(haringey_cast.supervisor)
    body = client.get(reverse("supervision:queue", args=["limitation"])).content.decode()
    assert "10/05/2026 09:00" in body
    assert "the limit has passed" in body


def test_work_leaves_its_queue_when_it_is_done(haringey_cast: TeamCast) -> None:
    """Assessed, signed off, protection ended, minutes received, leaving date cleared, allocated: each leaves its queue."""
    cast, supervisor = haringey_cast, haringey_cast.supervisor
    new = log(cast)
    signoff = open_case(cast)
    complete_cram(signoff, cast.desk, NOW - HOUR)
    protection_case = open_case(cast)
    protection = conference_services.protection_start(
        referral=protection_case, actor=cast.investigator, now=NOW - HOUR, child=protection_case.lead_child,
        started_at=NOW - 2 * HOUR, designated_officer=cast.investigator, reason="Found alone at home.")
    minutes_case = open_case(cast)
    meeting = conference(minutes_case, cast, kind="strategy_meeting", starts_at=NOW - DAY, held=True)
    leavers_case = open_case(cast, owner=cast.leaver)
    unallocated = open_case(cast, route="no_further_action", owner=None)
    before = {slug: _holds(supervisor, NOW, slug) for slug in QUEUES_BY_SLUG}
    assert new.pk in before["awaiting-assessment"] and signoff.pk in before["cram-signoff"]
    assert protection_case.pk in before["police-protection"] and minutes_case.pk in before["minutes"]
    assert leavers_case.pk in before["leavers"] and unallocated.pk in before["unallocated"]

    referral_services.referral_assess(referral=new, actor=cast.desk, now=NOW, urgency="routine",
                                      route="police_investigation", rationale="Disclosure.", owner=cast.investigator,
                                      supervising_officer=supervisor)
    risk_services.assessment_sign_off(assessment=signoff.assessments.get(), actor=supervisor, now=NOW,
                                      data=SignOffInput("agreed", "yes", "yes", "yes", "yes", "Sound."))
    conference_services.protection_end(protection=protection, actor=cast.investigator, now=NOW, ended_at=NOW)
    conference_services.minutes_record(meeting=meeting, actor=cast.desk, now=NOW, received_at=NOW)
    Officer.objects.filter(pk=cast.leaver.pk).update(leaving_date=None)
    referral_services.referral_allocate(referral=unallocated, actor=supervisor, now=NOW, owner=cast.investigator,
                                        supervising_officer=supervisor, reason="Capacity.")

    after = {slug: _holds(supervisor, NOW, slug) for slug in QUEUES_BY_SLUG}
    assert new.pk not in after["awaiting-assessment"] and signoff.pk not in after["cram-signoff"]
    assert protection_case.pk not in after["police-protection"] and minutes_case.pk not in after["minutes"]
    assert leavers_case.pk not in after["leavers"] and unallocated.pk not in after["unallocated"]


# --- Sorting, filters and acting from a row -----------------------------------------------------------

def test_a_queue_sorts_by_due_date_either_way_across_its_kinds_of_record(client, haringey_cast: TeamCast) -> None:
    """Reviews overdue mixes referrals and conferences: the Monday report comes before a review due an hour ago."""
    late_review = open_case(haringey_cast)
    Referral.objects.filter(pk=late_review.pk).update(cram_review_due_at=NOW - HOUR)
    older_review = open_case(haringey_cast)
    Referral.objects.filter(pk=older_review.pk).update(cram_review_due_at=NOW - 10 * DAY)
    pre_conference = open_case(haringey_cast)
    conference(pre_conference, haringey_cast, kind="initial_conference", starts_at=NOW + DAY)
    client.force_login(haringey_cast.supervisor)

    assert shown_urns(client, "reviews-overdue") == [older_review.urn, pre_conference.urn, late_review.urn]
    assert shown_urns(client, "reviews-overdue", "?order=-due") == [late_review.urn, pre_conference.urn,
                                                                     older_review.urn]


def test_a_queue_filters_by_officer_and_rating(client, haringey_cast: TeamCast) -> None:
    mine = open_case(haringey_cast)
    leavers = open_case(haringey_cast, owner=haringey_cast.leaver)
    unrated = open_case(haringey_cast)
    Referral.objects.filter(pk__in=[mine.pk, leavers.pk, unrated.pk]).update(cram_review_due_at=NOW - DAY)
    # The rating is the referral's CRAM summary, kept by the risk services.
    Referral.objects.filter(pk=mine.pk).update(rating="high")
    Referral.objects.filter(pk=leavers.pk).update(rating="standard")
    client.force_login(haringey_cast.supervisor)

    assert set(shown_urns(client, "reviews-overdue")) == {mine.urn, leavers.urn, unrated.urn}
    assert shown_urns(client, "reviews-overdue", f"?officer={haringey_cast.leaver.pk}") == [leavers.urn]
    assert shown_urns(client, "reviews-overdue", "?rating=high") == [mine.urn]
    assert shown_urns(client, "reviews-overdue", "?rating=none") == [unrated.urn]
    assert set(shown_urns(client, "reviews-overdue", f"?officer={haringey_cast.investigator.pk}")) == {
        mine.urn, unrated.urn}
    assert shown_urns(client, "reviews-overdue", f"?officer={haringey_cast.investigator.pk}&rating=standard") == []


def test_allocating_from_a_queue_row_writes_the_case_log_and_empties_the_row(client, haringey_cast: TeamCast) -> None:
    unallocated = open_case(haringey_cast, route="no_further_action", owner=None)
    queue_url = reverse("supervision:queue", args=["unallocated"])
    client.force_login(haringey_cast.supervisor)
    assert f'action="{reverse("supervision:allocate", args=[unallocated.urn])}"' in client.get(queue_url).content.decode()

    response = client.post(reverse("supervision:allocate", args=[unallocated.urn]), {
        "owner": haringey_cast.investigator.pk, "reason": "Has capacity and knows the family.",
        "next": queue_url, "from_row": "1"})

    assert response.status_code == 302 and response["Location"] == queue_url
    referral = Referral.objects.get(pk=unallocated.pk)
    assert referral.owner == haringey_cast.investigator
    entry = referral.case_log.order_by("-number").first()
    assert entry.text == ("Allocation changed: investigating officer DC Ian Vance DC202, supervisor DS Sue Perkins "
                          "DS303. Reason: Has capacity and knows the family.")
    assert (entry.author, entry.kind) == (haringey_cast.supervisor, CaseLogKind.SYSTEM)
    assert shown_urns(client, "unallocated") == []


def test_allocating_from_a_row_without_a_reason_or_to_another_team_stores_nothing(
        client, haringey_cast: TeamCast, enfield_cast: TeamCast) -> None:
    unallocated = open_case(haringey_cast, route="no_further_action", owner=None)
    entries = unallocated.case_log.count()
    client.force_login(haringey_cast.supervisor)
    address = reverse("supervision:allocate", args=[unallocated.urn])

    no_reason = client.post(address, {"owner": haringey_cast.investigator.pk, "reason": " ", "from_row": "1"})
    other_team = client.post(address, {"owner": enfield_cast.investigator.pk, "reason": "Spare capacity.",
                                       "from_row": "1"})

    assert "The allocation was not saved; see below." in no_reason.content.decode()
    assert "This field is required." in no_reason.content.decode()
    assert "Select a valid choice" in other_team.content.decode()
    referral = Referral.objects.get(pk=unallocated.pk)
    assert (referral.owner_id, referral.case_log.count()) == (None, entries)


def test_a_cram_awaiting_sign_off_links_to_the_cram(client, haringey_cast: TeamCast) -> None:
    referral = open_case(haringey_cast)
    complete_cram(referral, haringey_cast.desk, NOW - HOUR)
    client.force_login(haringey_cast.supervisor)

    body = client.get(reverse("supervision:queue", args=["cram-signoff"])).content.decode()

    assert f'href="{reverse("risk:assessment", args=[referral.urn, 1])}">Sign off' in body
    assert "CRAM 1 (initial)" in body


def test_queue_pages_are_for_supervisors_only(client, haringey_cast: TeamCast) -> None:
    client.force_login(haringey_cast.investigator)
    for address in (reverse("supervision:home"), reverse("supervision:queue", args=["unallocated"]),
                    reverse("supervision:workload"), reverse("supervision:leavers")):
        assert client.get(address).status_code == 403, address
    client.force_login(haringey_cast.supervisor)
    assert client.get(reverse("supervision:queue", args=["no-such-queue"])).status_code == 404


def test_a_supervisor_starts_on_the_supervision_home(client, haringey_cast: TeamCast) -> None:
    client.force_login(haringey_cast.supervisor)
    assert client.get(reverse("home"))["Location"] == reverse("supervision:home")


# --- The stale-sweep warning --------------------------------------------------------------------------

SUPERVISOR_PAGES = ("supervision:home", "supervision:workload", "supervision:leavers")


def _warning(client) -> list[str]:
    pages = [reverse(name) for name in SUPERVISOR_PAGES] + [reverse("supervision:queue", args=["minutes"])]
    found = []
    for address in pages:
        match = re.search(r'data-testid="sweep-warning">([^<]*)<', client.get(address).content.decode())
        found.append(match.group(1) if match else "")
    return found


def test_every_supervisor_page_warns_when_reminders_last_ran_over_an_hour_ago(client, haringey_cast: TeamCast) -> None:
    client.force_login(haringey_cast.supervisor)
    assert _warning(client) == ["Reminders have never run — check the scheduler."] * 4

    SweepRun.objects.create(started_at=NOW - 61 * 60 * SECOND, finished_at=NOW - 60 * 60 * SECOND - SECOND,
                            as_of=NOW - 61 * 60 * SECOND)
    assert _warning(client) == ["Reminders last ran 10/03/2026 08:59 — check the scheduler."] * 4

    SweepRun.objects.create(started_at=NOW - 15 * 60 * SECOND, finished_at=NOW - 14 * 60 * SECOND,
                            as_of=NOW - 15 * 60 * SECOND)
    assert _warning(client) == [""] * 4


def test_a_sweep_that_started_but_never_finished_does_not_count(client, haringey_cast: TeamCast) -> None:
    SweepRun.objects.create(started_at=NOW - 2 * HOUR, finished_at=NOW - 2 * HOUR, as_of=NOW - 2 * HOUR)
    SweepRun.objects.create(started_at=NOW - 5 * 60 * SECOND, as_of=NOW - 5 * 60 * SECOND)
    client.force_login(haringey_cast.supervisor)

    assert _warning(client)[0] == "Reminders last ran 10/03/2026 08:00 — check the scheduler."


# --- Query counts -------------------------------------------------------------------------------------

# The most queries each page may make, however many referrals each queue holds.
# A queue page: session, officer, roles, team (page header), the savepoint of the request's
# transaction and its release, the officers to filter by, the last sweep, the count and the page
# of the union, the referrals and their people, and one query for each other kind of record shown
# (meetings, protections, actions, CRAMs awaiting sign-off) or for the team's timescale.
# Home: one count per part of each queue (14) and the two timescales (inactivity, limitation).
PINS: dict[str, int] = {
    "home": 23,
    "queue awaiting-assessment": 12,
    "queue cram-signoff": 13,
    "queue reviews-overdue": 13,
    "queue social-services-updates": 12,
    "queue written-followups": 12,
    "queue inactive": 13,
    "queue limitation": 13,
    "queue police-protection": 13,
    "queue conference-reports": 13,
    "queue minutes": 13,
    "queue leavers": 13,
    "queue unallocated": 12,
}


def _addresses() -> dict[str, str]:
    return {"home": reverse("supervision:home"),
            **{f"queue {queue.slug}": reverse("supervision:queue", args=[queue.slug]) for queue in QUEUES}}


def _query_counts(client, addresses: dict[str, str]) -> dict[str, int]:
    counts = {}
    for page, address in addresses.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(address)
        assert response.status_code == 200, page
        counts[page] = len(captured.captured_queries)
    return counts


def test_queue_pages_and_home_make_the_same_queries_for_one_item_per_queue_as_for_four(
        client, haringey_cast: TeamCast, enfield_cast: TeamCast, django_assert_max_num_queries) -> None:
    build(haringey_cast)
    build(enfield_cast)
    # A stale sweep, so every page shows its warning as well.
    SweepRun.objects.create(started_at=NOW - 2 * HOUR, finished_at=NOW - 2 * HOUR, as_of=NOW - 2 * HOUR)
    client.force_login(haringey_cast.supervisor)
    addresses = _addresses()
    _query_counts(client, addresses)  # the first requests fill the content-type cache
    small = _query_counts(client, addresses)

    build(haringey_cast, copies=3)
    large = _query_counts(client, addresses)

    assert large == small, "pages whose query count grew with the data"
    for page, most in PINS.items():
        with django_assert_max_num_queries(most):
            body = client.get(addresses[page]).content.decode()
        shown = 'data-testid="count-minutes">4<' if page == "home" else "HY-26-"
        assert "Reminders last ran" in body and shown in body and "EN-26-" not in body, page
