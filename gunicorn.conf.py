"""gunicorn settings for the web process (read from the working directory at start).

The command line (Procfile, Dockerfile, docker-compose.yml) keeps the bind address, the
number of workers and the logs; this file adds what a command line cannot say.

Garbage collection: a worker holds some 90,000 objects once Django, the URLs and the
application are loaded, and a full collection walks all of them again and again, although
they live as long as the worker: in a list or search under load that was a pause of 55–70 ms
about every seven seconds, felt by every request queued behind it. After loading, the
worker collects once and freezes what is left (``gc.freeze``), so later collections walk
only what requests allocate (full collections of about 20 ms).
"""

from __future__ import annotations

import gc


def post_worker_init(worker) -> None:
    gc.collect()
    gc.freeze()
