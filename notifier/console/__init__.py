"""The operators' console: every email's fate, failures and dead letters, templates,
announcements, and the audit trail of what operators did (docs/contracts.md §3 "Operators")."""
