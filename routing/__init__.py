"""Support inquiries: rules as data, the pure route() decision, tickets with their audit
trail, the web form and the triage desk."""
