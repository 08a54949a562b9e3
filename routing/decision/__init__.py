"""The pure routing decision: rules as data, the inquiry and decision schemas, the clock of
phone hours, and route()."""
