"""Admin: administrators edit the MoPI retention table; reviews are read here, never changed."""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from cram_site.admin import ReadOnlyAdmin

from .models import MopiReview, RetentionPeriod


@admin.register(RetentionPeriod)
class RetentionPeriodAdmin(admin.ModelAdmin):
    """How many years after closure each team's referrals of a category are reviewed. A change
    applies to referrals closed (or retained) after it; review dates already set stay as they are.
    A team or category without a row uses the MoPI default."""

    list_display = ["team", "allegation_category", "review_after_years"]
    list_editable = ["review_after_years"]
    list_filter = ["team", "allegation_category"]
    list_select_related = ["team"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Set the number of years instead: a deleted row would silently fall back to the default.
        return False


@admin.register(MopiReview)
class MopiReviewAdmin(ReadOnlyAdmin):
    """Information management reviews, append-only: the records team reads the disposal decisions here."""

    list_display = ["referral", "decision", "reviewed_at", "reviewer_label", "next_review_on"]
    list_filter = ["decision"]
    list_select_related = ["referral"]
    search_fields = ["referral__urn"]
    readonly_fields = ["referral", "reviewer", "reviewer_label", "reviewed_at", "decision", "reason", "next_review_on"]
