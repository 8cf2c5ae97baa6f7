"""gunicorn settings of the benchmarks (`-c python:bench.gunicorn_conf`).

Given explicitly so gunicorn does not pick up ./gunicorn.conf.py, the
production settings: a pool sized by CPU count, and workers recycled every
~5,000 requests, which at benchmark rates is every few seconds, each restart
then measured as lost throughput. The bind address comes from the command line.
"""

import gc

worker_class = "sync"
workers = 2
max_requests = 0
accesslog = None
errorlog = "-"
# The control socket's default path is per user, not per server: another
# gunicorn on the machine (a developer's) would share it.
control_socket_disable = True


def post_worker_init(worker):
    """As gunicorn.conf.py does: the loaded app is frozen out of the collector's sight."""
    gc.freeze()
