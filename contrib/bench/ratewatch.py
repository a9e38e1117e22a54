#!/usr/bin/python3
"""ratewatch: N concurrent HTTPS GETs, each on its own TLS connection
(HTTP/1.1, one request), with the arrival time and size of every read
recorded, so that rate limits can be checked from the client's side.

Prints JSON: for each connection its status, body bytes, durations (first
to last body byte, and request sent to last body byte), average rate, the
largest amount received in any sliding window (default 1 s) that starts at
least --skip seconds after its first body byte, and per-second bins of body
bytes counted from the run's start (common to all connections, so phases
of a run can be compared); "all" holds the same figures for all
connections merged.  Rates are in bytes per second.

  ratewatch.py https://127.0.0.1:8443/obj.bin -n 10 --cafile cert.crt \\
      --duration 10 --stop 5-9@5 --skip 1
"""
import argparse
import bisect
import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse

BUF = 64 * 1024


def parse_ids(spec, n):
    """'0-4,7' -> {0, 1, 2, 3, 4, 7}"""
    ids = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        ids.update(range(int(lo), int(hi or lo) + 1))
    return {i for i in ids if i < n}


class Conn:
    def __init__(self, i):
        self.id = i
        self.status = None
        self.error = None
        self.t_req = None       # request sent, s since the run's start
        self.times = []         # arrival of each read of body bytes
        self.sizes = []
        self.stop_at = None     # s since the run's start


def fetch(c, url, ctx, t0, start, deadline, source, host_hdr):
    """One GET; body bytes are recorded until EOF, Content-Length or
    `deadline` (s since t0), whichever comes first."""
    u = urllib.parse.urlsplit(url)
    port = u.port or 443
    path = (u.path or "/") + ("?" + u.query if u.query else "")
    now = time.monotonic
    time.sleep(max(0.0, t0 + start - now()))
    sock = None
    try:
        raw = socket.create_connection((u.hostname, port), timeout=30,
                                       source_address=(source, 0) if source else None)
        sock = ctx.wrap_socket(raw, server_hostname=u.hostname)
        host = host_hdr or u.netloc
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
               "User-Agent: ratewatch\r\nAccept: */*\r\nConnection: close\r\n\r\n")
        c.t_req = now() - t0
        sock.sendall(req.encode())
        buf = bytearray(BUF)
        view = memoryview(buf)
        head = b""
        length = None
        got = 0
        while True:
            left = t0 + deadline - now() if deadline is not None else 30.0
            if left <= 0:
                break
            sock.settimeout(min(left, 30.0))
            try:
                n = sock.recv_into(view, BUF)
            except socket.timeout:
                if deadline is not None and now() >= t0 + deadline:
                    break
                raise
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
                n = 0
            t = now() - t0
            if n == 0:
                break
            if c.status is None:            # still in the header section
                head += bytes(view[:n])
                end = head.find(b"\r\n\r\n")
                if end < 0:
                    continue
                lines = head[:end].decode("latin-1").split("\r\n")
                c.status = int(lines[0].split()[1])
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    if k.strip().lower() == "content-length":
                        length = int(v)
                n = len(head) - end - 4
                if n == 0:
                    if length == 0:
                        break
                    continue
            c.times.append(t)
            c.sizes.append(n)
            got += n
            if length is not None and got >= length:
                break
    except Exception as e:  # noqa: BLE001 - reported per connection
        c.error = f"{type(e).__name__}: {e}"
    finally:
        if sock is not None:
            sock.close()


def max_window(times, sizes, width, t_from):
    """Largest B(t+width) - B(t) with t >= t_from, where B(t) is the bytes
    received up to and including t: the bytes of a read are counted for
    the interval that ends at its arrival.  The maximum is reached with
    the window's left edge on an arrival or its right edge on one."""
    if not times:
        return 0
    cum = [0]
    for s in sizes:
        cum.append(cum[-1] + s)

    def b(t):               # bytes received at times <= t
        return cum[bisect.bisect_right(times, t)]

    best = 0
    for t in times:
        for lo in (t, t - width):
            if lo >= t_from:
                best = max(best, b(lo + width) - b(lo))
    if best == 0 and times[-1] - t_from > 0:    # fewer arrivals than windows
        best = b(times[-1]) - b(t_from)
    return best


def bins(times, sizes):
    out = []
    for t, s in zip(times, sizes):
        k = int(t)
        out.extend([0] * (k + 1 - len(out)))
        out[k] += s
    return out


def summary(times, sizes, t_req, skip, width, with_bins):
    r = {"bytes": sum(sizes)}
    if times:
        first, last = times[0], times[-1]
        r["t_first"] = round(first, 6)
        r["t_last"] = round(last, 6)
        r["dur_body"] = round(last - first, 6)
        r["dur_total"] = round(last - t_req, 6)
        r["rate"] = r["bytes"] / (last - t_req) if last > t_req else None
        r["max_window"] = max_window(times, sizes, width, first + skip)
        if with_bins:
            r["bins"] = bins(times, sizes)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url")
    ap.add_argument("-n", type=int, default=1, help="connections")
    ap.add_argument("--cafile", help="verify the server against this CA")
    ap.add_argument("--insecure", action="store_true", help="do not verify")
    ap.add_argument("--host", help="Host header (default: from the URL)")
    ap.add_argument("--source", help="local address to connect from")
    ap.add_argument("--stagger", type=float, default=0.0,
                    help="seconds between connection starts")
    ap.add_argument("--duration", type=float,
                    help="read each connection for this long (default: to EOF)")
    ap.add_argument("--stop", action="append", default=[], metavar="IDS@T",
                    help="stop connections IDS (e.g. 0-4,7) at T s after the start")
    ap.add_argument("--skip", type=float, default=0.0,
                    help="sliding windows start this long after the first byte")
    ap.add_argument("--window", type=float, default=1.0)
    ap.add_argument("--no-bins", action="store_true")
    a = ap.parse_args()

    if a.insecure:
        ctx = ssl._create_unverified_context()
    else:
        ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    conns = [Conn(i) for i in range(a.n)]
    for spec in a.stop:
        ids, _, t = spec.partition("@")
        for i in parse_ids(ids, a.n):
            conns[i].stop_at = float(t)
    t0 = time.monotonic() + 0.2     # time for all the threads to start
    threads = []
    for c in conns:
        start = c.id * a.stagger
        ends = [x for x in (c.stop_at, a.duration and start + a.duration) if x]
        th = threading.Thread(target=fetch, daemon=True,
                              args=(c, a.url, ctx, t0, start,
                                    min(ends) if ends else None, a.source, a.host))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()

    out = {"url": a.url, "n": a.n, "window": a.window, "skip": a.skip,
           "connections": []}
    for c in conns:
        r = {"id": c.id, "status": c.status, "error": c.error,
             "t_req": round(c.t_req, 6) if c.t_req is not None else None}
        r.update(summary(c.times, c.sizes, c.t_req or 0, a.skip, a.window,
                         not a.no_bins))
        out["connections"].append(r)
    ev = sorted((t, s) for c in conns for t, s in zip(c.times, c.sizes))
    starts = [c.t_req for c in conns if c.t_req is not None]
    out["all"] = summary([t for t, _ in ev], [s for _, s in ev],
                         min(starts) if starts else 0, a.skip, a.window,
                         not a.no_bins)
    out["errors"] = sum(1 for c in conns if c.error or c.status != 200)
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
