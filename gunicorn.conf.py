"""gunicorn settings, read by `gunicorn wsgi:app` from the working directory (repository root).

Measured with bench/web_load.py (README "Web load"): on 2 cores, two processes of eight
threads each (gthread) served the mixed API load with about a third less CPU per request than
four sync workers, mostly because connections stay open between requests (a sync worker
closes every connection after one answer). Threads overlap the waits on PostgreSQL; the
processes use the cores. Every value can be overridden on the command line.
"""
import gc
import os

workers = int(os.environ.get("WEB_WORKERS", os.cpu_count() or 2))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", 8))  # per process; each may hold a database connection
keepalive = 5  # seconds an idle client connection stays open (behind a proxy: above its idle timeout)
backlog = 2048


def post_worker_init(worker):
    from core.warmup import warm_up

    # The worker's first user should not pay for its start (core/warmup.py).
    warm_up(worker.wsgi)
    # What the application built at start lives as long as the process: the collector need
    # not walk it again and again.
    gc.freeze()
