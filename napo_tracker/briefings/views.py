from . import bp  # noqa: F401  (the briefings views are built in their own issue)
