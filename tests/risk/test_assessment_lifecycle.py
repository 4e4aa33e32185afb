"""A CRAM from start to completion: prefilled drafts, refusals that store nothing, completion,
immutability (in the services and in the database), compare-and-swap, reviews and the diff."""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from cram_site.calendar import LONDON
from cram_site.models import Officer
from referrals.models import Action, CaseLogEntry, CaseLogKind, Referral
from risk import services
from risk.diff import assessment_diff
from risk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    ControlMeasure,
    PlannedAction,
    RiskFactor,
)
from risk.services import AnswerInput, AssessmentInput, MeasureInput, PlannedActionInput, StaleDraftError
from tests.conftest import requires_postgres

# A Tuesday in March, before the clocks change: London is on GMT.
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 4, 20, 11, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


# --- Helpers --------------------------------------------------------------------------------------


def answers_for(assessment: Assessment, **values: str) -> dict[str, AnswerInput]:
    """Every factor answered "no", except those given."""
    answers = {a.code: AnswerInput("no") for a in assessment.answers.all()}
    answers.update({code: AnswerInput(value) for code, value in values.items()})
    return answers


def save(assessment: Assessment, actor: Officer, now: dt.datetime, *, complete: bool = False,
         **fields: object) -> Assessment:
    fields.setdefault("revision", assessment.revision)
    fields.setdefault("answers", answers_for(assessment))
    fields.setdefault("rating", "standard")
    return services.assessment_save(assessment=assessment, data=AssessmentInput(**fields), actor=actor, now=now,
                                    complete=complete)


def complete_initial(referral: Referral, actor: Officer, now: dt.datetime = NOW, **fields: object) -> Assessment:
    assessment = services.assessment_start(referral=referral, kind="initial", actor=actor, now=now)
    return save(assessment, actor, now, complete=True, **fields)


def stored_answers(assessment: Assessment) -> dict[str, str]:
    return dict(Answer.objects.filter(assessment=assessment).values_list("code", "value"))


def current_factor_codes() -> set[str]:
    return set(services.catalogue_current().factors.values_list("code", flat=True))


# --- Starting -------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_an_initial_cram_starts_with_every_factor_of_the_current_catalogue(log_referral,
                                                                           desk_sergeant: Officer) -> None:
    """The draft holds one unanswered answer per factor, with the factor's wording copied onto it."""
    referral = log_referral()

    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)

    catalogue = services.catalogue_current()
    stored = Assessment.objects.get(pk=draft.pk)
    assert (stored.number, stored.kind, stored.status, stored.revision) == (1, "initial", "draft", 0)
    assert stored.catalogue_version == catalogue
    assert stored.previous is None
    assert set(stored_answers(stored)) == current_factor_codes()
    assert set(stored_answers(stored).values()) == {""}
    weapon = stored.answers.get(code="weapon_injury")
    factor = RiskFactor.objects.get(version=catalogue, code="weapon_injury")
    assert (weapon.question, weapon.weight, weapon.section, weapon.factor_id) == (
        factor.question, factor.weight, "child", factor.pk)


@time_machine.travel(NOW, tick=False)
def test_a_second_draft_is_refused_while_one_is_open(log_referral, desk_sergeant: Officer,
                                                     investigator: Officer) -> None:
    """Another officer is told to continue the open draft; no second assessment or answers are stored."""
    referral = log_referral()
    services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    answers_before = Answer.objects.count()

    with pytest.raises(ValidationError) as refused:
        services.assessment_start(referral=referral, kind="initial", actor=investigator, now=NOW)

    assert refused.value.messages == ["A draft CRAM is already open on this referral: continue that one."]
    assert Assessment.objects.filter(referral=referral).count() == 1
    assert Answer.objects.count() == answers_before


@time_machine.travel(NOW, tick=False)
def test_the_first_cram_must_be_the_initial_one(log_referral, desk_sergeant: Officer) -> None:
    """A review cannot be the first CRAM of a referral."""
    referral = log_referral()

    with pytest.raises(ValidationError) as refused:
        services.assessment_start(referral=referral, kind="review", actor=desk_sergeant, now=NOW)

    assert refused.value.message_dict == {"kind": ["The first CRAM of a referral is the initial assessment."]}
    assert not Assessment.objects.filter(referral=referral).exists()


@time_machine.travel(NOW, tick=False)
def test_a_second_initial_cram_is_refused(log_referral, desk_sergeant: Officer) -> None:
    """Once the initial CRAM is done, the next is a review, pre-conference, change or closure."""
    referral = log_referral()
    complete_initial(referral, desk_sergeant)

    with pytest.raises(ValidationError) as refused:
        services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)

    assert "The initial CRAM is done" in refused.value.message_dict["kind"][0]
    assert Assessment.objects.filter(referral=referral).count() == 1


# --- Refusals on completion store nothing ---------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_completing_with_unanswered_factors_is_refused_and_stores_nothing(log_referral, desk_sergeant: Officer,
                                                                          investigator: Officer) -> None:
    """Each unanswered factor gets its own message; answers, measures, actions and status stay as they were."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    answers = answers_for(draft, suspect_access="yes")
    del answers["missing"]
    answers["home_conditions"] = AnswerInput("")
    log_count = referral.case_log.count()

    with pytest.raises(ValidationError) as refused:
        save(draft, desk_sergeant, NOW, complete=True, answers=answers, rating="medium",
             measures=[MeasureInput("bail_conditions", "Police", "active", ["suspect_access"])],
             planned_actions=[PlannedActionInput("Visit the school.", investigator, NOW + dt.timedelta(days=1))])

    problems = refused.value.message_dict
    assert problems == {
        "answer-missing": ["Answer this factor: yes, no or not known."],
        "answer-home_conditions": ["Answer this factor: yes, no or not known."],
    }
    stored = Assessment.objects.get(pk=draft.pk)
    assert (stored.status, stored.revision, stored.rating, stored.completed_at) == ("draft", 0, "", None)
    assert set(stored_answers(stored).values()) == {""}
    assert not ControlMeasure.objects.filter(assessment=stored).exists()
    assert not PlannedAction.objects.filter(assessment=stored).exists()
    assert not Action.objects.filter(referral=referral).exists()
    assert referral.case_log.count() == log_count
    assert Referral.objects.get(pk=referral.pk).rating == ""


@time_machine.travel(NOW, tick=False)
def test_completing_with_an_action_for_an_officer_of_another_team_stores_nothing(
        log_referral, desk_sergeant: Officer, investigator: Officer, other_team_sergeant: Officer) -> None:
    """An action the case cannot take stops the whole completion: no status change, no revision,
    no other action, no case-log entry."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    log_count = referral.case_log.count()

    with pytest.raises(ValidationError) as refused:
        save(draft, desk_sergeant, NOW, complete=True, planned_actions=[
            PlannedActionInput("Visit the school.", investigator, NOW + dt.timedelta(days=1)),
            PlannedActionInput("Check Enfield records.", other_team_sergeant, NOW + dt.timedelta(days=1)),
        ])

    assert refused.value.message_dict == {"owner": ["DS Owen Tate DS909 is not in team HY."]}
    stored = Assessment.objects.get(pk=draft.pk)
    assert (stored.status, stored.revision, stored.rating) == ("draft", 0, "")
    assert set(stored_answers(stored).values()) == {""}
    assert not PlannedAction.objects.filter(assessment=stored).exists()
    assert not Action.objects.filter(referral=referral).exists()
    assert referral.case_log.count() == log_count


@time_machine.travel(NOW, tick=False)
def test_a_rating_other_than_the_suggestion_needs_a_rationale(log_referral, desk_sergeant: Officer) -> None:
    """Setting standard where the matrix suggests high is refused without a rationale, accepted with one."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    answers = answers_for(draft, suspect_rso_mappa="yes")
    measures = [MeasureInput("suspect_out", "Police", "active", ["suspect_rso_mappa"])]

    with pytest.raises(ValidationError) as refused:
        save(draft, desk_sergeant, NOW, complete=True, answers=answers, measures=measures, rating="standard",
             rating_rationale="   ")

    assert refused.value.message_dict == {
        "rating_rationale": ["Give the rationale for a rating that differs from the suggested one."]}
    assert Assessment.objects.get(pk=draft.pk).status == "draft"

    save(draft, desk_sergeant, NOW, complete=True, answers=answers, measures=measures, rating="medium",
         rating_rationale="Offender manager confirms he has moved to Leeds.")

    stored = Assessment.objects.get(pk=draft.pk)
    assert (stored.status, stored.suggested_rating, stored.rating) == ("completed", "high", "medium")
    assert ("rating MEDIUM (matrix suggested high; rationale: Offender manager confirms he has moved to Leeds.)"
            in referral.case_log.filter(kind=CaseLogKind.DECISION).last().text)


@time_machine.travel(NOW, tick=False)
def test_a_control_measure_linked_to_no_factor_is_refused(log_referral, desk_sergeant: Officer) -> None:
    """A measure must say which risk it manages, even on a plain save of the draft."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)

    with pytest.raises(ValidationError) as refused:
        save(draft, desk_sergeant, NOW, measures=[MeasureInput("safety_plan", "Children's social care", "active", [])])

    assert refused.value.message_dict == {
        "measure-0": ["Link the control measure to the risk factor(s) it manages."]}
    assert not ControlMeasure.objects.filter(assessment=draft).exists()
    assert Assessment.objects.get(pk=draft.pk).revision == 0


# --- Completion ------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_completion_writes_the_log_actions_due_dates_and_the_referrals_risk_summary(
        log_referral, desk_sergeant: Officer, investigator: Officer) -> None:
    """Completing logs the decision, turns planned actions into case actions, and sets the review
    (42 days, same London wall-clock time across the March clock change) and sign-off (3 working days)."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    visit_due = dt.datetime(2026, 3, 11, 17, 0, tzinfo=LONDON)
    medical_due = dt.datetime(2026, 3, 10, 16, 0, tzinfo=LONDON)
    answers = answers_for(draft, weapon_injury="yes", suspect_access="yes", suspect_violence="yes",
                          previous_injuries="not_known", domestic_abuse="not_known", disability="yes")

    save(draft, desk_sergeant, NOW, complete=True, answers=answers, rating="high",
         decisions="Strategy discussion today; joint visit.",
         measures=[MeasureInput("bail_conditions", "Police", "active", ["suspect_access"]),
                   MeasureInput("cp_plan", "Children's social care", "proposed", ["weapon_injury"])],
         planned_actions=[PlannedActionInput("Joint visit with social care.", investigator, visit_due),
                          PlannedActionInput("Book a paediatric examination.", desk_sergeant, medical_due)])

    stored = Assessment.objects.get(pk=draft.pk)
    assert stored.status == AssessmentStatus.COMPLETED
    assert (stored.completed_by, stored.completed_by_label, stored.completed_at) == (
        desk_sergeant, "DS Dawn Price DS101", NOW)
    # 42 days on: 21 April at 10:00 London time, now BST, so 09:00 UTC.
    assert stored.next_review_due_at == dt.datetime(2026, 4, 21, 10, 0, tzinfo=LONDON)
    assert stored.next_review_due_at == dt.datetime(2026, 4, 21, 9, 0, tzinfo=dt.UTC)
    # Three working days from Tuesday: Friday at the same time.
    assert stored.signoff_due_at == dt.datetime(2026, 3, 13, 10, 0, tzinfo=dt.UTC)

    actions = list(Action.objects.filter(referral=referral).order_by("due_at"))
    assert [(a.description, a.owner, a.due_at, a.status, a.created_by) for a in actions] == [
        ("Book a paediatric examination.", desk_sergeant, medical_due, "open", desk_sergeant),
        ("Joint visit with social care.", investigator, visit_due, "open", desk_sergeant),
    ]
    assert {p.action_id for p in stored.planned_actions.all()} == {a.pk for a in actions}

    referral = Referral.objects.get(pk=referral.pk)
    assert (referral.rating, referral.gap_count, referral.unmanaged_risk_count) == ("high", 2, 2)
    assert referral.cram_review_due_at == stored.next_review_due_at
    assert referral.cram_signoff_due_at == stored.signoff_due_at
    entry = referral.case_log.get(kind=CaseLogKind.DECISION)
    assert entry.author == desk_sergeant
    assert entry.text == (
        "CRAM 1 (initial) completed: rating HIGH. Intelligence gaps: 2. Unmanaged risks: 2 "
        "(Was an injury caused with a weapon or implement?; Does a suspect have a history of violence?). "
        "Next review due 21/04/2026; sign-off due 13/03/2026."
    )


@time_machine.travel(NOW, tick=False)
def test_a_completed_assessment_cannot_be_saved_again(log_referral, desk_sergeant: Officer) -> None:
    """Saving over a completed CRAM, even with its current revision, is refused and changes nothing."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    completed = save(draft, desk_sergeant, NOW, complete=True)
    stored = Assessment.objects.get(pk=completed.pk)

    with pytest.raises(StaleDraftError) as refused:
        save(stored, desk_sergeant, NOW, answers=answers_for(stored, suspect_access="yes"), rating="high",
             rating_rationale="Rewritten.")

    assert "completed" in refused.value.messages[0]
    again = Assessment.objects.get(pk=completed.pk)
    assert (again.rating, again.rating_rationale, again.revision) == ("standard", "", stored.revision)
    assert set(stored_answers(again).values()) == {"no"}


# --- The database keeps a completed assessment frozen -------------------------------------------------


FROZEN_STATEMENTS = [
    ("UPDATE risk_assessment SET rating = 'standard' WHERE id = %(assessment)s",
     "Cannot update rows from risk_assessment"),
    ("UPDATE risk_assessment SET status = 'draft' WHERE id = %(assessment)s",
     "Cannot update rows from risk_assessment"),
    ("DELETE FROM risk_assessment WHERE id = %(assessment)s", "Cannot delete rows from risk_assessment"),
    ("UPDATE risk_answer SET value = 'no' WHERE assessment_id = %(assessment)s",
     r"A completed assessment cannot be changed \(risk_answer\)"),
    ("DELETE FROM risk_answer WHERE assessment_id = %(assessment)s",
     r"A completed assessment cannot be changed \(risk_answer\)"),
    ("INSERT INTO risk_answer (assessment_id, factor_id, code, section, position, question, weight, contextual, "
     "closing_check, value, note, source) SELECT assessment_id, factor_id, 'extra', section, position, question, "
     "weight, contextual, closing_check, 'yes', '', '' FROM risk_answer WHERE assessment_id = %(assessment)s LIMIT 1",
     r"A completed assessment cannot be changed \(risk_answer\)"),
    ("UPDATE risk_controlmeasure SET status = 'ended' WHERE assessment_id = %(assessment)s",
     r"A completed assessment cannot be changed \(risk_controlmeasure\)"),
    ("DELETE FROM risk_controlmeasure WHERE assessment_id = %(assessment)s",
     r"A completed assessment cannot be changed \(risk_controlmeasure\)"),
    ("INSERT INTO risk_controlmeasure (assessment_id, kind, description, owner_agency, status, factor_codes) "
     "VALUES (%(assessment)s, 'other', 'Added later', 'Police', 'active', '[\"weapon_injury\"]')",
     r"A completed assessment cannot be changed \(risk_controlmeasure\)"),
]


@requires_postgres
@pytest.mark.parametrize(("statement", "message"), FROZEN_STATEMENTS,
                         ids=[s.split(" WHERE")[0][:40] for s, _m in FROZEN_STATEMENTS])
@time_machine.travel(NOW, tick=False)
def test_the_database_refuses_raw_sql_changes_to_a_completed_assessment(log_referral, desk_sergeant: Officer,
                                                                         statement: str, message: str) -> None:
    """Even SQL that goes round the services is refused by triggers (a PL/pgSQL RAISE: ProgrammingError)."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    answers = answers_for(draft, weapon_injury="yes")
    completed = save(draft, desk_sergeant, NOW, complete=True, answers=answers, rating="medium",
                     measures=[MeasureInput("cp_plan", "Children's social care", "active", ["weapon_injury"])])
    before_answers = stored_answers(completed)
    before_measures = list(ControlMeasure.objects.filter(assessment=completed).values_list("status", "description"))

    with pytest.raises(ProgrammingError, match=message):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, {"assessment": completed.pk})

    stored = Assessment.objects.get(pk=completed.pk)
    assert (stored.status, stored.rating) == ("completed", "medium")
    assert stored_answers(stored) == before_answers
    assert list(ControlMeasure.objects.filter(assessment=stored).values_list("status", "description")) == (
        before_measures)


@requires_postgres
@time_machine.travel(NOW, tick=False)
def test_the_database_refuses_deleting_even_a_draft_but_lets_its_answers_change(log_referral,
                                                                               desk_sergeant: Officer) -> None:
    """No assessment is ever deleted; a draft's own rows are still open to change."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)

    with pytest.raises(ProgrammingError, match="Cannot delete rows from risk_assessment"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM risk_assessment WHERE id = %s", [draft.pk])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE risk_answer SET value = 'yes' WHERE assessment_id = %s AND code = 'missing'",
                       [draft.pk])

    assert Assessment.objects.filter(pk=draft.pk).exists()
    assert stored_answers(draft)["missing"] == "yes"


# --- Compare and swap -------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_second_of_two_officers_saving_the_same_draft_is_told_and_stores_nothing(
        log_referral, desk_sergeant: Officer, investigator: Officer) -> None:
    """Both opened revision 0; the first save wins, the second is refused with a message to reload."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    sergeants_copy = Assessment.objects.get(pk=draft.pk)
    investigators_copy = Assessment.objects.get(pk=draft.pk)
    assert sergeants_copy.revision == investigators_copy.revision == 0

    save(sergeants_copy, desk_sergeant, NOW, answers=answers_for(sergeants_copy, suspect_access="yes"),
         decisions="Sergeant's decisions.")
    with pytest.raises(StaleDraftError) as refused:
        save(investigators_copy, investigator, NOW + dt.timedelta(minutes=5),
             answers=answers_for(investigators_copy, suspect_access="no", missing="yes"),
             decisions="Investigator's decisions.", revision=0)

    assert refused.value.messages == ["Someone else saved this draft while you were working on it. "
                                      "Your entries are below, not saved: reload to see theirs."]
    stored = Assessment.objects.get(pk=draft.pk)
    assert (stored.revision, stored.decisions, stored.updated_at) == (1, "Sergeant's decisions.", NOW)
    assert (stored_answers(stored)["suspect_access"], stored_answers(stored)["missing"]) == ("yes", "no")


def _in_threads(count: int, work: Callable[[int], object]) -> tuple[list[object], list[BaseException]]:
    """Run `work(i)` in `count` threads released together; each thread closes its own connection."""
    barrier = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcome = work(index)
            with lock:
                results.append(outcome)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_officers_completing_at_once_complete_it_exactly_once(log_referral, desk_sergeant: Officer,
                                                                  investigator: Officer) -> None:
    """Two officers press "complete" on the same revision at the same moment: one completes, the other
    is told it was completed; one case-log entry, one set of actions."""
    with time_machine.travel(NOW, tick=False):
        referral = log_referral()
        draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
        officers = [desk_sergeant, investigator]

        def complete(index: int) -> str:
            own_copy = Assessment.objects.get(pk=draft.pk)
            save(own_copy, officers[index], NOW, complete=True, revision=0,
                 planned_actions=[PlannedActionInput(f"Action from officer {index}.", officers[index],
                                                     NOW + dt.timedelta(days=1))])
            return officers[index].username

        results, errors = _in_threads(2, complete)

    assert len(results) == 1, errors
    assert [type(e) for e in errors] == [StaleDraftError]
    assert "completed by someone else" in errors[0].messages[0]
    stored = Assessment.objects.get(pk=draft.pk)
    assert stored.status == "completed"
    assert stored.completed_by.username == results[0]
    assert stored.revision == 1
    assert CaseLogEntry.objects.filter(referral=referral, kind=CaseLogKind.DECISION).count() == 1
    assert Action.objects.filter(referral=referral).count() == 1


# --- The next review -----------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_review_starts_prefilled_from_the_last_completed_cram(log_referral, desk_sergeant: Officer,
                                                                investigator: Officer) -> None:
    """Answers and live measures carry over; ended measures don't; a gap since answered by a check
    comes back blank with the check's result in the note, for the officer to answer afresh."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    answers = answers_for(draft, suspect_access="yes", suspect_violence="not_known", domestic_abuse="not_known")
    answers["weapon_injury"] = AnswerInput("yes", note="Belt marks on the arm.", source="Nursery")
    initial = save(draft, desk_sergeant, NOW, complete=True, answers=answers, rating="high",
                   decisions="Strategy discussion held.",
                   measures=[MeasureInput("bail_conditions", "Police", "active", ["suspect_access"]),
                             MeasureInput("cp_plan", "Children's social care", "proposed", ["weapon_injury"]),
                             MeasureInput("supervised_contact", "Children's social care", "ended",
                                          ["weapon_injury"])])
    check_time = dt.datetime(2026, 3, 12, 14, 30, tzinfo=dt.UTC)
    services.systems_check_record(referral=referral, actor=investigator, now=check_time + dt.timedelta(hours=1),
                                  system="pnc", result="Two cautions for assault, 2019.", checked_at=check_time,
                                  anything_new=True, closes=[initial.answers.get(code="suspect_violence")])

    review = services.assessment_start(referral=referral, kind="review", actor=investigator, now=LATER)

    assert (review.number, review.kind, review.previous_id, review.decisions) == (
        2, "review", initial.pk, "Strategy discussion held.")
    values = stored_answers(review)
    assert values["suspect_access"] == "yes"
    assert values["domestic_abuse"] == "not_known"
    assert values["suspect_violence"] == ""
    weapon = review.answers.get(code="weapon_injury")
    assert (weapon.value, weapon.note, weapon.source) == ("yes", "Belt marks on the arm.", "Nursery")
    violence = review.answers.get(code="suspect_violence")
    assert violence.note == "PNC check 12/03/2026: Two cautions for assault, 2019."
    assert violence.source == "PNC"
    assert sorted(review.control_measures.values_list("kind", "status")) == [
        ("bail_conditions", "active"), ("cp_plan", "proposed")]
    # The weapon injury (7) and the suspect's access (4) still score 11 until answered afresh.
    assert Assessment.objects.get(pk=review.pk).suggested_rating == "high"


@time_machine.travel(NOW, tick=False)
def test_the_diff_shows_what_changed_since_the_previous_cram(log_referral, desk_sergeant: Officer,
                                                             investigator: Officer) -> None:
    """Changed answers, gaps opened and closed, measures added, removed and changed, and the rating."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    initial = save(draft, desk_sergeant, NOW, complete=True, rating="medium", rating_rationale="Young child.",
                   answers=answers_for(draft, suspect_access="yes", previous_injuries="not_known"),
                   measures=[MeasureInput("bail_conditions", "Police", "active", ["suspect_access"]),
                             MeasureInput("safety_plan", "Children's social care", "active", ["suspect_access"])])
    review = services.assessment_start(referral=referral, kind="review", actor=investigator, now=LATER)
    save(review, investigator, LATER, complete=True, rating="high",
         answers=answers_for(review, suspect_access="yes", previous_injuries="yes", domestic_abuse="not_known",
                             suspect_rso_mappa="yes"),
         measures=[MeasureInput("bail_conditions", "Police", "ended", ["suspect_access"]),
                   MeasureInput("suspect_out", "Police", "active", ["suspect_access", "suspect_rso_mappa",
                                                                     "previous_injuries"])])

    before = services.assessment_for_page(referral, initial.number)
    after = services.assessment_for_page(referral, review.number)
    diff = assessment_diff(before, after)

    assert sorted((c.question, c.before, c.after) for c in diff.answers) == [
        ("Has the child had previous injuries or referrals?", "Not known", "Yes"),
        ("Is a suspect a registered sex offender or managed under MAPPA?", "No", "Yes"),
        ("Is there domestic abuse in the household?", "No", "Not known"),
    ]
    assert diff.gaps_opened == ["Is there domestic abuse in the household?"]
    assert diff.gaps_closed == ["Has the child had previous injuries or referrals?"]
    assert diff.measures_added == ["Suspect out of the household"]
    assert diff.measures_removed == ["Safety plan with the non-abusing carer"]
    assert diff.measures_changed == ["Bail conditions: active → ended"]
    assert (diff.rating_before, diff.rating_after, diff.rating_changed) == ("Medium", "High", True)
    assert not diff.is_empty


@time_machine.travel(NOW, tick=False)
def test_the_diff_of_an_unchanged_review_is_empty(log_referral, desk_sergeant: Officer) -> None:
    """A review completed as it was prefilled shows no change."""
    referral = log_referral()
    initial = complete_initial(referral, desk_sergeant,
                               measures=[MeasureInput("other", "School", "active", ["missing"], "Daily check-in")])
    review = services.assessment_start(referral=referral, kind="review", actor=desk_sergeant, now=LATER)
    save(review, desk_sergeant, LATER, complete=True,
         answers={a.code: AnswerInput(a.value) for a in review.answers.all()},
         measures=[MeasureInput("other", "School", "active", ["missing"], "Daily check-in")])

    diff = assessment_diff(services.assessment_for_page(referral, initial.number),
                           services.assessment_for_page(referral, review.number))

    assert diff.is_empty
