from . import bp  # noqa: F401  (the testimonies views are built in their own issue)
