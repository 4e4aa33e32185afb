from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from django.http import HttpRequest

from auditlog.admin import LogEntryAdmin

from .models import AuditEvent, Officer, Team, Timescale
from .timescales import team_timescales_create


class TimescaleInline(admin.TabularInline):
    """Every clock of SPEC §5 for the team, edited in one place so the CRAM cycle and the
    supervision policy can be made to agree."""

    model = Timescale
    extra = 0
    can_delete = False
    fields = ["clock", "amount", "unit"]
    readonly_fields = ["clock"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [TimescaleInline]

    def save_related(self, request: HttpRequest, form: object, formsets: object, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        team_timescales_create(team=form.instance)


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are read in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AuditEventAdmin(ReadOnlyAdmin, LogEntryAdmin):
    """The audit trail, read only: django-auditlog's own admin still lets a cascade from another
    record's delete page remove events; here nothing adds, changes or deletes one (the table's
    trigger refuses it too)."""


# django-auditlog registers its admin for AuditEvent first (it comes earlier in INSTALLED_APPS).
if admin.site.is_registered(AuditEvent):
    admin.site.unregister(AuditEvent)
admin.site.register(AuditEvent, AuditEventAdmin)
