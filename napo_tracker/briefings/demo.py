"""Demo briefings, built from the seeds (filled in by the briefings issue)."""


def load(echo) -> None:
    """Add the demo briefings that are missing."""
