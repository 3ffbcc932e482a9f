#!/usr/bin/env python3
"""measure LABEL N [HANDSHAKES_PER_TARGET] -- CMD...: runs CMD once, prints
one JSON line with wall time, CPU time (user+sys, including waited-for
children) and peak RSS."""
import json, os, subprocess, sys, time

label, n = sys.argv[1], int(sys.argv[2])
sep = sys.argv.index("--")
per = int(sys.argv[3]) if sep > 3 else 1
cmd = sys.argv[sep + 1:]
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
out = p.stdout.read()
_, status, ru = os.wait4(p.pid, 0)
wall = time.monotonic() - t0
cpu = ru.ru_utime + ru.ru_stime
print(json.dumps({"label": label, "n": n, "hs": n * per, "wall": wall, "cpu": cpu,
                  "rss_mb": ru.ru_maxrss / 1024.0,
                  "exit": os.waitstatus_to_exitcode(status),
                  "tail": out.decode(errors="replace").strip().splitlines()[-1:]}))
