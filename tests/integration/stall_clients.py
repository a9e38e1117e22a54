#!/usr/bin/python3
"""Hostile slow TLS clients for the proxy's deadline and admission tests.

usage: stall_clients.py PORT N MODE [--source ADDR] [--hold S]
                        [--interval S] [--ready FILE [--ready-at K]]
                        [--times FILE]
Opens N connections to 127.0.0.1:PORT one after another; each, in MODE:
  idle     connects and sends nothing
  hello    sends a TLS ClientHello, then nothing: the server's handshake
           waits for the client
  ready    completes the TLS handshake, then sends nothing
  headers  completes the handshake, sends part of a request's header
           section, then nothing
  trickle  completes the handshake, then sends one header byte every
           --interval seconds (slowloris), never ending the header section
A connection is "ready" once its mode's opening is done (connected, hello
sent, handshake done).  One that fails before that (reset, end of stream,
timeout) counts as refused.  Once all N (or --ready-at) were tried, FILE
(--ready) gets "opened K open J" (J: of those K, not closed yet).  Once
all N were tried, the connections are held --hold seconds (trickle: each
until --hold seconds after it became ready), or until all are closed.

The server's closing is seen with poll(POLLRDHUP): its FIN (or a reset)
counts even with the server's handshake bytes or session tickets still
unread in the socket, where a recv() would return those bytes first.

Prints one line of key=value (times in seconds):
  attempted opened refused refused_max (slowest refusal, from connect)
  closed open (at the end)
  close_min close_max  (closing time from ready, of those closed)
  close_from_connect_min  (closing time from before connect())
--times FILE gets a line per opened connection: "READY_S CLOSE_S", the
times from connect() to ready and from ready to the close (- if open).
"""
import argparse
import heapq
import os
import select
import socket
import ssl
import sys
import time

HEADER = b"GET /b/k HTTP/1.1\r\nHost: s3.docker.mender.io\r\nX-Pad: "


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("mode", choices=["idle", "hello", "ready", "headers", "trickle"])
    ap.add_argument("--source", default=None)
    ap.add_argument("--hold", type=float, default=5.0)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--ready", default=None)
    ap.add_argument("--ready-at", type=int, default=None)
    ap.add_argument("--times", default=None)
    a = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    poller = select.poll()
    conns = {}  # fd -> [sock, t_connect, t_ready, t_closed, next_byte, hello]
    due = []  # (time, fd): trickle sends
    refused, refused_max = 0, 0.0

    def ready():
        if a.ready:
            with open(a.ready + ".tmp", "w") as f:
                f.write("opened %d open %d\n" % (
                    len(conns), sum(c[3] is None for c in conns.values())))
            os.rename(a.ready + ".tmp", a.ready)

    def closed(fd, now):
        c = conns[fd]
        if c[3] is None:
            c[3] = now
            poller.unregister(fd)

    def pump(timeout_ms):
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, fd = heapq.heappop(due)
            c = conns[fd]
            if c[3] is not None:
                continue
            try:
                c[0].send(HEADER[c[4]:c[4] + 1] if c[4] < len(HEADER) else b"a")
                c[4] += 1
                heapq.heappush(due, (c[2] + c[4] * a.interval, fd))
            except OSError:
                closed(fd, now)
        if due:
            timeout_ms = max(0, min(timeout_ms, (due[0][0] - now) * 1000))
        for fd, _ in poller.poll(timeout_ms):
            closed(fd, time.monotonic())

    ready_at = a.n if a.ready_at is None else min(a.n, a.ready_at)
    for i in range(a.n):
        if i == ready_at and ready_at < a.n:
            ready()
        t0 = time.monotonic()
        s = tls = None
        try:
            s = socket.create_connection(("127.0.0.1", a.port), timeout=10,
                                         source_address=(a.source, 0) if a.source else None)
            if a.mode == "hello":
                inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
                o = ctx.wrap_bio(inc, out)
                try:
                    o.do_handshake()
                except ssl.SSLWantReadError:
                    pass
                s.sendall(out.read())
                tls = o
            elif a.mode != "idle":
                s = ctx.wrap_socket(s)
                if a.mode == "headers":
                    s.sendall(HEADER)
        except (OSError, ssl.SSLError):
            refused += 1
            refused_max = max(refused_max, time.monotonic() - t0)
            if s is not None:
                s.close()
            pump(0)
            continue
        t1 = time.monotonic()
        fd = s.fileno()
        conns[fd] = [s, t0, t1, None, 0, tls]
        poller.register(fd, select.POLLRDHUP)
        if a.mode == "trickle":
            heapq.heappush(due, (t1, fd))
        pump(0)
    if ready_at == a.n:
        ready()
    t_all = time.monotonic()
    end = t_all + a.hold
    if a.mode == "trickle" and conns:
        end = max(c[2] for c in conns.values()) + a.hold
    while any(c[3] is None for c in conns.values()):
        now = time.monotonic()
        if now >= end:
            break
        pump(min(50, (end - now) * 1000))

    done = [c for c in conns.values() if c[3] is not None]
    after_ready = [c[3] - c[2] for c in done]
    after_connect = [c[3] - c[1] for c in done]
    if a.times:
        with open(a.times, "w") as f:
            for c in conns.values():
                f.write("%.3f %s\n" % (c[2] - c[1], "-" if c[3] is None
                                       else "%.3f" % (c[3] - c[2])))
    print("attempted=%d opened=%d refused=%d refused_max=%.3f closed=%d open=%d "
          "close_min=%s close_max=%s close_from_connect_min=%s" % (
              a.n, len(conns), refused, refused_max, len(done),
              len(conns) - len(done),
              "%.3f" % min(after_ready) if done else "-",
              "%.3f" % max(after_ready) if done else "-",
              "%.3f" % min(after_connect) if done else "-"), flush=True)
    for c in conns.values():
        c[0].close()


if __name__ == "__main__":
    sys.exit(main())
