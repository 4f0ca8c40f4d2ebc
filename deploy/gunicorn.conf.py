"""gunicorn's settings for napo-tracker: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``.

The number of workers is NAPO_WORKERS (else gunicorn's own WEB_CONCURRENCY, else 2); ``-w``
on the command line wins. Whatever wins is handed to the app before any worker starts, so
production refuses to start several workers that would count rate limits in their own
memory (set NAPO_REDIS_URL).
"""

import os

bind = "127.0.0.1:8000"
workers = int(os.environ.get("NAPO_WORKERS") or os.environ.get("WEB_CONCURRENCY") or 2)
# Above PDF_RENDER_TIMEOUT (60 s): a draft letter or a briefing preview still renders in a request.
timeout = 90
graceful_timeout = 30
# No access log here: the proxy keeps one, except for the members' /testimony pages.
accesslog = None
errorlog = "-"
# gunicorn (25.1 and later) opens a control socket in the home folder by default, through which
# the worker count can be changed behind the app's back, and which two instances would share.
control_socket_disable = True


def on_starting(server):
    os.environ["NAPO_WORKERS"] = str(server.cfg.workers)
