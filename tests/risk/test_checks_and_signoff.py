"""Systems checks that close intelligence gaps, and the supervisor's sign-off of a CRAM."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from cram_site.calendar import LONDON
from cram_site.models import Officer
from referrals.models import Action, CaseLogKind, Referral
from risk import services
from risk.models import Assessment, SignOff, SystemsCheck
from risk.services import AnswerInput, AssessmentInput, SignOffInput
from tests.conftest import requires_postgres

# A Tuesday in March, before the clocks change: London is on GMT.
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
CHECKED = dt.datetime(2026, 3, 11, 9, 15, tzinfo=dt.UTC)
RECORDED = dt.datetime(2026, 3, 11, 9, 45, tzinfo=dt.UTC)
SIGNED = dt.datetime(2026, 3, 12, 15, 0, tzinfo=dt.UTC)

PREVIOUS_INJURIES = "Has the child had previous injuries or referrals?"

pytestmark = pytest.mark.django_db


def complete(referral: Referral, actor: Officer, now: dt.datetime, kind: str = "initial",
             **values: str) -> Assessment:
    """Start and complete a CRAM: every factor "no" except those given, rated as the matrix suggests."""
    assessment = services.assessment_start(referral=referral, kind=kind, actor=actor, now=now)
    answers = {a.code: AnswerInput("no") for a in assessment.answers.all()}
    answers.update({code: AnswerInput(value) for code, value in values.items()})
    data = AssessmentInput(revision=assessment.revision, answers=answers, rating="standard")
    return services.assessment_save(assessment=assessment, data=data, actor=actor, now=now, complete=True)


def with_gaps(referral: Referral, actor: Officer, now: dt.datetime = NOW, kind: str = "initial") -> Assessment:
    return complete(referral, actor, now, kind, previous_injuries="not_known", domestic_abuse="not_known")


def record_check(referral: Referral, actor: Officer, **fields: object) -> SystemsCheck:
    fields.setdefault("system", "cris")
    fields.setdefault("result", "Two previous referrals from the hospital, 2024.")
    fields.setdefault("checked_at", CHECKED)
    fields.setdefault("anything_new", True)
    fields.setdefault("now", RECORDED)
    return services.systems_check_record(referral=referral, actor=actor, **fields)


def agreed(**fields: str) -> SignOffInput:
    values = dict(decision="agreed", rating_justified="yes", gaps_addressed="partly", measures_adequate="yes",
                  actions_timely="no", comments="Rating right; chase the CRIS check.")
    values.update(fields)
    return SignOffInput(**values)


def gap_count(referral: Referral) -> int:
    return Referral.objects.get(pk=referral.pk).gap_count


# --- Systems checks ---------------------------------------------------------------------------------


@time_machine.travel(RECORDED, tick=False)
def test_a_check_closes_a_gap_of_the_current_cram(log_referral, desk_sergeant: Officer,
                                                  investigator: Officer) -> None:
    """The check is stored, answers the gap, lowers the referral's gap count and is logged as research."""
    referral = log_referral(now=NOW)
    assessment = with_gaps(referral, desk_sergeant)
    assert gap_count(referral) == 2
    gap = assessment.answers.get(code="previous_injuries")

    check = record_check(referral, investigator, subject="Amara Okafor", closes=[gap])

    stored = SystemsCheck.objects.get(pk=check.pk)
    assert (stored.system, stored.checked_by, stored.checked_by_label, stored.checked_at, stored.recorded_at) == (
        "cris", investigator, "DC Ian Vance DC202", CHECKED, RECORDED)
    assert list(stored.closes_gaps.all()) == [gap]
    assert gap_count(referral) == 1
    entry = referral.case_log.order_by("number").last()
    assert (entry.kind, entry.author, entry.occurred_at, entry.recorded_at) == (
        CaseLogKind.RESEARCH, investigator, CHECKED, RECORDED)
    assert entry.text == ("CRIS check on Amara Okafor: Two previous referrals from the hospital, 2024. "
                          f"New information since the previous check. Closes the gap(s): {PREVIOUS_INJURIES}")


@time_machine.travel(RECORDED, tick=False)
def test_a_check_that_closes_nothing_is_still_logged(log_referral, desk_sergeant: Officer,
                                                     investigator: Officer) -> None:
    """A routine check leaves the gaps open but is on the case log."""
    referral = log_referral(now=NOW)
    with_gaps(referral, desk_sergeant)

    record_check(referral, investigator, system="pnc", result="No trace.", anything_new=False)

    assert gap_count(referral) == 2
    entry = referral.case_log.order_by("number").last()
    assert (entry.kind, entry.text) == (CaseLogKind.RESEARCH, "PNC check: No trace.")


@time_machine.travel(RECORDED, tick=False)
def test_closing_an_answer_that_is_not_a_gap_is_refused(log_referral, desk_sergeant: Officer,
                                                        investigator: Officer) -> None:
    """Only "not known" answers can be closed; nothing is stored or logged."""
    referral = log_referral(now=NOW)
    assessment = with_gaps(referral, desk_sergeant)
    log_count = referral.case_log.count()

    with pytest.raises(ValidationError) as refused:
        record_check(referral, investigator, closes=[assessment.answers.get(code="missing")])

    assert refused.value.message_dict == {"closes": ["Only gaps of the current CRAM can be closed by a check."]}
    assert not SystemsCheck.objects.exists()
    assert referral.case_log.count() == log_count
    assert gap_count(referral) == 2


@time_machine.travel(RECORDED, tick=False)
def test_closing_a_gap_of_an_older_cram_is_refused(log_referral, desk_sergeant: Officer,
                                                   investigator: Officer) -> None:
    """Once a review is completed, the initial CRAM's gaps are history: the review's own gap is the one to close."""
    referral = log_referral(now=NOW)
    initial = with_gaps(referral, desk_sergeant)
    review = with_gaps(referral, desk_sergeant, now=NOW + dt.timedelta(hours=1), kind="review")

    with pytest.raises(ValidationError):
        record_check(referral, investigator, closes=[initial.answers.get(code="previous_injuries")])

    assert not SystemsCheck.objects.exists()
    assert gap_count(referral) == 2
    record_check(referral, investigator, closes=[review.answers.get(code="previous_injuries")])
    assert gap_count(referral) == 1


@time_machine.travel(RECORDED, tick=False)
def test_a_check_in_the_future_is_refused(log_referral, desk_sergeant: Officer, investigator: Officer) -> None:
    """A check made a minute from now has not happened yet; one made just now is fine."""
    referral = log_referral(now=NOW)
    assessment = with_gaps(referral, desk_sergeant)
    gap = assessment.answers.get(code="previous_injuries")

    with pytest.raises(ValidationError) as refused:
        record_check(referral, investigator, checked_at=RECORDED + dt.timedelta(minutes=1), closes=[gap])

    assert refused.value.message_dict == {"checked_at": ["A check cannot be made in the future."]}
    assert not SystemsCheck.objects.exists()
    record_check(referral, investigator, checked_at=RECORDED, closes=[gap])
    assert gap_count(referral) == 1


@pytest.mark.parametrize("result", ["", "   "])
@time_machine.travel(RECORDED, tick=False)
def test_a_check_without_a_result_is_refused(log_referral, desk_sergeant: Officer, investigator: Officer,
                                             result: str) -> None:
    """Even "nothing found" must be written down."""
    referral = log_referral(now=NOW)
    with_gaps(referral, desk_sergeant)

    with pytest.raises(ValidationError) as refused:
        record_check(referral, investigator, result=result)

    assert refused.value.message_dict == {"result": ["Record what the check found, even if nothing."]}
    assert not SystemsCheck.objects.exists()


# --- Sign-off -----------------------------------------------------------------------------------------


@time_machine.travel(SIGNED, tick=False)
def test_a_supervisors_sign_off_is_stored_logged_and_clears_the_due_date(log_referral, desk_sergeant: Officer,
                                                                         supervisor: Officer) -> None:
    """The quality answers go into a supervision entry; the referral no longer awaits sign-off."""
    referral = log_referral(now=NOW)
    assessment = with_gaps(referral, desk_sergeant)
    assert Referral.objects.get(pk=referral.pk).cram_signoff_due_at == dt.datetime(2026, 3, 13, 10, 0,
                                                                                   tzinfo=dt.UTC)
    assert list(Assessment.objects.awaiting_signoff()) == [assessment]

    signoff = services.assessment_sign_off(assessment=assessment, actor=supervisor, now=SIGNED, data=agreed())

    stored = SignOff.objects.get(assessment=assessment)
    assert stored == signoff
    assert (stored.supervisor, stored.supervisor_label, stored.signed_at, stored.decision) == (
        supervisor, "DS Sue Perkins DS303", SIGNED, "agreed")
    assert stored.quality_score == 2 + 1 + 2 + 0
    assert Referral.objects.get(pk=referral.pk).cram_signoff_due_at is None
    assert not Assessment.objects.awaiting_signoff().exists()
    entry = referral.case_log.order_by("number").last()
    assert (entry.kind, entry.author) == (CaseLogKind.SUPERVISION, supervisor)
    assert entry.text == ("CRAM 1 signed off: agreed. Quality: rating justified yes, gaps addressed partly, "
                          "control measures adequate yes, actions timely no. Rating right; chase the CRIS check.")
    assert not Action.objects.filter(referral=referral).exists()


def test_a_late_sign_off_says_so(log_referral, desk_sergeant: Officer, supervisor: Officer) -> None:
    """Signed at the due minute it is on time; a minute later the entry records it was late."""
    with time_machine.travel(NOW, tick=False):
        referral = log_referral()
        on_time = with_gaps(referral, desk_sergeant)
    due = on_time.signoff_due_at
    assert due == dt.datetime(2026, 3, 13, 10, 0, tzinfo=LONDON)
    with time_machine.travel(due, tick=False):
        services.assessment_sign_off(assessment=on_time, actor=supervisor, now=due, data=agreed())
    assert "(after the sign-off date)" not in referral.case_log.order_by("number").last().text

    with time_machine.travel(due, tick=False):
        late = with_gaps(referral, desk_sergeant, now=due, kind="review")
    late_moment = late.signoff_due_at + dt.timedelta(minutes=1)
    with time_machine.travel(late_moment, tick=False):
        services.assessment_sign_off(assessment=late, actor=supervisor, now=late_moment, data=agreed())
    assert referral.case_log.order_by("number").last().text.startswith(
        "CRAM 2 signed off: agreed (after the sign-off date).")


@time_machine.travel(SIGNED, tick=False)
def test_a_draft_cannot_be_signed_off(log_referral, desk_sergeant: Officer, supervisor: Officer) -> None:
    """Only a completed CRAM is signed off."""
    referral = log_referral(now=NOW)
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)

    with pytest.raises(ValidationError) as refused:
        services.assessment_sign_off(assessment=draft, actor=supervisor, now=SIGNED, data=agreed())

    assert refused.value.messages == ["Only a completed CRAM can be signed off."]
    assert not SignOff.objects.exists()


@time_machine.travel(SIGNED, tick=False)
def test_a_cram_is_signed_off_once(log_referral, desk_sergeant: Officer, supervisor: Officer,
                                   investigator: Officer) -> None:
    """A second sign-off is refused, and leaves the first and the log as they were."""
    referral = log_referral(now=NOW)
    assessment = with_gaps(referral, desk_sergeant)
    services.assessment_sign_off(assessment=assessment, actor=supervisor, now=SIGNED, data=agreed())
    log_count = referral.case_log.count()

    with pytest.raises(ValidationError) as refused:
        services.assessment_sign_off(assessment=assessment, actor=investigator, now=SIGNED,
                                     data=agreed(decision="changes_directed", comments="Redo it."))

    assert refused.value.messages == ["This CRAM has already been signed off."]
    assert SignOff.objects.get().supervisor == supervisor
    assert referral.case_log.count() == log_count
    assert not Action.objects.exists()


@time_machine.travel(SIGNED, tick=False)
def test_the_officer_who_completed_a_cram_cannot_sign_it_off(log_referral, supervisor: Officer) -> None:
    """A supervisor who completed the CRAM themselves needs another supervisor to sign it off."""
    referral = log_referral(now=NOW)
    assessment = with_gaps(referral, supervisor)

    with pytest.raises(ValidationError) as refused:
        services.assessment_sign_off(assessment=assessment, actor=supervisor, now=SIGNED, data=agreed())

    assert refused.value.messages == [
        "A CRAM is signed off by a supervisor other than the officer who completed it."]
    assert not SignOff.objects.exists()
    assert Referral.objects.get(pk=referral.pk).cram_signoff_due_at is not None


@time_machine.travel(SIGNED, tick=False)
def test_a_sign_off_without_comments_is_refused(log_referral, desk_sergeant: Officer, supervisor: Officer) -> None:
    """The supervisor says why, even when agreeing."""
    referral = log_referral(now=NOW)
    assessment = with_gaps(referral, desk_sergeant)

    with pytest.raises(ValidationError):
        services.assessment_sign_off(assessment=assessment, actor=supervisor, now=SIGNED, data=agreed(comments=" "))

    assert not SignOff.objects.exists()


@time_machine.travel(SIGNED, tick=False)
def test_changes_directed_sets_an_action_for_the_completing_officer(log_referral, desk_sergeant: Officer,
                                                                    supervisor: Officer) -> None:
    """The officer who completed the CRAM is given an action to revise it, due in 3 working days."""
    referral = log_referral(now=NOW)
    assessment = with_gaps(referral, desk_sergeant)

    services.assessment_sign_off(assessment=assessment, actor=supervisor, now=SIGNED,
                                 data=agreed(decision="changes_directed", rating_justified="no",
                                             comments="Weapon injury not considered; re-rate."))

    action = Action.objects.get(referral=referral)
    assert (action.owner, action.created_by, action.status) == (desk_sergeant, supervisor, "open")
    assert action.description == "Revise the CRAM as directed at sign-off: Weapon injury not considered; re-rate."
    # Thursday 12 March 15:00 plus three working days: Tuesday 17 March 15:00.
    assert action.due_at == dt.datetime(2026, 3, 17, 15, 0, tzinfo=LONDON)
    assert "signed off: changes directed" in referral.case_log.filter(kind=CaseLogKind.SUPERVISION).get().text


@requires_postgres
@pytest.mark.parametrize(("statement", "message"), [
    ("UPDATE risk_signoff SET decision = 'changes_directed' WHERE id = %s",
     "Cannot update or delete rows from risk_signoff"),
    ("DELETE FROM risk_signoff WHERE id = %s", "Cannot update or delete rows from risk_signoff"),
])
@time_machine.travel(SIGNED, tick=False)
def test_the_database_refuses_changes_to_a_sign_off(log_referral, desk_sergeant: Officer, supervisor: Officer,
                                                    statement: str, message: str) -> None:
    """A sign-off is append-only in the database, whatever SQL is sent."""
    referral = log_referral(now=NOW)
    assessment = with_gaps(referral, desk_sergeant)
    signoff = services.assessment_sign_off(assessment=assessment, actor=supervisor, now=SIGNED, data=agreed())

    with pytest.raises(ProgrammingError, match=message):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [signoff.pk])

    assert SignOff.objects.get(pk=signoff.pk).decision == "agreed"
