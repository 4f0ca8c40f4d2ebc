"""Background jobs: renders and regular runs done away from the request that asked for them."""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
bp.cli.help = "Background jobs on Redis (NAPO_REDIS_URL): run a worker, or the scheduler of regular jobs."
