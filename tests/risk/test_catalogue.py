"""The risk-factor catalogue: the default edition, new editions, and old assessments keeping
the wording they were answered with."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import time_machine
from django.core.exceptions import ValidationError

from cram_site.models import Officer
from referrals.models import Referral
from risk import services
from risk.catalogue import DEFAULT_CATALOGUE
from risk.models import Answer, Assessment, CatalogueVersion, RiskFactor, Section
from risk.services import AnswerInput, AssessmentInput, FactorFields

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
REVISED_AT = dt.datetime(2026, 3, 11, 9, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)

OLD_SUBSTANCES = "Does a suspect misuse drugs or alcohol?"
NEW_SUBSTANCES = "Does a suspect misuse drugs or alcohol, or supply them?"

pytestmark = pytest.mark.django_db


def revise(actor: Officer, **kwargs: object) -> CatalogueVersion:
    """Reword one factor, retire another and add a third."""
    kwargs.setdefault("note", "Annual review of the catalogue by the team.")
    kwargs.setdefault("changes", {
        "suspect_substances": FactorFields(section="suspect", question=NEW_SUBSTANCES, weight=3,
                                           closing_check="pnc"),
        "dangerous_animals": None,
    })
    kwargs.setdefault("additions", {
        "online_contact": FactorFields(section="child", question="Is the child in contact with the suspect online?",
                                       weight=3, closing_check="other"),
    })
    return services.catalogue_revise(actor=actor, now=REVISED_AT, **kwargs)


def answer_all(assessment: Assessment, actor: Officer, now: dt.datetime) -> Assessment:
    answers = {a.code: AnswerInput("no") for a in assessment.answers.all()}
    data = AssessmentInput(revision=assessment.revision, answers=answers, rating="standard")
    return services.assessment_save(assessment=assessment, data=data, actor=actor, now=now, complete=True)


# --- The default edition ----------------------------------------------------------------------------


def test_the_default_edition_is_made_when_there_is_none() -> None:
    """With no catalogue at all, the first read makes edition 1 from the default list, once."""
    RiskFactor.objects.all().delete()
    CatalogueVersion.objects.all().delete()

    version = services.catalogue_current(now=NOW)
    again = services.catalogue_current(now=NOW)

    assert again == version
    assert (version.number, version.created_at, version.note) == (1, NOW, "Default catalogue")
    assert CatalogueVersion.objects.count() == 1
    assert version.factors.count() == len(DEFAULT_CATALOGUE)
    per_section = Counter(version.factors.values_list("section", flat=True))
    assert set(per_section) == set(Section.values)
    assert min(per_section.values()) >= 8
    contextual = set(version.factors.filter(contextual=True).values_list("code", flat=True))
    assert contextual == {"disability", "private_fostering", "home_education"}
    # Positions count from 1 within each section, in the order of the default list.
    assert list(version.factors.filter(section="child").order_by("position")
                .values_list("code", flat=True)[:3]) == ["cp_plan", "non_mobile_injury", "weapon_injury"]
    assert list(version.factors.filter(section="child").values_list("position", flat=True)) == list(
        range(1, per_section["child"] + 1))


def test_every_default_factor_names_the_check_that_would_answer_it() -> None:
    """A "not known" answer is a gap that names its check, so every factor has one."""
    version = services.catalogue_current(now=NOW)

    assert not version.factors.filter(closing_check="").exists()


# --- New editions ---------------------------------------------------------------------------------------


def test_a_revision_makes_the_next_edition_with_the_change(supervisor: Officer) -> None:
    """Reworded, retired and added factors land in edition n+1; edition n is left as it was."""
    old = services.catalogue_current(now=NOW)
    old_count = old.factors.count()

    new = revise(supervisor)

    assert new.number == old.number + 1
    assert services.catalogue_current() == new
    assert (new.created_by, new.created_at, new.note) == (supervisor, REVISED_AT,
                                                          "Annual review of the catalogue by the team.")
    codes = set(new.factors.values_list("code", flat=True))
    assert "dangerous_animals" not in codes
    assert "online_contact" in codes
    assert new.factors.count() == old_count  # one retired, one added
    substances = new.factors.get(code="suspect_substances")
    assert (substances.question, substances.weight) == (NEW_SUBSTANCES, 3)
    added = new.factors.get(code="online_contact")
    assert (added.section, added.weight, added.contextual) == ("child", 3, False)
    assert added.position > max(new.factors.exclude(code="online_contact").values_list("position", flat=True))
    # Untouched factors are copied across unchanged.
    old_rso = old.factors.get(code="suspect_rso_mappa")
    new_rso = new.factors.get(code="suspect_rso_mappa")
    assert new_rso.pk != old_rso.pk
    assert (new_rso.question, new_rso.weight, new_rso.position) == (old_rso.question, old_rso.weight,
                                                                    old_rso.position)
    # The old edition still reads as it did.
    assert old.factors.get(code="suspect_substances").question == OLD_SUBSTANCES
    assert old.factors.filter(code="dangerous_animals").exists()
    assert old.factors.count() == old_count


def test_a_revision_naming_an_unknown_code_is_refused(supervisor: Officer) -> None:
    """Changing a factor that is not in the catalogue makes no edition."""
    services.catalogue_current(now=NOW)

    with pytest.raises(ValidationError) as refused:
        revise(supervisor, changes={"no_such_factor": None}, additions={})

    assert refused.value.messages == ["No factor with the code no_such_factor in the catalogue."]
    assert CatalogueVersion.objects.count() == 1


def test_adding_a_code_already_in_the_catalogue_is_refused(supervisor: Officer) -> None:
    """Codes are stable across editions and unique within one."""
    services.catalogue_current(now=NOW)

    with pytest.raises(ValidationError) as refused:
        revise(supervisor, changes={}, additions={"missing": FactorFields(section="child", question="Missing?")})

    assert refused.value.message_dict == {"code": ["A factor with the code missing already exists."]}
    assert CatalogueVersion.objects.count() == 1


@pytest.mark.parametrize("note", ["", "   "])
def test_a_revision_without_a_note_is_refused(supervisor: Officer, note: str) -> None:
    """Every edition says what changed and why."""
    services.catalogue_current(now=NOW)

    with pytest.raises(ValidationError) as refused:
        revise(supervisor, note=note)

    assert refused.value.message_dict == {"note": ["Say what changed and why."]}
    assert CatalogueVersion.objects.count() == 1


def test_a_revision_that_changes_nothing_is_refused(supervisor: Officer) -> None:
    """An edition identical to the last would only confuse readers."""
    services.catalogue_current(now=NOW)

    with pytest.raises(ValidationError):
        revise(supervisor, changes={}, additions={})

    assert CatalogueVersion.objects.count() == 1


# --- Assessments keep their edition -----------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_draft_started_before_a_change_keeps_its_edition_and_wording(log_referral, desk_sergeant: Officer,
                                                                       supervisor: Officer) -> None:
    """The draft goes on with the wording it was opened with and completes on its own edition;
    the completed CRAM still shows the old question."""
    referral: Referral = log_referral()
    old = services.catalogue_current(now=NOW)
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)

    revise(supervisor)
    answer_all(Assessment.objects.get(pk=draft.pk), desk_sergeant, LATER)

    shown = services.assessment_for_page(referral, draft.number)
    assert shown.status == "completed"
    assert shown.catalogue_version == old
    questions = {answer.code: answer.question for answer in shown.answers.all()}
    assert questions["suspect_substances"] == OLD_SUBSTANCES
    assert "dangerous_animals" in questions
    assert "online_contact" not in questions
    assert set(questions) == set(old.factors.values_list("code", flat=True))


@time_machine.travel(NOW, tick=False)
def test_a_completed_cram_shows_the_old_wording_after_a_change(log_referral, desk_sergeant: Officer,
                                                               supervisor: Officer) -> None:
    """Rewording a factor later does not rewrite what the officer was asked."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    answer_all(draft, desk_sergeant, NOW)

    revise(supervisor)

    shown = services.assessment_for_page(referral, draft.number)
    assert shown.answers.get(code="suspect_substances").question == OLD_SUBSTANCES
    assert Answer.objects.get(assessment=shown, code="suspect_substances").factor.question == OLD_SUBSTANCES


@time_machine.travel(NOW, tick=False)
def test_a_new_assessment_uses_the_new_edition(log_referral, desk_sergeant: Officer, supervisor: Officer) -> None:
    """A review after the change is asked the new questions; answers carry over by code; the retired
    factor is gone and the added one waits to be answered."""
    referral = log_referral()
    draft = services.assessment_start(referral=referral, kind="initial", actor=desk_sergeant, now=NOW)
    answers = {a.code: AnswerInput("no") for a in draft.answers.all()}
    answers["suspect_substances"] = AnswerInput("yes", note="Cannabis daily.")
    services.assessment_save(assessment=draft, actor=desk_sergeant, now=NOW, complete=True,
                             data=AssessmentInput(revision=0, answers=answers, rating="standard"))
    new = revise(supervisor)

    review = services.assessment_start(referral=referral, kind="review", actor=desk_sergeant, now=LATER)

    assert review.catalogue_version == new
    substances = review.answers.get(code="suspect_substances")
    assert (substances.question, substances.value, substances.note, substances.weight) == (
        NEW_SUBSTANCES, "yes", "Cannabis daily.", 3)
    assert substances.factor == new.factors.get(code="suspect_substances")
    assert not review.answers.filter(code="dangerous_animals").exists()
    assert review.answers.get(code="online_contact").value == ""
    assert set(review.answers.values_list("code", flat=True)) == set(new.factors.values_list("code", flat=True))
