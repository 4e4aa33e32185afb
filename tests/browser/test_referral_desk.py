"""A desk sergeant logs a referral in Chromium, assesses it and finds it again by a misspelt name."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from referrals.models import Referral, ReferralPerson

from ..factories import PersonFactory
from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def test_log_two_siblings_and_a_suspect_then_assess_and_search(page, live_server, desk_sergeant, investigator,
                                                              supervisor, haringey):
    """The URN is shown on save, the known sibling is linked, and a misspelt surname finds the child."""
    # Given a brother already known to the team from an earlier referral
    known = PersonFactory(team=haringey, first_name="Jaden", last_name="Okonkwo",
                          date_of_birth=dt.date(2016, 5, 1))
    sign_in(page, live_server.url, "desk-hy", PASSWORD)
    page.get_by_role("link", name="Log a referral").first.click()

    # When the sergeant fills in the referral
    page.get_by_label("Channel").select_option("phone")
    page.get_by_label("Allegation").select_option("physical")
    page.get_by_label("Source agency").fill("Children's social care")
    page.get_by_label("Referrer", exact=True).fill("Kay Mensah, social worker")
    page.get_by_role("textbox", name="Summary").fill("Nursery staff noticed bruising to the left upper arm of the younger child.")

    row = page.locator("#row-people-0")
    row.get_by_label("Role").select_option("victim")
    row.get_by_label("First name").fill("Amara")
    row.get_by_label("Surname").fill("Okonkwo")
    row.get_by_label("Date of birth").fill("2021-03-14")

    # the second child is typed with a slip, and the known brother is offered and chosen
    page.get_by_role("button", name="Add another person").click()
    row = page.locator("#row-people-1")
    row.get_by_label("Role").select_option("sibling")
    row.get_by_label("Surname").press_sequentially("Okonkow", delay=30)
    row.get_by_role("button", name="Use this person").click()
    page.locator("#row-people-1").get_by_test_id("linked-person").wait_for()
    assert "Jaden Okonkwo" in page.locator("#row-people-1").inner_text()

    page.get_by_role("button", name="Add another person").click()
    row = page.locator("#row-people-2")
    row.get_by_label("Role").select_option("suspect")
    row.get_by_label("First name").fill("Mark")
    row.get_by_label("Surname").fill("Dorsey")
    page.get_by_role("button", name="Save and issue URN").click()

    # Then the URN is shown and the referral holds all three people
    urn = page.get_by_test_id("urn").inner_text()
    assert re.fullmatch(r"HY-\d{2}-00001", urn)
    assert f"Its URN is {urn}" in page.content()
    referral = Referral.objects.get(urn=urn)
    linked = {link.person.full_name: link.role for link in ReferralPerson.objects.filter(referral=referral)
              .select_related("person")}
    assert linked == {"Amara Okonkwo": "victim", "Jaden Okonkwo": "sibling", "Mark Dorsey": "suspect"}
    assert referral.referral_people.get(person=known).person.household_id is not None
    assert "Written follow-up due" in page.inner_text("header[aria-label='Case summary']")

    # When the sergeant assesses it
    page.get_by_role("link", name="Assess this referral").click()
    page.get_by_label("Routine").check()
    page.get_by_label("Joint investigation").check()
    page.get_by_role("button", name="Record the assessment").click()
    assert "Give the rationale" in page.content() or "This field is required" in page.content()
    page.get_by_label("Rationale").fill("Injury to a non-verbal child; joint visit with social care today.")
    page.get_by_label("Investigating officer").select_option(label=investigator.display_name)
    page.get_by_label("Supervising sergeant").select_option(label=supervisor.display_name)
    page.get_by_role("button", name="Record the assessment").click()

    # Then the case log carries the decision, the route and the allocation
    log = page.locator("ol.case-log").inner_text()
    assert "Desk assessment: urgency routine" in log
    assert "Route chosen: Joint investigation" in log
    assert f"investigating officer {investigator.display_name}" in log

    # And a search with a misspelt surname finds the child
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Name, URN or crime report number").fill("Amara Okonkow")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Amara Okonkwo").click()
    assert urn in page.content()
