"""Who is placed in the child's household when a referral is logged."""
from __future__ import annotations

import datetime as dt

import pytest

from referrals import services
from referrals.models import Person

pytestmark = pytest.mark.django_db


def test_children_and_carers_share_a_household_but_a_suspect_is_not_assumed_to_live_there(log_referral):
    """New children and the parent share one household; a new suspect gets none."""
    referral = log_referral(people=[
        services.PersonDetails(role="victim", first_name="Amara", last_name="Okafor", address="1 High Road"),
        services.PersonDetails(role="sibling", first_name="Tobi", last_name="Okafor"),
        services.PersonDetails(role="parent_carer", first_name="Grace", last_name="Okafor"),
        services.PersonDetails(role="suspect", first_name="Mark", last_name="Dorsey"),
    ])

    people = {link.person.first_name: link.person for link in referral.referral_people.select_related("person")}
    household_ids = {people[name].household_id for name in ("Amara", "Tobi", "Grace")}
    assert len(household_ids) == 1 and None not in household_ids
    assert people["Mark"].household_id is None
    assert people["Tobi"].address == "1 High Road"


def test_a_known_child_brings_their_household_to_the_new_sibling(log_referral, haringey):
    """Linking a known child puts the newly named sibling into that child's existing household."""
    first = log_referral()
    known_child = first.referral_people.get(role="victim").person
    suspect_elsewhere = first.referral_people.get(role="suspect").person

    second = log_referral(people=[
        services.PersonDetails(role="victim", existing=known_child),
        services.PersonDetails(role="sibling", first_name="Zara", last_name="Okafor",
                               date_of_birth=dt.date(2023, 1, 5)),
        services.PersonDetails(role="suspect", existing=suspect_elsewhere),
    ])

    zara = Person.objects.get(first_name="Zara")
    assert zara.household_id == known_child.household_id
    assert second.referral_people.count() == 3
    assert Person.objects.get(pk=suspect_elsewhere.pk).household_id is None
