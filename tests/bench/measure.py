#!/usr/bin/env python3
"""measure LABEL N [HANDSHAKES_PER_TARGET] -- CMD...: runs CMD once, prints
one JSON line with wall time, CPU time (user+sys, including waited-for
children), peak RSS and the most file descriptors it held open at once
(sampled every 50 ms from /proc, so a brief peak may be missed)."""
import json, os, subprocess, sys, time

label, n = sys.argv[1], int(sys.argv[2])
sep = sys.argv.index("--")
per = int(sys.argv[3]) if sep > 3 else 1
cmd = sys.argv[sep + 1:]
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
os.set_blocking(p.stderr.fileno(), False)
fds, err = 0, b""
while True:
    try:
        fds = max(fds, len(os.listdir(f"/proc/{p.pid}/fd")))
    except OSError:
        pass
    try:
        err += p.stderr.read() or b""
    except (BlockingIOError, TypeError):
        pass
    got, status, ru = os.wait4(p.pid, os.WNOHANG)
    if got:
        break
    time.sleep(0.05)
wall = time.monotonic() - t0
cpu = ru.ru_utime + ru.ru_stime
print(json.dumps({"label": label, "n": n, "hs": n * per, "wall": wall, "cpu": cpu,
                  "rss_mb": ru.ru_maxrss / 1024.0, "fds": fds,
                  "exit": os.waitstatus_to_exitcode(status),
                  "err": err.decode(errors="replace").strip().splitlines()[-1:]}))
