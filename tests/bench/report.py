#!/usr/bin/env python3
"""Prints the benchmark table and the ratios the fleet-scale issue asks for.
staplegate confirms each target with --confirm handshakes (3 by default):
it is compared with the raw floor making as many handshakes per target,
and, with --confirm 1, with the one-handshake floor and s_client."""
import json, os, sys

rows = [json.loads(l) for l in open(sys.argv[1])]
cpu = os.popen("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").read().strip()
print(f"machine: {os.cpu_count()} cores, {cpu}; server (nginx, 2 workers) on the same machine")
print(f"{'run':58} {'N':>5} {'hs':>5} {'wall s':>8} {'cpu s':>7} {'hs/cpu-s':>9} {'RSS MB':>7} exit")
for r in rows:
    hs = r.get("hs", r["n"])
    rate = hs / r["cpu"] if r["cpu"] > 0 else float("inf")
    print(f"{r['label']:58} {r['n']:5d} {hs:5d} {r['wall']:8.3f} {r['cpu']:7.3f} {rate:9.0f} {r['rss_mb']:7.1f} {r['exit']}")

def get(label, n):
    return next(r for r in rows if r["label"] == label and r["n"] == n)

sg = get("staplegate", 1000)
k = sg["hs"] // sg["n"]
floor_k = get(f"raw floor, {k} handshakes per target", 1000)
sg1, floor1 = get("staplegate --confirm 1", 1000), get("raw floor", 1000)
xargs = get("s_client xargs -P16", 1000)
bh = get("staplegate, 5% black-holed, --timeout 2s", 1000)
bh1 = get("staplegate --confirm 1, 5% black-holed, --timeout 2s", 1000)
print()
print(f"1,000 targets, default (--confirm {k}), staplegate / raw floor at {k} handshakes per target (wall): {sg['wall'] / floor_k['wall']:.2f}x  (goal <= 2x)")
print(f"1,000 targets, --confirm 1, staplegate / raw floor at 1 handshake per target (wall): {sg1['wall'] / floor1['wall']:.2f}x  (goal <= 2x)")
print(f"1,000 targets, s_client xargs -P16 / staplegate --confirm 1 (wall): {xargs['wall'] / sg1['wall']:.1f}x faster  (goal >= 12x)")
print(f"1,000 targets, s_client xargs -P16 / staplegate default, {k}x the handshakes (wall): {xargs['wall'] / sg['wall']:.1f}x faster")
print(f"1,000 targets, staplegate peak RSS: {sg['rss_mb']:.1f} MB  (goal <= 30 MB)")
print(f"5% black-holed, --timeout 2s, --confirm 1: {bh1['wall']:.2f} s  (goal <= 3.5 s)")
print(f"5% black-holed, --timeout 2s, default (--confirm {k}): {bh['wall']:.2f} s  (the timeout, overlapping {k}x the handshakes)")
print("Honesty: the s_client baseline verifies nothing (no signature, no CertID, no")
print("freshness); the raw floor verifies nothing either; staplegate verifies every staple.")
