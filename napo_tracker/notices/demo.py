"""Demo notices, built from the seeds (filled in by the notices issue)."""


def load(echo) -> None:
    """Add the demo notices that are missing."""
