"""Demo cases, built from the seeds (filled in by the cases issue)."""


def load(echo) -> None:
    """Add the demo cases that are missing."""
