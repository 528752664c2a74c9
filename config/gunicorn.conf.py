"""gunicorn settings for gridgov (`make run`, production: `gunicorn -c config/gunicorn.conf.py`).

Every value can be overridden by the usual GUNICORN_* / command-line options; the defaults follow
the machine:

- workers: one per CPU plus one (Django requests are mostly CPU in Python; PostgreSQL runs beside
  them on the same cores in a single-machine install), threads: 4 per worker so a request waiting
  on the database or a photo upload does not hold a whole process;
- keep-alive: a reverse proxy (nginx) reuses its upstream connections, so 5 s, not gunicorn's 2 s;
- max-requests with jitter: each worker is recycled after ~2,000 requests so a slow leak never
  grows without bound, and the jitter keeps the workers from restarting all at once;
- preload: the app (and its imports) load once in the master; workers fork from it.

With GRIDGOV_DB_POOL=1 each worker holds a psycopg pool (config/settings.py); keep
workers × GRIDGOV_DB_POOL_MAX under PostgreSQL's max_connections (100 by default).
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GRIDGOV_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GRIDGOV_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GRIDGOV_THREADS", 4))
worker_class = "gthread"
keepalive = int(os.environ.get("GRIDGOV_KEEPALIVE", 5))
timeout = int(os.environ.get("GRIDGOV_TIMEOUT", 60))
graceful_timeout = 30
max_requests = int(os.environ.get("GRIDGOV_MAX_REQUESTS", 2000))
max_requests_jitter = int(os.environ.get("GRIDGOV_MAX_REQUESTS_JITTER", 200))
preload_app = True
accesslog = os.environ.get("GRIDGOV_ACCESS_LOG", "-")
wsgi_app = "config.wsgi:application"
