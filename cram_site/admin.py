from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Officer, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Officer)
class OfficerAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "rank", "staff_number", "team", "force_wide", "is_active"]
    list_filter = ["team", "rank", "groups", "force_wide", "is_active"]
    list_select_related = ["team"]
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Police", {"fields": ("rank", "staff_number", "team", "force_wide", "leaving_date")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        ("Police", {"fields": ("first_name", "last_name", "rank", "staff_number", "team", "groups")}),
    )
