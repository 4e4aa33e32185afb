"""The cast: a desk sergeant, an investigator, a supervisor, an auditor, a performance manager
of Haringey (HY), and a desk sergeant of another team (Enfield, EN)."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from cram_site.models import Officer, Rank, Team
from referrals import services
from referrals.models import Referral

from .factories import OfficerFactory, TeamFactory

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

requires_postgres = pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL")


@pytest.fixture(autouse=True)
def _no_lockouts(settings: object) -> None:
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _fresh_content_types() -> None:
    # A transactional test's flush re-creates content types under new ids; a cache kept from
    # before would point audit events at rows that no longer exist.
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def private_files(settings: object, tmp_path: Path) -> Path:
    """Export files and uploaded spreadsheets go to the test's own folder, never the checkout's."""
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    return settings.PRIVATE_FILES_ROOT


@pytest.fixture
def tasks_inline() -> Iterator[None]:
    """Whatever broker the suite is given, a task enqueued in the test (or by the live server, which
    runs in this process) runs there and then."""
    from cram_site.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def haringey(db: None) -> Team:
    return TeamFactory(code="HY", name="Haringey")


@pytest.fixture
def enfield(db: None) -> Team:
    return TeamFactory(code="EN", name="Enfield")


@pytest.fixture
def desk_sergeant(haringey: Team) -> Officer:
    return OfficerFactory(username="desk-hy", first_name="Dawn", last_name="Price", rank=Rank.DS,
                          staff_number="DS101", team=haringey, roles=["desk_sergeant"])


@pytest.fixture
def investigator(haringey: Team) -> Officer:
    return OfficerFactory(username="investigator-hy", first_name="Ian", last_name="Vance", rank=Rank.DC,
                          staff_number="DC202", team=haringey, roles=["investigator"])


@pytest.fixture
def supervisor(haringey: Team) -> Officer:
    return OfficerFactory(username="supervisor-hy", first_name="Sue", last_name="Perkins", rank=Rank.DS,
                          staff_number="DS303", team=haringey, roles=["supervisor"])


@pytest.fixture
def auditor(haringey: Team) -> Officer:
    return OfficerFactory(username="auditor-hy", first_name="Alan", last_name="Dent", rank=Rank.STAFF,
                          staff_number="S404", team=haringey, roles=["auditor"])


@pytest.fixture
def performance_manager(haringey: Team) -> Officer:
    return OfficerFactory(username="performance-hy", first_name="Pat", last_name="Moss", rank=Rank.STAFF,
                          staff_number="S505", team=haringey, roles=["performance"])


@pytest.fixture
def other_team_sergeant(enfield: Team) -> Officer:
    return OfficerFactory(username="desk-en", first_name="Owen", last_name="Tate", rank=Rank.DS,
                          staff_number="DS909", team=enfield, roles=["desk_sergeant", "supervisor"])


@pytest.fixture
def now() -> dt.datetime:
    return timezone.now()


@pytest.fixture
def log_referral(desk_sergeant: Officer) -> Callable[..., Referral]:
    """Log a referral through the service, as the desk sergeant, with sensible defaults."""

    def log(**overrides: object) -> Referral:
        moment = overrides.pop("now", None) or timezone.now()
        people = overrides.pop("people", None) or [
            services.PersonDetails(role="victim", first_name="Amara", last_name="Okafor",
                                   date_of_birth=dt.date(2019, 3, 14)),
            services.PersonDetails(role="sibling", first_name="Tobi", last_name="Okafor",
                                   date_of_birth=dt.date(2021, 6, 2)),
            services.PersonDetails(role="suspect", first_name="Mark", last_name="Dorsey",
                                   date_of_birth=dt.date(1990, 1, 9)),
        ]
        fields = dict(
            team=desk_sergeant.team, actor=desk_sergeant, now=moment,
            received_at=moment - dt.timedelta(hours=1), channel="email", source_agency="Children's social care",
            referrer_name="J. Social Worker", allegation_category="physical",
            summary="Bruising to the upper arm noticed at nursery.", people=people,
        )
        fields.update(overrides)
        return services.referral_log(**fields)

    return log


# --- The referral desk and case log suites ------------------------------------------------------


@pytest.fixture
def superuser(haringey: Team) -> Officer:
    return OfficerFactory(username="admin-hy", first_name="Ada", last_name="Lovell", rank=Rank.STAFF,
                          staff_number="S606", team=haringey, is_staff=True, is_superuser=True)


@pytest.fixture
def referral_form_data() -> Callable[..., dict[str, str]]:
    """The POST of the "Log a referral" page, ready to save: one child, received an hour ago.

    Read the clock when called, so a test that freezes time gets a received time before it.
    Pass `people` (a list of row dicts) or any referral field to change what is sent.
    """

    def data(*, people: list[dict[str, str]] | None = None, **fields: str) -> dict[str, str]:
        from cram_site.calendar import LONDON

        received = timezone.now().astimezone(LONDON) - dt.timedelta(hours=1)
        rows = people if people is not None else [
            {"role": "victim", "first_name": "Grace", "last_name": "Mensah", "date_of_birth": "2018-05-01",
             "gender": "female", "address": "12 Park Lane, N17"},
        ]
        post = {
            "received_at": received.strftime("%Y-%m-%dT%H:%M"),
            "channel": "email",
            "source_agency": "St Ann's Primary School",
            "referrer_name": "Head teacher",
            "partner_reference": "",
            "allegation_category": "physical",
            "offence_date": "",
            "summary": "Grace told her teacher she was hit with a belt at home.",
            "save": "1",
            "people-TOTAL_FORMS": str(len(rows)),
            "people-INITIAL_FORMS": "0",
            "people-MIN_NUM_FORMS": "1",
            "people-MAX_NUM_FORMS": "30",
        }
        for index, row in enumerate(rows):
            full_row = {"existing_person": "", "role": "", "first_name": "", "last_name": "",
                        "date_of_birth": "", "gender": "unknown", "address": ""} | row
            post.update({f"people-{index}-{name}": value for name, value in full_row.items()})
        post.update(fields)
        return post

    return data


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    # The cast's passwords are hashed as the factories run; the production hasher takes most
    # of a second per officer, which the tests do not need.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
