from . import bp  # noqa: F401  (the evidence views are built in their own issue)
