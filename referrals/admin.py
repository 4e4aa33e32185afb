"""Admin: referrals and people are read here, never edited; the case log cannot be changed at all."""
from __future__ import annotations

from django.contrib import admin

from cram_site.admin import ReadOnlyAdmin

from .models import CaseLogEntry, Person, Referral


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["urn", "team", "received_at", "status", "route", "owner"]
    list_filter = ["team", "status", "route"]
    list_select_related = ["team", "owner"]
    search_fields = ["urn", "crime_report_number"]


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "team"]
    list_select_related = ["team"]
    search_fields = ["last_name", "first_name"]


@admin.register(CaseLogEntry)
class CaseLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["referral", "number", "kind", "author_name", "recorded_at"]
    list_select_related = ["referral"]
