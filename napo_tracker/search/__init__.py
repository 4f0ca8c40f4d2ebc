"""One search box across the records a user may see: cases, notices, evidence, and for
officials and admins testimonies' public text and briefings."""

from flask import Blueprint

bp = Blueprint("search", __name__)
