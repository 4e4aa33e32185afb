"""A desk sergeant completes the initial CRAM of a referral in Chromium, with the matrix's live suggestion."""
from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cram_site.calendar import LONDON
from referrals.models import Referral
from risk.catalogue import DEFAULT_CATALOGUE
from risk.models import Assessment, AssessmentStatus

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
QUESTIONS = {code: question for code, _, question, *_ in DEFAULT_CATALOGUE}


def test_desk_sergeant_completes_the_initial_cram_with_a_departing_rating(page, live_server, log_referral,
                                                                          desk_sergeant) -> None:
    """Every factor answered, the suggestion follows the answers, a medium rating needs its rationale,
    and the case header then shows the rating, two gaps, one unmanaged risk and the CRAM dates."""
    # Given a referral logged by the desk (the catalogue is made on the first start: the flush removed it)
    referral = log_referral()
    sign_in(page, live_server.url, "desk-hy", PASSWORD)
    page.goto(f"{live_server.url}{referral.get_absolute_url()}")
    page.get_by_role("navigation", name="Case sections").get_by_role("link", name="CRAM").click()
    expect(page.get_by_text("No CRAM has been completed for this referral yet.")).to_be_visible()

    # When the sergeant starts the initial CRAM
    expect(page.get_by_label("Kind of assessment")).to_have_value("initial")
    page.get_by_role("button", name="Start the CRAM").click()
    expect(page.get_by_role("heading", name="CRAM 1: initial assessment")).to_be_visible()
    assert page.url == f"{live_server.url}{reverse('risk:assessment', args=[referral.urn, 1])}"

    # and answers every factor: no, then two not known and two yes
    answers = page.locator("input[type=radio][value=no]")
    assert answers.count() == len(QUESTIONS)
    for radio in answers.all():
        radio.check()
    expect(page.get_by_test_id("suggested-rating")).to_have_text("Standard")
    for code in ("previous_injuries", "domestic_abuse"):
        page.locator(f"input[name='answer-{code}'][value=not_known]").check()
    page.locator("input[name='answer-weapon_injury'][value=yes]").check()
    expect(page.get_by_test_id("suggested-rating")).to_have_text("Medium")
    page.locator("input[name='answer-suspect_access'][value=yes]").check()

    # Then the matrix's suggestion follows: 7 + 4 is high
    expect(page.get_by_test_id("suggested-rating")).to_have_text("High")
    suggestion = page.locator("#suggestion")
    expect(suggestion).to_contain_text("Unmanaged risks: 2")

    # When bail conditions are added to manage the suspect's access
    page.locator("#id_measure-0-kind").select_option("bail_conditions")
    page.locator("#id_measure-0-owner_agency").fill("Police")
    measure = page.locator("fieldset", has_text="Control measure 1")
    measure.locator("summary", has_text="Risk factors it manages").click()
    measure.get_by_label(QUESTIONS["suspect_access"]).check()
    expect(suggestion).to_contain_text(f"Unmanaged risks: 1 — {QUESTIONS['weapon_injury']}")

    # and the sergeant rates it medium, against the suggestion, without saying why
    page.get_by_role("radio", name="Medium", exact=True).check()
    page.get_by_role("button", name="Complete the CRAM").click()

    # Then the rationale is asked for, and nothing typed is lost
    expect(page.get_by_text("Give the rationale for a rating that differs from the suggested one.")).to_be_visible()
    expect(page.locator("input[name='answer-suspect_access'][value=yes]")).to_be_checked()
    expect(page.get_by_role("radio", name="Medium", exact=True)).to_be_checked()
    assert Assessment.objects.get(referral=referral).status == AssessmentStatus.DRAFT

    # When the rationale is given and the CRAM completed
    page.get_by_label("Rationale for the rating").fill("The suspect is on bail away from the home.")
    page.get_by_role("button", name="Complete the CRAM").click()

    # Then the case header shows the rating, the gaps, the unmanaged risk and the CRAM dates
    expect(page.get_by_text("CRAM 1 completed and written to the case log.")).to_be_visible()
    expect(page.get_by_test_id("rating")).to_have_text("Medium risk")
    expect(page.get_by_test_id("gaps")).to_have_text("2 gaps")
    expect(page.get_by_test_id("unmanaged")).to_have_text("1 unmanaged risk")
    stored = Referral.objects.get(pk=referral.pk)
    header = page.locator("header[aria-label='Case summary']")
    review_due = stored.cram_review_due_at.astimezone(LONDON).strftime("%d/%m/%Y %H:%M")
    signoff_due = stored.cram_signoff_due_at.astimezone(LONDON).strftime("%d/%m/%Y %H:%M")
    expect(header.locator("dt:text-is('Next CRAM review') + dd")).to_have_text(review_due)
    expect(header.locator("dt:text-is('CRAM sign-off due') + dd")).to_have_text(signoff_due)

    # And the assessment is stored as completed, as answered
    assessment = Assessment.objects.get(referral=referral)
    assert (assessment.status, assessment.rating, assessment.suggested_rating) == ("completed", "medium", "high")
    assert assessment.rating_rationale == "The suspect is on bail away from the home."
    assert assessment.completed_by == desk_sergeant
    values = dict(assessment.answers.values_list("code", "value"))
    assert sorted(code for code, value in values.items() if value == "not_known") == ["domestic_abuse",
                                                                                     "previous_injuries"]
    assert sorted(code for code, value in values.items() if value == "yes") == ["suspect_access", "weapon_injury"]
    assert set(values.values()) == {"no", "not_known", "yes"}
    assert list(assessment.control_measures.values_list("kind", "owner_agency", "factor_codes")) == [
        ("bail_conditions", "Police", ["suspect_access"])]
    assert (stored.rating, stored.gap_count, stored.unmanaged_risk_count) == ("medium", 2, 1)
    assert (stored.cram_review_due_at, stored.cram_signoff_due_at) == (assessment.next_review_due_at,
                                                                       assessment.signoff_due_at)
