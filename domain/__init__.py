"""The shared kernel: reference data and value types that both `subscriptions` and
`routing` rely on. It imports nothing of ours, so neither side depends on the other."""
