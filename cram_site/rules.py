"""Who may do what: role predicates for `rules`, checked on the server for every page.

Which records a user may see at all is the separate `visible_to(user)` rule on each queryset.
"""
from __future__ import annotations

import rules

from .models import Officer, Role


def _role_predicate(*roles: Role) -> rules.Predicate:
    @rules.predicate(name="has_role:" + ",".join(roles))
    def holds(user: Officer) -> bool:
        return user.is_authenticated and (user.is_superuser or user.has_role(*roles))

    return holds


is_desk_sergeant = _role_predicate(Role.DESK_SERGEANT)
is_supervisor = _role_predicate(Role.SUPERVISOR)
is_auditor = _role_predicate(Role.AUDITOR)
is_operational = _role_predicate(
    Role.DESK_SERGEANT, Role.INVESTIGATOR, Role.SUPERVISOR, Role.PCLO, Role.RESEARCHER
)
reads_free_text = _role_predicate(*[role for role in Role if role != Role.PERFORMANCE])

rules.add_perm("referrals.log_referral", is_desk_sergeant | is_supervisor)
rules.add_perm("referrals.assess_referral", is_desk_sergeant | is_supervisor)
rules.add_perm("referrals.allocate_referral", is_desk_sergeant | is_supervisor)
rules.add_perm("referrals.write_case_log", is_operational)
rules.add_perm("referrals.manage_actions", is_operational)
rules.add_perm("referrals.view_audit", is_supervisor | is_auditor)
rules.add_perm("referrals.read_free_text", reads_free_text)

is_investigator = _role_predicate(Role.INVESTIGATOR)
is_pclo = _role_predicate(Role.PCLO)
is_researcher = _role_predicate(Role.RESEARCHER)
is_administrator = _role_predicate(Role.ADMINISTRATOR)

# The CRAM: completed by the desk and the officers working the case, signed off by a supervisor.
rules.add_perm("risk.edit_assessment", is_desk_sergeant | is_supervisor | is_investigator | is_pclo)
rules.add_perm("risk.sign_off", is_supervisor)
rules.add_perm("risk.record_check", is_researcher | is_desk_sergeant | is_investigator | is_supervisor)
rules.add_perm("risk.edit_catalogue", is_administrator)

# Conferences: the PCLO prepares reports and keeps the diary; officers on the case record meetings.
rules.add_perm("conferences.record_meeting", is_operational)
rules.add_perm("conferences.prepare_report", is_pclo | is_supervisor)
rules.add_perm("conferences.view_diary", is_pclo | is_supervisor)
rules.add_perm("conferences.review_medicals", is_supervisor | is_auditor)

# Supervision: supervisors review investigations and approve closure.
rules.add_perm("supervision.review", is_supervisor)
rules.add_perm("supervision.approve_closure", is_supervisor)

# Performance measures: the performance manager and supervisors read them; only free-text roles see narratives.
is_performance = _role_predicate(Role.PERFORMANCE)
rules.add_perm("supervision.view_performance", is_performance | is_supervisor)
# The auditor searches the whole audit trail (within the visibility rule of their team).
rules.add_perm("cram_site.search_audit", is_auditor)
# Information management (MoPI) reviews of closed referrals.
rules.add_perm("supervision.review_retention", is_supervisor | is_administrator)
# The legacy referral-log import.
rules.add_perm("referrals.import_referrals", is_administrator)
# Investigation outcomes, joint visits and disclosure requests are recorded by the officers on the case.
rules.add_perm("referrals.record_investigation", is_operational)
