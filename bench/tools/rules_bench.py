#!/usr/bin/env python3
"""Helpers of bench/scenarios/rules.sh (Python standard library only).

  rules_bench.py target --port P --hosts H
      Serves /metrics: H hosts x 182 series shaped like promqltest::synth's (request counters by
      method and code, CPU seconds, temperatures, load, queue depths, an up-like gauge and a classic
      histogram http_request_duration_seconds). Every value is a deterministic function of the wall
      clock, so two servers scraping at different moments see one consistent history (counters
      only grow). Labels carry instance="host-N:9100"; scrape it with honor_labels: true.
  rules_bench.py rules --hosts H --count N --interval 5s
      Writes (stdout) one rule group of N alerting rules over those series: thresholds over
      rate(), sum by, ratios, histogram_quantile, *_over_time, with `for:`, labels and templated
      annotations; thresholds are spread so that a share of them fire.
  rules_bench.py state URL GROUP
      Prints `last_evaluation_unix evaluation_seconds rules firing_alerts unhealthy_rules` of the
      group from URL/api/v1/rules (the Prometheus API, served by Pharos too).
"""

import argparse
import http.server
import json
import math
import re
import sys
import time
import urllib.request
from datetime import datetime, timezone

BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
METHODS = ["GET", "POST"]
CODES = ["200", "404", "500"]
PATHS = ["/", "/api/v1/users", "/login"]
STATUSES = ["200", "500"]


def h(*parts):
    """A stable pseudo-random number in [0, 1) from the parts (FNV-1a)."""
    x = 0xCBF29CE484222325
    for c in "|".join(map(str, parts)).encode():
        x = ((x ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return (x >> 11) / float(1 << 53)


def counter(t, rate, *key):
    """Grows by about `rate`/s with a wobble that never makes it decrease."""
    phase = h("phase", *key) * 6.283
    return 10_000 + math.floor(h("base", *key) * 100_000) + rate * t + 0.9 * rate * 30 * math.sin(t / 30 + phase)


def exposition(hosts, now):
    t = now - 1_700_000_000
    out = []
    add = out.append
    for i in range(hosts):
        inst = f"host-{i}:9100"
        for m in METHODS:
            for ci, c in enumerate(CODES):
                rate = [8.0, 1.0, 0.4][ci] * (0.2 + 1.6 * h("req", i, m, c))
                add(f'http_requests_total{{job="api",instance="{inst}",method="{m}",code="{c}"}} {counter(t, rate, i, m, c):.3f}')
        add(f'process_cpu_seconds_total{{job="api",instance="{inst}"}} {counter(t, 0.02 + 0.2 * h("cpu", i), i, "cpu"):.3f}')
        for s in ("s0", "s1", "s2"):
            temp = 20 + 40 * h("temp", i, s) + 8 * math.sin(t / 600 + 6.283 * h("tp", i, s))
            add(f'node_temperature_celsius{{instance="{inst}",sensor="{s}"}} {temp:.2f}')
        add(f'node_load1{{instance="{inst}"}} {4 * h("load", i, int(t) // 15):.3f}')
        for q in ("a", "b"):
            add(f'queue_depth{{instance="{inst}",queue="{q}"}} {round(50 * h("q", i, q) * (1 + math.sin(t / 120 + i))) }')
        add(f'target_up{{job="api",instance="{inst}"}} {0 if h("up", i, int(t) // 60) < 0.03 else 1}')
        for m in METHODS:
            for p in PATHS:
                for st in STATUSES:
                    total_rate = (10.0 if st == "200" else 1.0) * (0.2 + h("hist", i, m, p, st))
                    total = counter(t, total_rate, i, m, p, st)
                    slow = 0.3 + 1.2 * h("slow", i, m, p, st)
                    lbl = f'job="api",instance="{inst}",method="{m}",path="{p}",status="{st}"'
                    for b, le in enumerate(BUCKETS):
                        frac = 1.0 if le == "+Inf" else 1.0 - 0.5 ** ((b + 1) * slow)
                        add(f'http_request_duration_seconds_bucket{{{lbl},le="{le}"}} {math.floor(total * frac)}')
                    add(f"http_request_duration_seconds_sum{{{lbl}}} {total * 0.6 / slow:.3f}")
                    add(f"http_request_duration_seconds_count{{{lbl}}} {math.floor(total)}")
    out.append("")
    return "\n".join(out).encode()


def serve(port, hosts):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = exposition(hosts, time.time())
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def rules(hosts, count, interval):
    """One group of `count` alerting rules cycling through ten shapes."""
    out = ["groups:", "- name: bench", f"  interval: {interval}", "  rules:"]
    for i in range(count):
        k = (i // 10) % hosts
        inst = f"host-{k}:9100"
        f = (i // 10) / max(1, count // 10)  # 0..1: spreads thresholds so a share fire
        shape = i % 10
        if shape == 0:
            expr = (f'sum by (instance) (rate(http_requests_total{{job="api",code="500"}}[5m])) '
                    f'/ sum by (instance) (rate(http_requests_total{{job="api"}}[5m])) > {0.06 + 0.03 * f:.4f}')
        elif shape == 1:
            expr = (f'histogram_quantile(0.99, sum by (le, instance) (rate(http_request_duration_seconds_bucket'
                    f'{{instance="{inst}"}}[5m]))) > {5 + 6 * f:.3f}')
        elif shape == 2:
            expr = f'node_temperature_celsius{{instance="{inst}"}} > {30 + 40 * f:.2f}'
        elif shape == 3:
            expr = f'rate(process_cpu_seconds_total{{instance="{inst}"}}[5m]) > {0.05 + 0.2 * f:.4f}'
        elif shape == 4:
            expr = f'avg_over_time(node_load1{{instance=~"host-{k}:.*"}}[10m]) > {1 + 2 * f:.3f}'
        elif shape == 5:
            expr = f'max by (instance) (queue_depth) > {70 + 40 * f:.1f}'
        elif shape == 6:
            expr = f'target_up{{job="api",instance="{inst}"}} == 0'
        elif shape == 7:
            expr = (f'sum by (instance) (rate(http_request_duration_seconds_count{{status="500"}}[5m])) '
                    f'> {4.5 + 1.5 * f:.3f}')
        elif shape == 8:
            expr = f'increase(http_requests_total{{instance="{inst}",code="404"}}[10m]) > {300 + 1500 * f:.1f}'
        else:
            expr = (f'sum by (instance) (rate(http_request_duration_seconds_sum{{instance="{inst}"}}[5m])) '
                    f'/ sum by (instance) (rate(http_request_duration_seconds_count{{instance="{inst}"}}[5m])) > {0.4 + 1.6 * f:.3f}')
        out.append(f"  - alert: BenchAlert{shape}_{i}")
        out.append(f"    expr: {json.dumps(expr)}")
        if i % 3 == 0:
            out.append("    for: 1m")
        out.append("    labels:")
        out.append(f"      severity: {'page' if i % 4 == 0 else 'ticket'}")
        out.append(f"      team: team-{i % 7}")
        out.append("    annotations:")
        out.append("      summary: \"{{ $labels.instance }} over threshold: {{ $value | humanize }}\"")
        out.append(f"      runbook: \"https://runbooks.example/{shape}\"")
    return "\n".join(out) + "\n"


def parse_time(s):
    """RFC 3339 with up to nanoseconds -> unix seconds (0 for Go's zero time)."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", s)
    if not m:
        raise ValueError(f"bad time {s!r}")
    base = datetime.fromisoformat(m.group(1) + ("+00:00" if m.group(3) == "Z" else m.group(3)))
    if base.year < 1971:
        return 0.0
    return base.timestamp() + (float(m.group(2)) if m.group(2) else 0.0)


def state(url, group):
    with urllib.request.urlopen(url.rstrip("/") + "/api/v1/rules", timeout=60) as r:
        doc = json.load(r)
    for g in doc["data"]["groups"]:
        if g["name"] != group:
            continue
        firing = sum(1 for rule in g["rules"] for a in rule.get("alerts", []) if a.get("state") == "firing")
        unhealthy = sum(1 for rule in g["rules"] if rule.get("health") not in ("ok", "unknown"))
        print(f'{parse_time(g["lastEvaluation"]):.3f} {g["evaluationTime"]:.6f} {len(g["rules"])} {firing} {unhealthy}')
        for rule in g["rules"]:
            if rule.get("lastError"):
                print(f'# {rule["name"]}: {rule["lastError"]}', file=sys.stderr)
                break
        return 0
    print(f"no group {group}", file=sys.stderr)
    return 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("target")
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--hosts", type=int, required=True)
    r = sub.add_parser("rules")
    r.add_argument("--hosts", type=int, required=True)
    r.add_argument("--count", type=int, default=1000)
    r.add_argument("--interval", default="5s")
    s = sub.add_parser("state")
    s.add_argument("url")
    s.add_argument("group")
    a = p.parse_args()
    if a.cmd == "target":
        serve(a.port, a.hosts)
    elif a.cmd == "rules":
        sys.stdout.write(rules(a.hosts, a.count, a.interval))
    else:
        return state(a.url, a.group)
    return 0


if __name__ == "__main__":
    sys.exit(main())
