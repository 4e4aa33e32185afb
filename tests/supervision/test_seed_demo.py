"""The demo seed: a cast for every role, about forty referrals written through the services, and
a second run that changes nothing."""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from conferences.models import (
    STRATEGY_KINDS,
    MedicalExamination,
    Meeting,
    MeetingStatus,
    PoliceProtection,
    PoliceReport,
    ReportStatus,
)
from cram_site.models import Officer, Role
from referrals.models import Action, ActionStatus, CaseLogEntry, Person, Referral, ReferralStatus
from supervision.models import Notification, Reminder, ReminderState
from risk.models import Assessment, AssessmentKind, SignOff, SystemsCheck

pytestmark = pytest.mark.django_db

TEAM_ROLES = {
    "desk": Role.DESK_SERGEANT,
    "investigator": Role.INVESTIGATOR,
    "investigator2": Role.INVESTIGATOR,
    "supervisor": Role.SUPERVISOR,
    "pclo": Role.PCLO,
    "researcher": Role.RESEARCHER,
    "performance": Role.PERFORMANCE,
    "auditor": Role.AUDITOR,
}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "referrals": Referral.objects.count(),
        "people": Person.objects.count(),
        "case_log": CaseLogEntry.objects.count(),
        "actions": Action.objects.count(),
        "officers": Officer.objects.count(),
        "assessments": Assessment.objects.count(),
        "checks": SystemsCheck.objects.count(),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[str]:
    """Seed once for the module (it takes seconds), inside a transaction rolled back at the end;
    each test runs in its own savepoint within it, so what one test changes the next never sees."""
    # The same fast hasher as every test uses (tests/conftest.py), so sign-in checks can verify it.
    fast_hashing = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast_hashing, transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


def test_every_role_has_a_demo_officer_in_each_team(seeded: str) -> None:
    """desk-hy … auditor-en exist in their team with their role; admin is a superuser administrator."""
    for team in ("hy", "en"):
        for stem, role in TEAM_ROLES.items():
            officer = Officer.objects.get(username=f"{stem}-{team}")
            assert officer.team.code == team.upper()
            assert officer.has_role(role), officer.username
            assert not officer.is_superuser
    admin = Officer.objects.get(username="admin")
    assert admin.has_role(Role.ADMINISTRATOR)
    assert admin.is_staff and admin.is_superuser


def test_seed_logs_about_forty_referrals_in_both_teams(seeded: str) -> None:
    assert 35 <= Referral.objects.count() <= 50
    assert Referral.objects.filter(team__code="HY").count() > Referral.objects.filter(team__code="EN").count()
    assert Referral.objects.filter(team__code="EN").exists()
    # Crime report numbers share one format.
    numbers = list(Referral.objects.exclude(crime_report_number=None)
                   .values_list("crime_report_number", flat=True))
    assert numbers and all(number.startswith("CRIS ") and "/" in number for number in numbers)


def test_second_run_adds_nothing(seeded: str) -> None:
    before = counts()

    output = seed()

    assert counts() == before
    assert "already present" in output


def test_case_logs_are_numbered_without_gaps(seeded: str) -> None:
    """Each referral's entries are 1..n, n is its counter, and they were recorded in that order."""
    for referral in Referral.objects.annotate(entries=Count("case_log")):
        numbers = list(referral.case_log.order_by("number").values_list("number", flat=True))
        assert numbers == list(range(1, referral.entries + 1)), referral.urn
        assert referral.case_log_count == referral.entries
        recorded = list(referral.case_log.order_by("number").values_list("recorded_at", flat=True))
        assert recorded == sorted(recorded), referral.urn


def test_queues_have_work_in_them(seeded: str) -> None:
    """The desk sees referrals awaiting assessment and phone referrals without their written follow-up."""
    assert Referral.objects.awaiting_assessment().exists()
    assert Referral.objects.filter(written_followup_due_at__isnull=False,
                                   written_followup_received_at__isnull=True).exists()
    assert Referral.objects.filter(written_followup_received_at__isnull=False).exists()
    assert Referral.objects.filter(status=ReferralStatus.OPEN).exists()
    assert set(Action.objects.values_list("status", flat=True)) == set(ActionStatus.values)


def test_people_are_shared_across_referrals(seeded: str) -> None:
    """Siblings re-referred link the same person, so household history shows; some adults carry flags."""
    assert Person.objects.annotate(referrals=Count("referral_links")).filter(referrals__gt=1).exists()
    assert Person.objects.filter(registered_sex_offender=True, mappa=True).exists()


def test_demo_officer_signs_in_with_the_demo_password(seeded: str, client) -> None:
    assert settings.DEMO_PASSWORD in seeded
    assert "desk-hy" in seeded
    assert client.login(username="desk-hy", password=settings.DEMO_PASSWORD)


def test_second_run_resets_a_changed_password(seeded: str, client) -> None:
    officer = Officer.objects.get(username="investigator-en")
    officer.set_password("something-else-entirely")
    officer.save()

    seed()

    assert client.login(username="investigator-en", password=settings.DEMO_PASSWORD)


def test_assessed_referrals_carry_a_cram_with_its_rating_gaps_and_sign_off(seeded: str) -> None:
    """Every assessed referral has a completed initial CRAM; some are signed off, reviewed or checked."""
    assessed = Referral.objects.exclude(status=ReferralStatus.NEW)
    assert assessed.exists()
    assert not assessed.filter(rating="").exists()
    assert Assessment.objects.completed().filter(kind=AssessmentKind.INITIAL).count() == assessed.count()
    assert Assessment.objects.filter(kind=AssessmentKind.REVIEW).exists()
    assert SignOff.objects.exists()
    assert Assessment.objects.awaiting_signoff().exists()
    assert SystemsCheck.objects.filter(closes_gaps__isnull=False).exists()
    assert Referral.objects.filter(unmanaged_risk_count__gt=0).exists()


def test_meetings_reports_medicals_and_protection_are_seeded(seeded: str) -> None:
    """The PCLO has conferences next week; a supervisor has a flagged strategy meeting; a child is in
    police protection now; reports were submitted for the conferences held."""
    now = timezone.now()
    next_week = Meeting.objects.filter(team__code="HY", status=MeetingStatus.SCHEDULED,
                                       starts_at__gt=now, starts_at__lt=now + dt.timedelta(days=21))
    assert next_week.exists()
    assert Meeting.objects.filter(kind__in=STRATEGY_KINDS, flag_no_police_supervisor=True).exists()
    assert PoliceReport.objects.filter(status=ReportStatus.SUBMITTED).exists()
    assert MedicalExamination.objects.filter(police_attended=False).exclude(non_attendance_reason="").exists()
    assert PoliceProtection.objects.filter(ended_at__isnull=True, ends_by__gt=now).exists()
    assert Referral.objects.filter(police_protection_ends_by__gt=now).exists()


def test_supervision_has_reminders_a_leaver_and_line_managers(seeded: str) -> None:
    """The first sweep has made reminders; one investigator is leaving with open work; officers report
    to their team's supervisor and carry skills."""
    assert Reminder.objects.filter(state=ReminderState.ESCALATED).exists()
    assert Notification.objects.exists()
    leaver = Officer.objects.get(username="investigator2-hy")
    assert leaver.leaving_date is not None
    assert leaver.line_manager.username == "supervisor-hy"
    assert leaver.skills
    assert Referral.objects.filter(summary_only_offence=True, offence_date__isnull=False).exists()
    assert not Referral.objects.filter(referrer_email="").exclude(referrer_name="").exists()
