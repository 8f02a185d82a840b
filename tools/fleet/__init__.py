"""Running several gateway instances together: a round-robin TCP proxy (tests, bench, trying a fleet
on one machine) and helpers that start instances on one PostgreSQL."""
