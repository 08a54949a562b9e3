"""`notifier inbound`: mail coming back to the service (docs/contracts.md §4)."""
