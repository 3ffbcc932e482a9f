#!/usr/bin/env python3
"""measure LABEL N [HANDSHAKES_PER_TARGET] -- CMD...: runs CMD once, prints
one JSON line with wall time, CPU time (user+sys, including waited-for
children), peak RSS (of the largest process: staplegate or its prober) and
the most file descriptors it and its children (the prober holds the
sockets) held open at once (sampled every 50 ms from /proc, so a brief peak
may be missed)."""
import json, os, subprocess, sys, time

def open_fds(pid):
    """Descriptors of pid and its descendants."""
    try:
        n = len(os.listdir(f"/proc/{pid}/fd"))
        kids = open(f"/proc/{pid}/task/{pid}/children").read().split()
    except OSError:
        return 0
    return n + sum(open_fds(int(k)) for k in kids)

label, n = sys.argv[1], int(sys.argv[2])
sep = sys.argv.index("--")
per = int(sys.argv[3]) if sep > 3 else 1
cmd = sys.argv[sep + 1:]
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
os.set_blocking(p.stderr.fileno(), False)
fds, err = 0, b""
while True:
    fds = max(fds, open_fds(p.pid))
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
