#!/usr/bin/env python3
"""The do-it-yourself bot that scripts/bench measures loudhailer against.

What a user would write instead of loudhailer: Mastodon.py to talk to the server and
APScheduler's BackgroundScheduler to fire one job per post at its time. A reply waits for the
post it answers (it needs that post's id); once a post is out, its boost is scheduled the
planned delay later. It keeps nothing on disk, has no rate budget of its own (Mastodon.py waits
when the server says the limit is used up), and logs failures and carries on.

It is fed the same jobs as loudhailer: the output of `loudhailer plan --format json` for the
same config, with each account's token given on the command line.

    bench_baseline.py --plan plan.json --server http://127.0.0.1:PORT \\
        --token delegate=TOKEN --token council=TOKEN [--exit-when-done]

It prints "ready N" once every job is scheduled, and "done N" when the last one has run.
"""

import argparse
import datetime as dt
import json
import sys
import threading
from collections import defaultdict

from apscheduler.schedulers.background import BackgroundScheduler
from mastodon import Mastodon


def when(job):
    return dt.datetime.fromisoformat(job["at"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", required=True, help="loudhailer plan --format json output")
    ap.add_argument("--server", required=True, help="the Mastodon server's base URL")
    ap.add_argument("--token", action="append", default=[], help="ACCOUNT=TOKEN, one per account")
    ap.add_argument("--exit-when-done", action="store_true")
    args = ap.parse_args()

    clients = {}
    for pair in args.token:
        account, token = pair.split("=", 1)
        clients[account] = Mastodon(access_token=token, api_base_url=args.server)

    with open(args.plan, encoding="utf-8") as f:
        jobs = json.load(f)
    posts = [j for j in jobs if j["kind"] != "boost"]
    boosts_of = defaultdict(list)
    for j in jobs:
        if j["kind"] == "boost":
            boosts_of[j["id"].rsplit("+", 1)[0]].append(j)
    # A session's posts from one account form a thread, each answering the one before.
    parent = {}
    threads = defaultdict(list)
    for j in posts:
        threads[(j["session"], j["account"])].append(j)
    for thread in threads.values():
        thread.sort(key=when)
        for before, after in zip(thread, thread[1:]):
            parent[after["id"]] = before["id"]

    posted = {}
    out = {j["id"]: threading.Event() for j in posts}
    lock = threading.Lock()
    remaining = [len(posts) + sum(len(b) for b in boosts_of.values())]
    finished = threading.Event()
    if remaining[0] == 0:
        finished.set()

    def one_done():
        with lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                finished.set()

    scheduler = BackgroundScheduler(timezone=dt.timezone.utc)

    def post(job):
        try:
            reply_to = None
            if job["id"] in parent:
                out[parent[job["id"]]].wait(timeout=300)
                reply_to = posted.get(parent[job["id"]])
            status = clients[job["account"]].status_post(job["text"], in_reply_to_id=reply_to)
            posted[job["id"]] = status["id"]
            now = dt.datetime.now(dt.timezone.utc)
            for b in boosts_of[job["id"]]:
                scheduler.add_job(
                    boost, "date", run_date=now + (when(b) - when(job)), args=[b, status["id"]], misfire_grace_time=None
                )
        except Exception as e:  # a failed post is logged; the rest go on
            print(f"failed: {job['id']}: {e}", file=sys.stderr, flush=True)
            for _ in boosts_of[job["id"]]:
                one_done()
        finally:
            out[job["id"]].set()
            one_done()

    def boost(job, status_id):
        try:
            clients[job["account"]].status_reblog(status_id)
        except Exception as e:
            print(f"failed: {job['id']}: {e}", file=sys.stderr, flush=True)
        finally:
            one_done()

    for j in posts:
        scheduler.add_job(post, "date", run_date=when(j), args=[j], id=j["id"], misfire_grace_time=None)
    scheduler.start()
    print(f"ready {len(jobs)}", flush=True)
    if args.exit_when_done:
        finished.wait()
        print(f"done {len(jobs)}", flush=True)
        scheduler.shutdown(wait=True)
    else:
        threading.Event().wait()


if __name__ == "__main__":
    main()
