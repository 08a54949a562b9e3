"""The outbox kinds: what each kind of message needs before and after delivery
(notifications rendered from their event, ticket forwards and answers)."""
