"""Members' data protection: the privacy notice, subject access, erasure, the retention
schedule's run, and encrypted backups."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)
