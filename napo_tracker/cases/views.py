from . import bp  # noqa: F401  (the cases views are built in their own issue)
