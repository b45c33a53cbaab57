#!/usr/bin/env python3
"""Range-query latency of several Prometheus-API servers, measured with one client.

Every system gets the same GET /api/v1/query_range requests over a kept-alive HTTP connection,
interleaved round by round (system order rotating) so that load from other processes on a noisy
machine falls on all systems alike. Latency is request sent -> whole body read (JSON decoding is
not timed). The first (warm-up) answer of every query is kept and compared between systems:
Pharos must equal the reference system (Prometheus) after parsing the float strings: identical
float64 values (NaN equals NaN), or within --tolerance relative where the reference's version is
known to round differently; a mismatch turns Pharos' latency fields of that row into FAIL so a
fast wrong answer cannot win. Other systems' differences (VictoriaMetrics
computes rate() and friends differently by design) are reported as comments only.

Usage:
  query_bench.py --system NAME=URL[@PID] ... --range LABEL:SECONDS:STEP ... --end EPOCH
                 --runs N --query NAME=EXPR ... [--strict NAME] [--reference NAME]
                 [--columns pharos,prometheus,victoriametrics] [--answers DIR]
Writes result lines (row, metric, unit, one field per column) and '#' comments to stdout.
"""

import argparse
import http.client
import json
import math
import os
import sys
import time
import urllib.parse


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--system", action="append", required=True, help="NAME=URL[@PID]")
    p.add_argument("--range", action="append", required=True, help="LABEL:SECONDS:STEP")
    p.add_argument("--query", action="append", required=True, help="NAME=EXPR")
    p.add_argument("--end", type=int, required=True, help="end of every range (unix seconds)")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--reference", default="prometheus")
    p.add_argument("--strict", action="append", default=[], help="systems that must equal the reference")
    p.add_argument("--columns", default="pharos,prometheus,victoriametrics")
    p.add_argument("--answers", default="", help="directory to keep the raw answers in")
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--tolerance", type=float, default=0.0,
                   help="relative difference a strict system may show (0: bit-identical values)")
    return p.parse_args()


class System:
    def __init__(self, spec, timeout):
        name, rest = spec.split("=", 1)
        pid = None
        if "@" in rest:
            rest, pid_s = rest.rsplit("@", 1)
            pid = int(pid_s)
        url = urllib.parse.urlparse(rest)
        self.name, self.pid, self.host, self.port = name, pid, url.hostname, url.port
        self.prefix = url.path.rstrip("/")
        self.timeout = timeout
        self.conn = None

    def get(self, path, params):
        """Returns (seconds, status, body bytes); reconnects once on a dropped connection."""
        target = self.prefix + path + "?" + urllib.parse.urlencode(params)
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self.conn.connect()
            try:
                t0 = time.perf_counter()
                self.conn.request("GET", target, headers={"Accept-Encoding": "identity"})
                resp = self.conn.getresponse()
                body = resp.read()
                dt = time.perf_counter() - t0
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return dt, resp.status, body
            except (http.client.HTTPException, ConnectionError, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def cpu_seconds(self):
        if self.pid is None:
            return None
        with open(f"/proc/{self.pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, q):
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def normalise(body):
    """{label tuple: [(t, value)]} of a matrix answer, or an error string."""
    try:
        doc = json.loads(body)
    except ValueError as e:
        return f"invalid JSON: {e}"
    if doc.get("status") != "success":
        return f"{doc.get('errorType', '?')}: {doc.get('error', '?')}"
    data = doc.get("data", {})
    if data.get("resultType") != "matrix":
        return f"resultType {data.get('resultType')}"
    out = {}
    for s in data.get("result", []):
        key = tuple(sorted(s.get("metric", {}).items()))
        out[key] = [(float(t), float(v)) for t, v in s.get("values", [])]
    return out


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


def compare(ref, got, rel_tol=0.0):
    """(equal?, description) of two normalised answers."""
    if isinstance(ref, str) or isinstance(got, str):
        return False, f"error answer: reference={ref if isinstance(ref, str) else 'ok'} got={got if isinstance(got, str) else 'ok'}"
    missing = len(set(ref) - set(got))
    extra = len(set(got) - set(ref))
    points = diff_points = diff_ts = 0
    worst = 0.0
    for key, rpts in ref.items():
        gpts = got.get(key)
        if gpts is None:
            continue
        gmap = dict(gpts)
        for t, v in rpts:
            points += 1
            if t not in gmap:
                diff_ts += 1
                continue
            w = gmap[t]
            if same(v, w):
                continue
            if rel_tol and math.isfinite(v) and math.isfinite(w):
                rel = abs(v - w) / max(abs(v), abs(w), 1e-300)
                worst = max(worst, rel)
                if rel <= rel_tol:
                    continue
            diff_points += 1
        diff_ts += len(set(gmap) - {t for t, _ in rpts})
    equal = missing == 0 and extra == 0 and diff_points == 0 and diff_ts == 0
    parts = [f"{len(ref)} series, {points} points"]
    if missing or extra:
        parts.append(f"{missing} series missing, {extra} extra")
    if diff_ts:
        parts.append(f"{diff_ts} points at other timestamps")
    if rel_tol:
        parts.append(f"{diff_points} values off by more than {rel_tol:g} relative (worst {worst:.3g})")
    else:
        parts.append(f"{diff_points} values differ")
    return equal, "; ".join(parts)


def main():
    a = parse_args()
    systems = [System(s, a.timeout) for s in a.system]
    columns = a.columns.split(",")
    queries = [q.split("=", 1) for q in a.query]
    ranges = []
    for r in a.range:
        label, secs, step = r.split(":")
        ranges.append((label, int(secs), step))
    cpu0 = {s.name: s.cpu_seconds() for s in systems}
    wall0 = time.time()
    failures = 0

    def emit(row, metric, unit, values):
        print("\t".join([row, metric, unit] + [values.get(c, "") for c in columns]), flush=True)

    for label, secs, step in ranges:
        for qname, expr in queries:
            params = {"query": expr, "start": a.end - secs, "end": a.end, "step": step}
            row = f"{label} {qname}"
            print(f"# {row}: {expr}", flush=True)
            answers, times, errors = {}, {s.name: [] for s in systems}, {}
            for s in systems:  # warm-up request, whose answer is compared
                _, status, body = s.get("/api/v1/query_range", params)
                answers[s.name] = normalise(body)
                if a.answers:
                    fname = f"{label}-{qname}-{s.name}.json".replace(" ", "_").replace("/", "_")
                    with open(os.path.join(a.answers, fname), "wb") as f:
                        f.write(body)
                if status != 200 or isinstance(answers[s.name], str):
                    errors[s.name] = f"HTTP {status}: {answers[s.name] if isinstance(answers[s.name], str) else ''}"
            for i in range(a.runs):
                order = systems[i % len(systems):] + systems[:i % len(systems)]
                for s in order:
                    if s.name in errors:
                        continue
                    dt, status, _ = s.get("/api/v1/query_range", params)
                    if status != 200:
                        errors[s.name] = f"HTTP {status} in a timed run"
                    times[s.name].append(dt * 1000.0)
            verdict = {}
            ref = answers.get(a.reference)
            for s in systems:
                if s.name == a.reference or ref is None:
                    continue
                strict = s.name in a.strict
                ok, desc = compare(ref, answers[s.name], 0.0)
                if not ok and strict and a.tolerance > 0:
                    ok, desc2 = compare(ref, answers[s.name], a.tolerance)
                    if ok:
                        desc = f"{desc} in the last bits: {desc2}"
                if ok:
                    print(f"#   {s.name} answer equals {a.reference}'s ({desc})", flush=True)
                elif strict:
                    verdict[s.name] = "FAIL"
                    failures += 1
                    print(f"#   MISMATCH {s.name} vs {a.reference}: {desc}", flush=True)
                else:
                    _, desc = compare(ref, answers[s.name], 1e-9)
                    print(f"#   {s.name} differs from {a.reference} (not failed: computed differently by design): {desc}", flush=True)
            med, p99 = {}, {}
            for s in systems:
                if s.name in errors:
                    print(f"#   ERROR {s.name}: {errors[s.name]}", flush=True)
                    med[s.name] = p99[s.name] = "ERR"
                    continue
                m, p = percentile(times[s.name], 0.5), percentile(times[s.name], 0.99)
                if s.name in verdict:
                    print(f"#   {s.name} measured {m:.2f} ms median, {p:.2f} ms p99 but its answer is wrong", flush=True)
                    med[s.name] = p99[s.name] = verdict[s.name]
                else:
                    med[s.name], p99[s.name] = f"{m:.2f}", f"{p:.2f}"
            emit(row, "median latency", "ms", med)
            emit(row, "p99 latency", "ms", p99)
    wall = time.time() - wall0
    cpu = {}
    for s in systems:
        c = s.cpu_seconds()
        if c is not None and cpu0[s.name] is not None:
            cpu[s.name] = f"{c - cpu0[s.name]:.2f}"
    if cpu:
        emit(f"all queries x{a.runs + 1}", "server CPU", "s", cpu)
    print(f"# query phase took {wall:.0f} s wall; {failures} answer mismatch(es)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
