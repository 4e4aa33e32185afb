"""Meetings, conferences and the police report: built on referrals and the CRAM."""
