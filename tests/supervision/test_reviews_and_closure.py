"""Supervisory reviews of investigations and closure (SPEC §3, §5): a review records the quality
assessment, direction and actions, and sets the next review from the team's timescale; a referral
closes only when every rule holds (or a supervisor overrides an unmanaged risk with a reason), with a
supervisor's approval; a refusal names every unmet rule and stores nothing."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conferences import services as conference_services
from cram_site.calendar import LONDON
from cram_site.models import Clock, Officer, Timescale, TimeUnit
from referrals import services as referral_services
from referrals.models import Action, ActionStatus, CaseLogKind, Referral, ReferralStatus
from supervision.closure import closure_problems, referral_close
from supervision.models import Closure, Reminder, ReminderKind, ReminderState, SupervisoryReview
from supervision.review_services import investigation_review_record
from supervision.sweep import sweep
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)  # 10:00 in London (GMT)
DAY = dt.timedelta(days=1)

QUALITY = {"investigation_progressing": "yes", "risk_managed": "partly", "records_complete": "no",
           "actions_timely": "yes"}


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def assess(desk_sergeant: Officer, investigator: Officer, supervisor: Officer) -> Callable[..., Referral]:
    """Assess a logged referral at the desk: by default a police investigation for the investigator."""

    def assessed(referral: Referral, *, route: str = "police_investigation", crime_report_number: str = "") -> Referral:
        return referral_services.referral_assess(
            referral=referral, actor=desk_sergeant, now=NOW, urgency="routine", route=route,
            rationale="Injury to a child under five.", owner=investigator, supervising_officer=supervisor,
            crime_report_number=crime_report_number)

    return assessed


@pytest.fixture
def investigation(log_referral: Callable[..., Referral], assess: Callable[..., Referral]) -> Referral:
    return assess(log_referral(now=NOW - DAY))


def _review(referral: Referral, actor: Officer, **overrides: object) -> SupervisoryReview:
    arguments = {"direction": "Interview the suspect under caution this week.", "actions": [], **QUALITY}
    arguments.update(overrides)
    return investigation_review_record(referral=referral, actor=actor, now=NOW, **arguments)


def _stored(referral: Referral) -> tuple:
    """What a refused or forbidden request must leave as it was."""
    fresh = Referral.objects.get(pk=referral.pk)
    return (fresh.status, fresh.closed_at, fresh.case_log_count, Closure.objects.filter(referral=fresh).count(),
            SupervisoryReview.objects.filter(referral=fresh).count(), Action.objects.filter(referral=fresh).count())


# --- Supervisory reviews ---------------------------------------------------------------------------

def test_a_review_records_quality_direction_actions_and_the_next_review_28_days_on(investigation, supervisor,
                                                                                   investigator) -> None:
    """The review is stored with its answers, the case log says what the supervisor found and
    directed, each action set is a case action, and the next review is due 28 days later."""
    before = investigation.case_log_count

    review = _review(investigation, supervisor, actions=[
        ("Arrange the ABE interview", investigator, NOW + 3 * DAY),
        ("Obtain the nursery's injury log", investigator, NOW + 7 * DAY),
    ])

    review.refresh_from_db()
    # 28 calendar days on the wall clock: 10:00 in London, now in summer time.
    assert review.next_review_due_at == dt.datetime(2026, 4, 7, 10, 0, tzinfo=LONDON)
    assert (review.reviewer_id, review.reviewer_label, review.reviewed_at) == (
        supervisor.pk, "DS Sue Perkins DS303", NOW)
    assert (review.investigation_progressing, review.risk_managed, review.records_complete,
            review.actions_timely) == ("yes", "partly", "no", "yes")
    entry = investigation.case_log.get(number=before + 1)
    assert entry.kind == CaseLogKind.SUPERVISION
    assert (entry.author_rank, entry.author_staff_number) == ("DS", "DS303")
    assert ("Quality: investigation progressing yes, risk being managed partly, records complete and current no, "
            "actions timely yes.") in entry.text
    assert "Next review due 07/04/2026 10:00." in entry.text
    assert entry.text.endswith("Direction: Interview the suspect under caution this week.")
    actions = list(Action.objects.filter(referral=investigation).order_by("due_at"))
    assert [(a.description, a.owner_id, a.due_at, a.created_by_id) for a in actions] == [
        ("Arrange the ABE interview", investigator.pk, NOW + 3 * DAY, supervisor.pk),
        ("Obtain the nursery's injury log", investigator.pk, NOW + 7 * DAY, supervisor.pk),
    ]
    assert investigation.case_log.filter(kind=CaseLogKind.ACTION).count() == 2


def test_the_teams_timescale_sets_the_next_review(investigation, supervisor, haringey) -> None:
    """An administrator shortens the team's review cycle to 21 days: the next review follows it."""
    Timescale.objects.update_or_create(team=haringey, clock=Clock.INVESTIGATION_REVIEW,
                                       defaults={"amount": 21, "unit": TimeUnit.DAYS})

    review = _review(investigation, supervisor)

    assert review.next_review_due_at == dt.datetime(2026, 3, 31, 10, 0, tzinfo=LONDON)


def test_a_review_closes_the_prompt_for_the_review_that_was_due(investigation, supervisor) -> None:
    """The sweep's reminder of the due review resolves as the review is recorded, not at the next sweep."""
    with time_machine.travel(NOW + 30 * DAY, tick=False):
        sweep(now=NOW + 30 * DAY)
    due = Reminder.objects.get(referral=investigation, kind=ReminderKind.INVESTIGATION_REVIEW)
    assert due.state != ReminderState.RESOLVED

    with time_machine.travel(NOW + 30 * DAY, tick=False):
        investigation_review_record(referral=investigation, actor=supervisor, now=NOW + 30 * DAY,
                                    direction="Charge file by Friday.", **QUALITY)

    due.refresh_from_db()
    assert (due.state, due.resolved_at) == (ReminderState.RESOLVED, NOW + 30 * DAY)


@pytest.mark.parametrize("route", ["social_services_only", "no_further_action"])
def test_a_review_is_refused_for_a_referral_that_is_not_an_investigation(log_referral, assess, supervisor,
                                                                         route) -> None:
    referral = assess(log_referral(now=NOW - DAY), route=route)
    before = _stored(referral)

    with pytest.raises(ValidationError, match="Only an open police or joint investigation"):
        _review(referral, supervisor)

    assert _stored(referral) == before


def test_a_review_without_direction_or_with_a_past_action_is_refused_with_both_reasons(investigation, supervisor,
                                                                                      investigator) -> None:
    before = _stored(investigation)

    with pytest.raises(ValidationError) as refused:
        _review(investigation, supervisor, direction="  ",
                actions=[("Visit the school", investigator, NOW - DAY)])

    assert refused.value.message_dict == {
        "direction": ["Give your direction for the investigation."],
        "action-0": ["Action 1: the due date must not be in the past."],
    }
    assert _stored(investigation) == before


def test_only_a_supervisor_reviews(investigation, investigator, client) -> None:
    """The service refuses an investigator, and so does the page (403), storing nothing."""
    before = _stored(investigation)
    with pytest.raises(PermissionDenied):
        _review(investigation, investigator)

    client.force_login(investigator)
    response = client.post(reverse("supervision:review_add", args=[investigation.urn]),
                           {**QUALITY, "direction": "Carry on.", "action-TOTAL_FORMS": "0",
                            "action-INITIAL_FORMS": "0"})

    assert response.status_code == 403
    assert _stored(investigation) == before
    page = client.get(reverse("supervision:case", args=[investigation.urn])).content.decode()
    assert "Record a supervisory review" not in page
    assert "Approve the closure" not in page


def _review_post(**fields: str) -> dict[str, str]:
    post = {**QUALITY, "direction": "See the paediatrician's report before the strategy meeting.",
            "action-TOTAL_FORMS": "3", "action-INITIAL_FORMS": "0", "action-MIN_NUM_FORMS": "0",
            "action-MAX_NUM_FORMS": "20"}
    post.update(fields)
    return post


def test_a_supervisor_records_a_review_on_the_page_and_sees_it(investigation, supervisor, investigator,
                                                              client) -> None:
    client.force_login(supervisor)
    due = (NOW + 2 * DAY).astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")

    response = client.post(reverse("supervision:review_add", args=[investigation.urn]), _review_post(**{
        "action-1-description": "Request the paediatric report", "action-1-owner": str(investigator.pk),
        "action-1-due_at": due}), follow=True)

    assert response.redirect_chain[-1][0] == reverse("supervision:case", args=[investigation.urn])
    page = response.content.decode()
    assert "See the paediatrician&#x27;s report before the strategy meeting." in page
    assert "Partly" in page
    assert SupervisoryReview.objects.get(referral=investigation).reviewer_id == supervisor.pk
    assert Action.objects.get(referral=investigation).description == "Request the paediatric report"
    assert "Next review due:\n    07/04/2026 10:00" in page


def test_a_refused_review_on_the_page_shows_the_reasons_and_stores_nothing(investigation, supervisor, client) -> None:
    client.force_login(supervisor)
    before = _stored(investigation)

    response = client.post(reverse("supervision:review_add", args=[investigation.urn]),
                           _review_post(direction="", risk_managed="maybe"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required." in page
    assert "Select a valid choice." in page
    assert _stored(investigation) == before


def test_the_tab_shows_an_overdue_review(investigation, supervisor, client) -> None:
    _review(investigation, supervisor)

    with time_machine.travel(NOW + 29 * DAY, tick=False):
        client.force_login(supervisor)
        page = client.get(reverse("supervision:case", args=[investigation.urn])).content.decode()

    assert "(overdue)" in page.split('data-testid="next-review"')[1].split("</p>")[0]


# --- Closure -------------------------------------------------------------------------------------

def test_closure_is_approved_when_every_rule_holds(investigation, supervisor, investigator, client) -> None:
    """Actions finished, the sweep's running clocks not in the way: the supervisor closes the referral,
    the Closure is stored, the case log says so and every open reminder of the referral resolves."""
    action = referral_services.action_create(referral=investigation, actor=supervisor, now=NOW,
                                             description="Visit the school", owner=investigator, due_at=NOW + DAY)
    sweep(now=NOW)  # reminders for the action, the review of the investigation, inactivity…
    referral_services.action_finish(action=action, actor=investigator, now=NOW, status=ActionStatus.DONE,
                                    note="Visited; teacher's account taken.")
    open_reminders = set(Reminder.objects.unresolved().filter(referral=investigation).values_list("kind", flat=True))
    assert {ReminderKind.ACTION, ReminderKind.INVESTIGATION_REVIEW} <= open_reminders
    assert closure_problems(investigation, now=NOW) == []

    client.force_login(supervisor)
    response = client.post(reverse("supervision:close", args=[investigation.urn]),
                           {"rationale": "Injury explained; no offence disclosed."}, follow=True)

    investigation.refresh_from_db()
    assert (investigation.status, investigation.closed_at) == (ReferralStatus.CLOSED, NOW)
    closure = Closure.objects.get(referral=investigation)
    assert (closure.approved_by_id, closure.approved_by_label, closure.approved_at, closure.rationale,
            closure.unmanaged_risk_override) == (supervisor.pk, "DS Sue Perkins DS303", NOW,
                                                 "Injury explained; no offence disclosed.", "")
    entry = investigation.case_log.get(number=investigation.case_log_count)
    assert entry.kind == CaseLogKind.SUPERVISION
    assert entry.text == ("Closure approved by DS Sue Perkins DS303. "
                          "Rationale: Injury explained; no offence disclosed.")
    assert not Reminder.objects.unresolved().filter(referral=investigation).exists()
    assert set(Reminder.objects.filter(referral=investigation).values_list("resolved_at", flat=True)) == {NOW}
    page = response.content.decode()
    assert "approved by DS Sue Perkins DS303" in page
    assert "Approve the closure" not in page


def test_closure_with_an_open_action_is_refused_naming_it(investigation, supervisor, investigator) -> None:
    referral_services.action_create(referral=investigation, actor=supervisor, now=NOW,
                                    description="Obtain the GP records", owner=investigator, due_at=NOW + DAY)
    sweep(now=NOW)
    before = _stored(investigation)
    reminders_before = list(Reminder.objects.filter(referral=investigation).values_list("pk", "state"))

    with pytest.raises(ValidationError) as refused:
        referral_close(referral=investigation, actor=supervisor, now=NOW, rationale="Nothing more to do.")

    assert refused.value.messages == [
        "1 action is still open: Obtain the GP records (DC Ian Vance DC202, due 11/03/2026 10:00)."]
    assert _stored(investigation) == before
    assert list(Reminder.objects.filter(referral=investigation).values_list("pk", "state")) == reminders_before


def test_a_refused_closure_on_the_page_shows_the_reasons_and_stores_nothing(investigation, supervisor,
                                                                           investigator, client) -> None:
    referral_services.action_create(referral=investigation, actor=supervisor, now=NOW,
                                    description="Obtain the GP records", owner=investigator, due_at=NOW + DAY)
    before = _stored(investigation)
    client.force_login(supervisor)

    response = client.post(reverse("supervision:close", args=[investigation.urn]), {"rationale": ""})

    assert response.status_code == 200
    errors = response.content.decode().split('id="closure-errors"')[1].split("</div>")[0]
    assert "Obtain the GP records" in errors
    assert "This field is required." in response.content.decode()
    assert _stored(investigation) == before


def test_an_unmanaged_risk_is_refused_without_a_reason_and_closes_with_one(investigation, supervisor) -> None:
    # The CRAM's summary on the referral, as the risk services keep it: two present risks unmanaged.
    Referral.objects.filter(pk=investigation.pk).update(unmanaged_risk_count=2)
    investigation.refresh_from_db()
    before = _stored(investigation)

    with pytest.raises(ValidationError) as refused:
        referral_close(referral=investigation, actor=supervisor, now=NOW, rationale="Family moved abroad.",
                       unmanaged_risk_override="   ")

    assert list(refused.value.message_dict) == ["unmanaged_risk_override"]
    assert "The current CRAM has 2 unmanaged risks" in refused.value.messages[0]
    assert _stored(investigation) == before

    closure = referral_close(referral=investigation, actor=supervisor, now=NOW, rationale="Family moved abroad.",
                             unmanaged_risk_override="The family has left the UK; Interpol notified.")

    stored = Closure.objects.get(pk=closure.pk)
    assert stored.unmanaged_risk_override == "The family has left the UK; Interpol notified."
    assert "2 unmanaged risks overridden: The family has left the UK; Interpol notified." in (
        investigation.case_log.get(number=investigation.case_log_count).text)


def test_social_services_only_closes_only_once_the_update_is_in(log_referral, assess, supervisor,
                                                                 desk_sergeant) -> None:
    referral = assess(log_referral(now=NOW - DAY), route="social_services_only")
    before = _stored(referral)

    with pytest.raises(ValidationError) as refused:
        referral_close(referral=referral, actor=supervisor, now=NOW, rationale="Social care lead.")

    assert refused.value.messages == ["The update from social services has not been received (due 24/03/2026 10:00)."]
    assert _stored(referral) == before

    referral_services.social_services_update_record(referral=referral, actor=desk_sergeant, now=NOW,
                                                    received_at=NOW, note="Family support plan in place.")
    referral_close(referral=referral, actor=supervisor, now=NOW, rationale="Social care lead.")
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.CLOSED


def test_a_crime_report_needs_the_prosecution_confirmed(log_referral, assess, supervisor, client) -> None:
    referral = assess(log_referral(now=NOW - DAY), crime_report_number="4201234/26")
    before = _stored(referral)

    with pytest.raises(ValidationError) as refused:
        referral_close(referral=referral, actor=supervisor, now=NOW, rationale="Suspect convicted.")

    assert refused.value.message_dict == {"prosecution_concluded": [
        "Crime report 4201234/26 is recorded: confirm that any prosecution has concluded."]}
    assert _stored(referral) == before

    client.force_login(supervisor)
    page = client.get(reverse("supervision:case", args=[referral.urn])).content.decode()
    assert "I confirm any prosecution has concluded" in page
    client.post(reverse("supervision:close", args=[referral.urn]),
                {"rationale": "Suspect convicted.", "prosecution_concluded": "on"})

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CLOSED
    assert "Confirmed that any prosecution on crime report 4201234/26 has concluded." in (
        referral.case_log.get(number=referral.case_log_count).text)


def test_every_unmet_rule_is_listed_at_once(log_referral, assess, supervisor, investigator) -> None:
    """An open action, an unmanaged risk, the missing update, an unconfirmed prosecution, an open
    written-referral prompt and no rationale: one refusal names them all."""
    referral = assess(log_referral(now=NOW - DAY, channel="phone"), route="social_services_only",
                      crime_report_number="4209999/26")
    referral_services.action_create(referral=referral, actor=supervisor, now=NOW, description="Call the school",
                                    owner=investigator, due_at=NOW + DAY)
    Referral.objects.filter(pk=referral.pk).update(unmanaged_risk_count=1)
    referral.refresh_from_db()
    sweep(now=NOW)

    with pytest.raises(ValidationError) as refused:
        referral_close(referral=referral, actor=supervisor, now=NOW, rationale="")

    problems = refused.value.message_dict
    assert problems["rationale"] == ["Give the rationale for closing the referral."]
    assert "Call the school" in problems["__all__"][0]
    assert problems["__all__"][1].startswith(f"Reminders still open: {referral.urn}: written referral not yet received")
    assert problems["__all__"][2].startswith("The update from social services has not been received")
    assert problems["unmanaged_risk_override"][0].startswith("The current CRAM has 1 unmanaged risk ")
    assert problems["prosecution_concluded"] == [
        "Crime report 4209999/26 is recorded: confirm that any prosecution has concluded."]
    assert len(refused.value.messages) == 6


def test_a_reminder_whose_item_is_done_does_not_hold_the_case_open(log_referral, assess, supervisor,
                                                                   desk_sergeant) -> None:
    """The written referral arrives after the sweep made its prompt: closure need not wait for the next sweep."""
    referral = assess(log_referral(now=NOW - DAY, channel="phone"))
    sweep(now=NOW)
    prompt = Reminder.objects.get(referral=referral, kind=ReminderKind.WRITTEN_FOLLOWUP)
    assert [p.rule for p in closure_problems(referral, now=NOW)] == ["reminders"]

    referral_services.written_followup_record(referral=referral, actor=desk_sergeant, now=NOW, received_at=NOW)
    referral_close(referral=referral, actor=supervisor, now=NOW, rationale="No offence disclosed.")

    prompt.refresh_from_db()
    assert (prompt.state, prompt.resolved_at) == (ReminderState.RESOLVED, NOW)


def test_a_child_in_police_protection_holds_the_case_open_until_it_ends(investigation, supervisor) -> None:
    """The police protection prompt is an open reminder; once the protection ends it no longer counts."""
    protection = conference_services.protection_start(
        referral=investigation, actor=supervisor, now=NOW, child=investigation.lead_child, started_at=NOW,
        designated_officer=supervisor, reason="Found alone at home at night.")
    sweep(now=NOW)
    investigation.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        referral_close(referral=investigation, actor=supervisor, now=NOW, rationale="Returned home.")
    assert refused.value.messages == [
        f"Reminders still open: {investigation.urn}: police protection of Amara Okafor must end by "
        "13/03/2026 10:00 (due 13/03/2026 10:00)."]

    conference_services.protection_end(protection=protection, actor=supervisor, now=NOW + DAY, ended_at=NOW + DAY)
    investigation.refresh_from_db()
    referral_close(referral=investigation, actor=supervisor, now=NOW + DAY, rationale="Returned home.")
    assert Referral.objects.get(pk=investigation.pk).status == ReferralStatus.CLOSED


def test_a_referral_closes_once(investigation, supervisor, client) -> None:
    referral_close(referral=investigation, actor=supervisor, now=NOW, rationale="No offence disclosed.")
    before = _stored(investigation)

    with pytest.raises(ValidationError, match="already closed"):
        referral_close(referral=investigation, actor=supervisor, now=NOW + DAY, rationale="Again.")
    client.force_login(supervisor)
    client.post(reverse("supervision:close", args=[investigation.urn]), {"rationale": "Again."})

    assert _stored(investigation) == before
    assert Closure.objects.filter(referral=investigation).count() == 1


def test_only_a_supervisor_approves_closure(investigation, investigator, client) -> None:
    before = _stored(investigation)
    with pytest.raises(PermissionDenied):
        referral_close(referral=investigation, actor=investigator, now=NOW, rationale="Done.")

    client.force_login(investigator)
    response = client.post(reverse("supervision:close", args=[investigation.urn]), {"rationale": "Done."})

    assert response.status_code == 403
    assert _stored(investigation) == before


def test_a_referral_awaiting_assessment_cannot_close(log_referral, supervisor) -> None:
    referral = log_referral(now=NOW - DAY)

    with pytest.raises(ValidationError, match="has not been assessed yet"):
        referral_close(referral=referral, actor=supervisor, now=NOW, rationale="Duplicate.")


# --- Another team ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "method"), [
    ("case", "get"), ("review_add", "post"), ("close", "post"), ("review_add", "get"), ("close", "get"),
])
def test_another_team_gets_404_and_changes_nothing(investigation, other_team_sergeant, client, name, method) -> None:
    """Enfield's sergeant, a supervisor in their own team, cannot see or change Haringey's referral."""
    before = _stored(investigation)
    client.force_login(other_team_sergeant)

    data = {**_review_post(), "rationale": "Closed by Enfield."} if method == "post" else {}
    response = getattr(client, method)(reverse(f"supervision:{name}", args=[investigation.urn]), data, follow=True)

    assert response.status_code == 404
    assert _stored(investigation) == before


# --- Query counts ----------------------------------------------------------------------------------

def _worked(investigation: Referral, supervisor: Officer, investigator: Officer, *, reviews: int) -> Referral:
    """`reviews` reviews, each setting two actions (one then finished), and the sweep's reminders."""
    for number in range(reviews):
        with time_machine.travel(NOW + number * DAY, tick=False):
            moment = NOW + number * DAY
            review = investigation_review_record(
                referral=investigation, actor=supervisor, now=moment, direction=f"Direction {number}.",
                actions=[(f"Task {number}{part}", investigator, moment + DAY) for part in "ab"],
                **QUALITY)
            referral_services.action_finish(action=Action.objects.filter(referral=investigation).latest("pk"),
                                            actor=investigator, now=moment, status="done", note="Done.")
    sweep(now=NOW + reviews * DAY)
    assert review
    return investigation


def test_the_supervision_tab_makes_the_same_queries_for_few_and_many_reviews(
        log_referral, assess, supervisor, investigator, client, django_assert_max_num_queries) -> None:
    few = _worked(assess(log_referral(now=NOW - DAY), crime_report_number="1000001/26"), supervisor, investigator,
                  reviews=1)
    many = _worked(assess(log_referral(now=NOW - DAY), crime_report_number="1000002/26"), supervisor, investigator,
                   reviews=6)

    def count(referral: Referral) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("supervision:case", args=[referral.urn]))
        assert response.status_code == 200
        return len(captured.captured_queries)

    with time_machine.travel(NOW + 10 * DAY, tick=False):
        client.force_login(supervisor)  # sessions expire: sign in on the day
        count(few)  # the first request fills the content-type cache
        assert count(many) == count(few), "the supervision tab's queries grew with the reviews"
        with django_assert_max_num_queries(15):
            page = client.get(reverse("supervision:case", args=[many.urn])).content.decode()
    assert "Direction 5." in page
    assert "6 actions are still open" in page


# --- The database itself ------------------------------------------------------------------------

@requires_postgres
@pytest.mark.parametrize("statement", [
    "UPDATE supervision_supervisoryreview SET direction = 'Rewritten.' WHERE id = %s",
    "DELETE FROM supervision_supervisoryreview WHERE id = %s",
])
def test_the_database_refuses_changes_to_a_review(investigation, supervisor, statement: str) -> None:
    review = _review(investigation, supervisor)

    with pytest.raises(ProgrammingError, match="Cannot update or delete rows from supervision_supervisoryreview"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [review.pk])

    assert SupervisoryReview.objects.get(pk=review.pk).direction == review.direction


@requires_postgres
@pytest.mark.parametrize("statement", [
    "UPDATE supervision_closure SET rationale = 'Rewritten.' WHERE id = %s",
    "DELETE FROM supervision_closure WHERE id = %s",
])
def test_the_database_refuses_changes_to_a_closure(investigation, supervisor, statement: str) -> None:
    closure = referral_close(referral=investigation, actor=supervisor, now=NOW, rationale="No offence disclosed.")

    with pytest.raises(ProgrammingError, match="Cannot update or delete rows from supervision_closure"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [closure.pk])

    assert Closure.objects.get(pk=closure.pk).rationale == "No offence disclosed."
