"""Letters from templates: admins keep the wording with named merge fields; reps preview a
letter for a case, then send it, frozen as a PDF with its SHA-256 and filed on the timeline."""

from flask import Blueprint

bp = Blueprint("letters", __name__, url_prefix="/letters")
