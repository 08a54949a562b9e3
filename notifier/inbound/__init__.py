"""`notifier inbound`: mail coming back to the service (CONTRACTS §4)."""
