"""Demo evidence, built from the seeds (filled in by the evidence issue)."""


def load(echo) -> None:
    """Add the demo evidence that are missing."""
