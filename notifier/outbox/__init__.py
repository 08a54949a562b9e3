"""The outbox's data, at the bottom of notifier: the tables, the event schema, the rows a
batch of events becomes, the claim a sender takes, and the digest rows."""
