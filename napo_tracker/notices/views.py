from . import bp  # noqa: F401  (the notices views are built in their own issue)
