#!/usr/bin/env python3
"""Prints the cost-growth table and the ratios the fleet-scale issues ask
for, each against the baseline measured in the same run. staplegate
confirms each target with --confirm handshakes (3 by default): it is
compared with the raw floor making as many handshakes per target, and,
with --confirm 1, with the one-handshake floor and s_client."""
import json, os, sys

rows = [json.loads(l) for l in open(sys.argv[1])]
cpu = os.popen("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").read().strip()
print(f"machine: nproc {os.cpu_count()}, {cpu}; server (nginx, 2 workers) on the same cores")
print(f"{'run':52} {'N':>6} {'hs':>6} {'wall s':>7} {'cpu s':>7} {'hs/cpu-s':>8} {'RSS MB':>6} {'fds':>6} exit")
for r in rows:
    rate = r["hs"] / r["cpu"] if r["cpu"] > 0 else float("inf")
    print(f"{r['label']:52} {r['n']:6d} {r['hs']:6d} {r['wall']:7.2f} {r['cpu']:7.2f} {rate:8.0f} {r['rss_mb']:6.1f} {r['fds']:6d} {r['exit']}")

def get(label, n):
    return next(r for r in rows if r["label"] == label and r["n"] == n)

sg = get("staplegate", 1000)
k = sg["hs"] // sg["n"]
print()
for n in (1000, 10000):
    d, f = get("staplegate", n), get(f"raw floor, {k} handshakes per target", n)
    d1, f1 = get("staplegate --confirm 1", n), get("raw floor", n)
    print(f"{n:,} targets, default (--confirm {k}) / raw floor at {k} handshakes per target (wall): "
          f"{d['wall'] / f['wall']:.2f}x ({d['wall']:.2f} s / {f['wall']:.2f} s)  (goal <= 1.2x)")
    print(f"{n:,} targets, --confirm 1 / raw floor at 1 handshake per target (wall): "
          f"{d1['wall'] / f1['wall']:.2f}x ({d1['wall']:.2f} s / {f1['wall']:.2f} s)  (goal <= 1.2x)")
for n in (100, 1000, 10000):
    d, f = get("staplegate", n), get(f"raw floor, {k} handshakes per target", n)
    print(f"{n:,} targets, peak RSS: staplegate {d['rss_mb']:.1f} MB, --confirm 1 "
          f"{get('staplegate --confirm 1', n)['rss_mb']:.1f} MB, raw floor {f['rss_mb']:.1f} MB"
          + ("  (goal <= 32 MB)" if n == 10000 else ""))
def best(label, n, key):
    return min(r[key] for r in rows if r["label"] == label and r["n"] == n)

a, b = "prober: staplegate", "prober: staplegate --no-sandbox"
print(f"1,000 targets, sandboxed / --no-sandbox, best of 3 each (the prober's cost): wall "
      f"{best(a, 1000, 'wall') / best(b, 1000, 'wall'):.2f}x, cpu {best(a, 1000, 'cpu') / best(b, 1000, 'cpu'):.2f}x, "
      f"peak RSS {best(a, 1000, 'rss_mb'):.1f} / {best(b, 1000, 'rss_mb'):.1f} MB  (goal <= 1.05x)")
xargs, sg1 = get("s_client xargs -P16", 1000), get("staplegate --confirm 1", 1000)
print(f"1,000 targets, s_client xargs -P16 / staplegate --confirm 1 (wall): {xargs['wall'] / sg1['wall']:.1f}x faster  (goal >= 12x)")
for n in (1000, 10000):
    bh, bh1 = get("staplegate, 5% black-holed, --timeout 2s", n), get("staplegate --confirm 1, 5% black-holed, --timeout 2s", n)
    d, d1 = get("staplegate", n), get("staplegate --confirm 1", n)
    print(f"{n:,} targets, 5% black-holed, --timeout 2s: --confirm 1 {bh1['wall']:.2f} s (+{bh1['wall'] - d1['wall']:.2f} s over "
          f"none black-holed), default {bh['wall']:.2f} s (+{bh['wall'] - d['wall']:.2f} s)  (goal: one timeout, 2 s, not one per target)")
for n in (1000, 10000):
    m, d = get(f"monitor, {n // 10} domains x 10 targets", n), get("staplegate", n)
    print(f"monitor, {n // 10:,} domains x 10 targets / check of the same {n:,} targets (wall): {m['wall'] / d['wall']:.2f}x, "
          f"peak RSS {m['rss_mb']:.1f} MB")
print("Honesty: the s_client baseline verifies nothing (no signature, no CertID, no")
print("freshness); the raw floor verifies nothing either; staplegate verifies every staple.")
