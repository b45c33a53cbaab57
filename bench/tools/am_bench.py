#!/usr/bin/env python3
"""Helpers of bench/scenarios/notifications.sh (Python standard library only).

  am_bench.py sink --port P
      A webhook receiver on asyncio (a minimal HTTP/1.1 server with keep-alive, so that it is
      not the bottleneck): answers every POST with 200 and counts notifications and the alerts in
      them (one "fingerprint" per alert in Alertmanager's webhook payload), with the time of the
      first and the last. GET /stats returns them as JSON; POST /reset clears them.
  am_bench.py load --url BASE --groups G --per-group K --batch B --clients C [--resolve] [--prefix P]
      POSTs G x K alerts (K alerts in each of G groups of labels alertname+cluster) to
      BASE/api/v2/alerts in batches of B from C threads over kept-alive connections, and prints
      `alerts seconds alerts_per_second`. The JSON bodies are encoded before the clock starts.
      Alerts carry no startsAt (the server stamps them with now), so a new group waits
      group_wait before its first notification, as for fresh alerts from Prometheus.
"""

import argparse
import asyncio
import http.client
import json
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone


def sink(port):
    stats = {"notifications": 0, "alerts": 0, "first": 0.0, "last": 0.0, "bad": 0}

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target = lines[0].split(" ")[:2]
                length = 0
                close = False
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    k = k.strip().lower()
                    if k == "content-length":
                        length = int(v.strip())
                    elif k == "connection" and v.strip().lower() == "close":
                        close = True
                body = await reader.readexactly(length) if length else b""
                out = b""
                if method == "POST" and target.startswith("/reset"):
                    stats.update(notifications=0, alerts=0, first=0.0, last=0.0, bad=0)
                elif method == "POST":
                    now = time.time()
                    n = body.count(b'"fingerprint"')
                    if n == 0:
                        stats["bad"] += 1
                    stats["notifications"] += 1
                    stats["alerts"] += n
                    if not stats["first"]:
                        stats["first"] = now
                    stats["last"] = now
                else:
                    out = json.dumps(stats).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(out)).encode() + b"\r\n\r\n" + out)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def load(url, groups, per_group, batch, clients, resolve, prefix):
    now = datetime.now(timezone.utc)
    extra = {}
    if resolve:
        extra["endsAt"] = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    alerts = []
    for g in range(groups):
        for i in range(per_group):
            a = {
                "labels": {"alertname": f"Alert{g % 100}", "cluster": f"{prefix}c{g // 100}",
                           "instance": f"host-{i}:9100", "job": "node", "severity": "page"},
                "annotations": {"summary": "disk almost full", "description": f"host-{i} has 3% left"},
                "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=disk",
            }
            a.update(extra)
            alerts.append(a)
    bodies = [json.dumps(alerts[k:k + batch]).encode() for k in range(0, len(alerts), batch)]
    u = urllib.parse.urlparse(url)
    path = u.path.rstrip("/") + "/api/v2/alerts"
    errors = []

    def worker(mine):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        for body in mine:
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors.append(r.status)
        conn.close()

    threads = [threading.Thread(target=worker, args=(bodies[w::clients],)) for w in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.perf_counter() - t0
    if errors:
        print(f"{len(errors)} batches rejected: HTTP {sorted(set(errors))}", file=sys.stderr)
        return 1
    print(f"{len(alerts)} {dt:.3f} {len(alerts) / dt:.0f}")
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sink")
    s.add_argument("--port", type=int, required=True)
    l = sub.add_parser("load")
    l.add_argument("--url", required=True)
    l.add_argument("--groups", type=int, default=20000)
    l.add_argument("--per-group", type=int, default=5)
    l.add_argument("--batch", type=int, default=1000)
    l.add_argument("--clients", type=int, default=4)
    l.add_argument("--resolve", action="store_true")
    l.add_argument("--prefix", default="", help="prefix of the cluster label (new groups for the same server)")
    a = p.parse_args()
    if a.cmd == "sink":
        sink(a.port)
        return 0
    return load(a.url, a.groups, a.per_group, a.batch, a.clients, a.resolve, a.prefix)


if __name__ == "__main__":
    sys.exit(main())
