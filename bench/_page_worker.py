"""A page-timing worker for `bench/pages.py --against`: loads Django from the checkout given as
its argument (its own code, templates and settings; the database is DATABASE_URL), then answers
lines on stdin:

    user <username>   log in as that user (Django's test client)  -> "ok"
    get <url>         one GET, timed in this process              -> "<ms> <status>"

Two of these (the checkout to compare against and this one) take turns on every request, so
both see the same load on a shared machine.
"""

from __future__ import annotations

import os
import sys
import time


def main() -> None:
    root = sys.argv[1]
    sys.path.insert(0, root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("GRIDGOV_REQUIRE_2FA", "0")
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.test import Client

    from gridgov.accounts.models import User

    client = Client()
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "user":
            client = Client()
            client.force_login(User.objects.get(username=arg))
            print("ok", flush=True)
        elif command == "get":
            t0 = time.perf_counter()
            status = client.get(arg).status_code
            print(f"{(time.perf_counter() - t0) * 1000:.3f} {status}", flush=True)


if __name__ == "__main__":
    main()
