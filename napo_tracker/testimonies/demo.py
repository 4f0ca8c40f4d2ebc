"""Demo testimonies, built from the seeds (filled in by the testimonies issue)."""


def load(echo) -> None:
    """Add the demo testimonies that are missing."""
