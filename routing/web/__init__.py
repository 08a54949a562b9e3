"""The web front ends of support routing: the public API and form, the staff admin API,
and the triage desk's JSON API and pages."""
