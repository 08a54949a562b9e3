"""The operators' console: every email's fate, failures and dead letters, templates,
announcements, and the audit trail of what operators did (CONTRACTS §3 "Operators")."""
