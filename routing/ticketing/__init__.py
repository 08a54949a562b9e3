"""Tickets: their tables and audit trail, staff accounts, the desk's work on a ticket, and
the screenshots attached to one."""
