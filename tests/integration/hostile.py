#!/usr/bin/python3
"""Hostile-input test bed for storage-proxy: a recording backend and a raw
TLS client.  Standard library only.

usage:
  hostile.py backend --dir DIR [--port N]
      Plain-HTTP backend on 127.0.0.1 (port 0: any; the port is printed
      first, on stdout).  Every byte received on every connection is
      appended, as it arrives, to DIR/all.bin and to DIR/conn-NNNN.bin; one
      line per parsed request goes to DIR/requests.log ("conn=N METHOD
      TARGET body=LEN sha256=HEX").  A request for /resp/NAME (see
      CANNED) is answered with NAME's raw bytes; one for /early/MODE gets
      403 at once, before its body is read (and no 100 Continue), then the
      body is read and dropped (MODE drain), the connection closed (close)
      or half-closed and read to its end (halfclose); MODE ok answers 200
      with a chunked "ok\\n" instead, then reads the body; any other gets 200
      with the 3-byte body "ok\\n", after 100 Continue if it asked for one
      and its target does not begin with /quiet/.

  hostile.py send --port P [--plain] [--timeout S] [--quiet S] [--out FILE]
                  REQUEST
      Sends REQUEST (Python bytes escapes: \\r \\n \\xHH \\\\) in one piece
      over TLS (no verification) or plain TCP, reads until the proxy closes
      the connection, TIMEOUT passes, or QUIET seconds pass with nothing
      new after complete final responses.  Prints one line:
        statuses=400 closed=yes first=0.004 elapsed=0.010 code=InvalidRequest bytes=N
      statuses: every status line seen, in order, interim ones included
      ("none" if none; "+garbage" if bytes follow that are no response).

  hostile.py case --port P --backend DIR --name NAME --want-status S
                  [--want-close yes|no|any] [--want-code C]
                  [--want-backend SPEC] [--want-client SPEC]
                  [--log FILE] [--timeout S] REQUEST
      One row of a test table: sends REQUEST as `send` does, then checks
      the replies and the bytes the backend received meanwhile, and prints
        ok|FAIL NAME: got S expected S; backend got N bytes [details]
      and, with --log, a second line for the access log:
        ok|FAIL log NAME: got S expected S
      (S: the status in the line for the first request's target) or, with
      --want-log-field FIELD, the one new line's request field, which must
      be FIELD exactly (the log's escaping: \\xHH, no raw '"').
      --want-status any: no check of the statuses.
      Exit status 0 if all held, 1 if not.
      S: the comma-separated statuses (e.g. "200,200"); alternatives with
         "/" ("400/413").
      --want-backend SPEC, items separated by ";" (each item unescaped as
         REQUEST is, so "\\x3b" is a literal ";"):
           nothing       the backend received no byte at all
           any           no check
           line=TEXT     TEXT is one whole line received
           noline=TEXT   TEXT is no whole line received
           one=PREFIX    exactly one line begins with PREFIX (any case)
           requests=N    the backend parsed N requests
           sha256=HEX    one of them had a body with this sha256
      --want-client SPEC, items separated by ";", about the last final
         response (only if it is a 2xx):
           body=HEX      its body is complete and has this sha256
           hdr=LINE      it has this header line (trailing white space off)
"""
import argparse
import codecs
import hashlib
import os
import re
import socket
import socketserver
import ssl
import sys
import threading
import time

# --- the recording backend ---------------------------------------------------

OK_BODY = b"ok\n"
EARLY_BODY = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
              b"AccessDenied</Code><Message>Refused before the body."
              b"</Message></Error>")

# Canned raw answers, by the NAME of /resp/NAME.  Each is a list of steps:
# bytes to send, ("sleep", S), or "hold" (keep the connection open, still
# recording, until the peer closes it or 60 s pass).  The connection is
# closed after the last step.
CANNED = {
    # Both framings: TE must win (10 bytes), or the answer is refused.
    "te-and-cl": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                  b"Content-Length: 3\r\n\r\n"
                  b"a\r\n0123456789\r\n0\r\n\r\n"],
    # A 101 as the final answer, then the connection stays open.
    "101": [b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
            b"Upgrade: websocket\r\n\r\n", "hold"],
    "111": [b"HTTP/1.1 111 Whatever\r\n\r\n"],
    "100-200": [b"HTTP/1.1 100 Continue\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"],
    "103-200": [b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"],
    "cl-2e63": [b"HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n"
                b"hello"],
    "cl-huge": [b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"
                b"hello"],
    "cl-differ": [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
                  b"hello!"],
    "empty-header": [b"HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Full: full\r\n"
                     b"Content-Length: 3\r\n\r\nok\n"],
    # Codings libcurl does not decode, and "chunked" twice: 502 before
    # any header goes out (not a 200 cut short).
    "te-gzip": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"],
    "te-twice": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n3\r\nok\n\r\n0\r\n\r\n"],
    "status-600": [b"HTTP/1.1 600 Odd\r\nContent-Length: 3\r\n\r\nok\n"],
    # The answer to a HEAD, chunked: the client must get no body at all.
    "head-chunked": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"],
    # The backend's own frame policy: the proxy adds none beside it.
    "own-xfo": [b"HTTP/1.1 200 OK\r\nX-Frame-Options: SAMEORIGIN\r\n"
                b"Content-Length: 3\r\n\r\nok\n"],
    # A slow GET: 20 bytes over about 4 s.
    "slow": [b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n"] +
            [x for _ in range(20) for x in (("sleep", 0.2), b"s")],
}


class Recorder:
    """The files a backend writes; shared by its connection threads."""

    def __init__(self, d):
        self.dir = d
        self.lock = threading.Lock()
        self.all = open(os.path.join(d, "all.bin"), "ab", buffering=0)
        self.reqlog = open(os.path.join(d, "requests.log"), "a", buffering=1)
        self.n = 0

    def new_conn(self):
        with self.lock:
            self.n += 1
            return self.n

    def record(self, f, data):
        with self.lock:
            self.all.write(data)
        f.write(data)

    def request(self, line):
        with self.lock:
            self.reqlog.write(line + "\n")


class Conn:
    """A connection's bytes, recorded as they arrive."""

    def __init__(self, sock, rec):
        self.sock, self.rec = sock, rec
        self.id = rec.new_conn()
        self.f = open(os.path.join(rec.dir, "conn-%04d.bin" % self.id), "ab",
                      buffering=0)
        self.buf = b""
        self.eof = False

    def fill(self):
        if self.eof:
            return False
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.rec.record(self.f, data)
        self.buf += data
        return True

    def readline(self, limit=65536):
        while b"\n" not in self.buf:
            if len(self.buf) > limit or not self.fill():
                return None
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def read(self, n):
        while len(self.buf) < n:
            if not self.fill():
                return None
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def drain(self, seconds):
        """Keep recording until the peer closes or `seconds` pass."""
        end = time.monotonic() + seconds
        while not self.eof and time.monotonic() < end:
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                self.fill()
            except socket.timeout:
                pass


def read_body(c, headers):
    """The request body by its framing; None if the framing is not one we
    can read (the rest of the connection is then only recorded)."""
    te = [v for n, v in headers if n.lower() == "transfer-encoding"]
    cl = [v for n, v in headers if n.lower() == "content-length"]
    if te:
        if te[-1].split(",")[-1].strip().lower() != "chunked":
            return None
        body = b""
        while True:
            line = c.readline()
            if line is None:
                return None
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                break
            data = c.read(size)
            if data is None or c.readline() is None:
                return None
            body += data
        while True:  # trailers
            line = c.readline()
            if line is None:
                return None
            if line in (b"\r\n", b"\n"):
                return body
    if cl:
        if len(set(v.strip() for v in cl)) != 1 or not cl[0].strip().isdigit():
            return None
        return c.read(int(cl[0].strip()))
    return b""


class BackendHandler(socketserver.BaseRequestHandler):
    def handle(self):
        c = Conn(self.request, self.server.rec)
        self.request.settimeout(60)
        while True:
            line = c.readline()
            while line in (b"\r\n", b"\n"):
                line = c.readline()
            if line is None:
                return
            parts = line.decode("latin-1").split()
            headers = []
            while True:
                h = c.readline()
                if h is None:
                    return
                if h in (b"\r\n", b"\n"):
                    break
                name, _, value = h.decode("latin-1").partition(":")
                headers.append((name, value.strip()))
            if len(parts) != 3:
                c.rec.request("conn=%d unparseable %r" % (c.id, line))
                c.drain(30)
                return
            method, target = parts[0], parts[1]
            m = re.match(r"/early/(drain|close|halfclose|ok)(?:[/?]|$)", target)
            if m:
                self.early(c, m.group(1), method, target, headers)
                if m.group(1) not in ("drain", "ok"):
                    return
                continue
            if not target.startswith("/quiet/") and any(
                    n.lower() == "expect" and v.lower() == "100-continue"
                    for n, v in headers):
                self.request.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = read_body(c, headers)
            if body is None:
                c.rec.request("conn=%d %s %s body=unreadable" %
                              (c.id, method, target))
                c.drain(30)
                return
            c.rec.request("conn=%d %s %s body=%d sha256=%s" % (
                c.id, method, target, len(body),
                hashlib.sha256(body).hexdigest()))
            m = re.match(r"/resp/([^/?]+)", target)
            if m and m.group(1) in CANNED:
                for step in CANNED[m.group(1)]:
                    if step == "hold":
                        c.drain(60)
                    elif isinstance(step, tuple):
                        time.sleep(step[1])
                    else:
                        self.request.sendall(step)
                return
            resp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(OK_BODY))
            if method != "HEAD":
                resp += OK_BODY
            self.request.sendall(resp)
            if any(n.lower() == "connection" and "close" in v.lower()
                   for n, v in headers):
                return


    def early(self, c, mode, method, target, headers):
        """Refuses at once, without 100 and before reading any body, as a
        backend does for a missing bucket; then reads and drops the body
        (drain), closes (close), or stops sending and reads until the peer
        closes (halfclose)."""
        if mode == "ok":
            self.request.sendall(b"HTTP/1.1 200 OK\r\n"
                                 b"Transfer-Encoding: chunked\r\n\r\n"
                                 b"3\r\nok\n\r\n0\r\n\r\n")
        else:
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\n"
                                 b"Content-Type: application/xml\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" %
                                 (len(EARLY_BODY), EARLY_BODY))
        if mode in ("drain", "ok"):
            body = read_body(c, headers)
            c.rec.request("conn=%d %s %s body=%s early" % (
                c.id, method, target,
                "unread" if body is None else len(body)))
        elif mode == "halfclose":
            self.request.shutdown(socket.SHUT_WR)
            c.drain(60)
            c.rec.request("conn=%d %s %s early" % (c.id, method, target))
        else:
            c.rec.request("conn=%d %s %s early" % (c.id, method, target))


class Backend(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def cmd_backend(a):
    os.makedirs(a.dir, exist_ok=True)
    srv = Backend(("127.0.0.1", a.port), BackendHandler)
    srv.rec = Recorder(a.dir)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


# --- the raw client ----------------------------------------------------------

def unescape(s):
    return codecs.escape_decode(s.encode("latin-1"))[0]


def parse_responses(buf, closed):
    """Splits what the proxy sent into responses.  Returns a list of dicts
    (status, headers, body, complete) and the number of bytes that are not
    part of any response."""
    out, pos = [], 0
    while pos < len(buf):
        end = buf.find(b"\r\n\r\n", pos)
        m = re.match(rb"HTTP/\d\.\d (\d{3})[ \r]", buf[pos:pos + 16])
        if not m:
            return out, len(buf) - pos
        status = int(m.group(1))
        if end < 0:
            out.append({"status": status, "headers": [], "body": b"",
                        "complete": False})
            return out, 0
        lines = buf[pos:end].split(b"\r\n")[1:]
        headers = []
        for h in lines:
            n, _, v = h.partition(b":")
            headers.append((n.decode("latin-1"), v.decode("latin-1").strip()))
        pos = end + 4
        r = {"status": status, "headers": headers, "body": b"",
             "complete": True}
        out.append(r)
        if 100 <= status < 200 or status in (204, 304):
            continue
        te = [v for n, v in headers if n.lower() == "transfer-encoding"]
        cl = [v for n, v in headers if n.lower() == "content-length"]
        if te and "chunked" in te[-1].lower():
            body = b""
            while True:
                e = buf.find(b"\r\n", pos)
                if e < 0:
                    r["complete"] = False
                    break
                try:
                    size = int(buf[pos:e].split(b";")[0], 16)
                except ValueError:
                    r["complete"] = False
                    break
                pos = e + 2
                if size == 0:
                    e = buf.find(b"\r\n\r\n", pos - 2)
                    if e < 0:
                        r["complete"] = False
                        pos = len(buf)
                    else:
                        pos = e + 4
                    break
                body += buf[pos:pos + size]
                if len(buf) < pos + size + 2:
                    r["complete"] = False
                    pos = len(buf)
                    break
                pos += size + 2
            r["body"] = body
        elif cl and cl[0].strip().isdigit():
            n = int(cl[0].strip())
            r["body"] = buf[pos:pos + n]
            r["complete"] = len(r["body"]) == n
            pos += len(r["body"])
        else:  # until the close
            r["body"] = buf[pos:]
            r["complete"] = closed
            pos = len(buf)
    return out, 0


def exchange(port, data, tls=True, timeout=3.0, quiet=1.0):
    """Sends data, reads the replies.  Returns a dict."""
    t0 = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(sock)
    t_sent = time.monotonic()
    try:
        sock.sendall(data)
    except OSError:
        pass  # the proxy may close early; what it sent is still read
    buf, closed, first, last = b"", "no", None, None
    deadline = t_sent + timeout
    while True:
        now = time.monotonic()
        wait = deadline - now
        if last is not None:
            resps, garbage = parse_responses(buf, False)
            finals = [r for r in resps if r["status"] >= 200]
            if finals and all(r["complete"] for r in resps) and not garbage:
                wait = min(wait, last + quiet - now)
        if wait <= 0:
            break
        sock.settimeout(wait)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            closed = "reset"
            break
        if not chunk:
            closed = "yes"
            break
        if first is None:
            first = time.monotonic() - t_sent
        buf += chunk
        last = time.monotonic()
    elapsed = time.monotonic() - t_sent
    try:
        sock.close()
    except OSError:
        pass
    resps, garbage = parse_responses(buf, closed != "no")
    # Every status line, also one inside what the framing calls a body
    # (a second header block sent after the first one, say).
    lines = [int(x) for x in
             re.findall(rb"(?:^|\r\n)HTTP/\d\.\d (\d{3})[ \r]", buf)]
    if len(lines) < len(resps):
        lines = [r["status"] for r in resps]
    statuses = ",".join(str(x) for x in lines) or "none"
    if garbage and len(lines) == len(resps):
        statuses += "+garbage"
    code = "-"
    finals = [r for r in resps if r["status"] >= 200]
    if finals:
        m = re.search(rb"<Code>([A-Za-z0-9]*)</Code>", finals[-1]["body"])
        if m:
            code = m.group(1).decode()
    return {"statuses": statuses, "closed": closed, "first": first,
            "elapsed": elapsed, "code": code, "bytes": len(buf), "raw": buf,
            "responses": resps, "connect": t_sent - t0}


def summary(r):
    return "statuses=%s closed=%s first=%s elapsed=%.3f code=%s bytes=%d" % (
        r["statuses"], r["closed"],
        "-" if r["first"] is None else "%.3f" % r["first"], r["elapsed"],
        r["code"], r["bytes"])


def cmd_send(a):
    r = exchange(a.port, unescape(a.request), not a.plain, a.timeout, a.quiet)
    if a.out:
        with open(a.out, "wb") as f:
            f.write(r["raw"])
    print(summary(r), flush=True)


# --- one row of a table ------------------------------------------------------

def size_of(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def tail_from(path, offset):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read()
    except OSError:
        return b""


def log_escape(b):
    """The access log's escaping (nginx): bytes outside printable ASCII, '"'
    and '\\' as \\xHH."""
    return "".join(chr(c) if 0x20 <= c < 0x7f and c not in (0x22, 0x5c)
                   else "\\x%02X" % c for c in b)


def split_items(spec):
    return [unescape(x) for x in spec.split(";") if x.strip()]


def check_backend(spec, got, reqs):
    """Returns a list of problems with what the backend received."""
    bad = []
    lines = got.split(b"\r\n")
    for item in split_items(spec):
        key, _, val = item.partition(b"=")
        key = key.strip().decode("latin-1")
        if key == "nothing":
            if got:
                bad.append("backend received %d bytes: %r" % (len(got), got[:300]))
        elif key == "any":
            pass
        elif key == "line":
            if val not in lines:
                name = val.split(b":")[0].lower() + b":"
                same = [x for x in lines if x.lower().startswith(name)]
                bad.append("backend lacks the line %r (has %r)" % (val, same))
        elif key == "noline":
            if val in lines:
                bad.append("backend received the line %r" % val)
        elif key == "one":
            n = sum(1 for x in lines if x.lower().startswith(val.lower()))
            if n != 1:
                bad.append("backend got %d lines beginning %r, want 1" % (n, val))
        elif key == "requests":
            if len(reqs) != int(val):
                bad.append("backend parsed %d requests, want %s: %s" % (
                    len(reqs), val.decode(), reqs))
        elif key == "sha256":
            if not any(("sha256=" + val.decode()) in x for x in reqs):
                bad.append("no request body with sha256 %s at the backend: %s"
                           % (val.decode(), reqs))
        else:
            bad.append("unknown backend check %r" % item)
    return bad


def check_client(spec, r):
    bad = []
    finals = [x for x in r["responses"] if x["status"] >= 200]
    last = finals[-1] if finals else None
    if last is None or not 200 <= last["status"] < 300:
        return bad  # only a 2xx answer is looked at
    for item in split_items(spec):
        key, _, val = item.partition(b"=")
        key = key.strip().decode("latin-1")
        if key == "body":
            got = hashlib.sha256(last["body"]).hexdigest()
            if not last["complete"] or r["closed"] == "reset":
                bad.append("%s body incomplete (%d bytes: %r)" % (
                    last["status"], len(last["body"]), last["body"][:40]))
            elif got != val.decode():
                bad.append("%s body sha256 %s (%d bytes: %r), want %s" % (
                    last["status"], got, len(last["body"]),
                    last["body"][:40], val.decode()))
        elif key == "hdr":
            want = val.decode("latin-1").rstrip()
            have = ["%s: %s" % (n, v) if v else "%s:" % n
                    for n, v in last["headers"]]
            if want not in have:
                bad.append("response lacks the header line %r (has %r)" % (
                    want, have))
        elif key == "any":
            pass
        else:
            bad.append("unknown client check %r" % item)
    return bad


def status_ok(want, got):
    return want == "any" or got in want.split("/")


def log_status(log, target, seconds=1.5):
    """The status of the access-log line (in `log`, a callable returning
    the new bytes) for a request to `target`; None if no such line."""
    want = log_escape(target)
    pat = re.compile(r'"[^ ]* (.*) [^ ]*" (\d+) ')
    end = time.monotonic() + seconds
    while True:
        for line in log().decode("latin-1").splitlines():
            m = pat.search(line)
            if m and m.group(1) == want:
                return m.group(2)
        if time.monotonic() >= end:
            return None
        time.sleep(0.1)


def check_log_field(a, off_log):
    """The request's one access-log line must show its request field
    ("METHOD TARGET VERSION") as --want-log-field says, with no raw '"'."""
    pat = re.compile(r'\] "(.*?)" (\d{3}) \d')
    end = time.monotonic() + 1.5
    while True:
        lines = tail_from(a.log, off_log).decode("latin-1").splitlines()
        if lines or time.monotonic() >= end:
            break
        time.sleep(0.1)
    got = "no line"
    if len(lines) > 1:
        got = "%d lines" % len(lines)
    elif lines:
        m = pat.search(lines[0])
        got = m.group(1) if m else "unparsable line"
    good = got == a.want_log_field
    # Raw control and non-ASCII bytes shown as <HH>, not to be taken for
    # the log's own \xHH.
    shown = "".join(c if " " <= c < "\x7f" else "<%02X>" % ord(c) for c in got)
    print("%s log %s: got %s expected %s" % (
        "ok" if good else "FAIL", a.name, shown, a.want_log_field), flush=True)
    if not good:
        print("    log: %r" % lines, flush=True)
    return 0 if good else 1


def cmd_case(a):
    data = unescape(a.request)
    allbin = os.path.join(a.backend, "all.bin")
    reqlog = os.path.join(a.backend, "requests.log")
    off_all, off_req = size_of(allbin), size_of(reqlog)
    off_log = size_of(a.log) if a.log else 0
    r = exchange(a.port, data, not a.plain, a.timeout, a.quiet)
    time.sleep(a.settle)  # for bytes the proxy may forward late
    got = tail_from(allbin, off_all)
    reqs = tail_from(reqlog, off_req).decode("latin-1").splitlines()
    bad = []
    if not status_ok(a.want_status, r["statuses"]):
        bad.append("statuses %s" % r["statuses"])
    closed = "yes" if r["closed"] in ("yes", "reset") else "no"
    if a.want_close != "any" and closed != a.want_close:
        bad.append("closed=%s, want %s" % (r["closed"], a.want_close))
    if a.want_code != "-" and r["code"] != a.want_code:
        bad.append("Code %s, want %s" % (r["code"], a.want_code))
    bad += check_backend(a.want_backend, got, reqs)
    bad += check_client(a.want_client, r)
    detail = "[closed=%s code=%s first=%s elapsed=%.2fs]" % (
        r["closed"], r["code"],
        "-" if r["first"] is None else "%.3fs" % r["first"], r["elapsed"])
    print("%s %s: got %s expected %s; backend got %d bytes %s%s" % (
        "FAIL" if bad else "ok", a.name, r["statuses"], a.want_status,
        len(got), detail, "".join("\n    - " + b for b in bad)), flush=True)
    if bad:
        print("    reply: %r" % r["raw"][:600], flush=True)
    rc = 1 if bad else 0
    if a.log and a.want_log_field is not None:
        return rc | check_log_field(a, off_log)
    if a.log:
        # The request-target of the first request line, as sent.
        first = data.split(b"\n", 1)[0].rstrip(b"\r").split(b" ")
        target = first[1] if len(first) >= 3 else b""
        # libmicrohttpd hands the target over as a C string: the proxy
        # knows it, and logs it, up to a NUL.
        target = target.split(b"\0")[0]
        want = a.want_status.split("/")
        want = [w.split(",")[0].split("+")[0] for w in want]
        st = log_status(lambda: tail_from(a.log, off_log), target)
        good = st is not None and st in want
        print("%s log %s: got %s expected %s" % (
            "ok" if good else "FAIL", a.name,
            st if st is not None else "no line for %s" % log_escape(target),
            "/".join(want)), flush=True)
        if not good:
            print("    log: %r" % tail_from(a.log, off_log)[-600:], flush=True)
            rc = 1
    return rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("backend")
    b.add_argument("--dir", required=True)
    b.add_argument("--port", type=int, default=0)
    for name in ("send", "case"):
        s = sub.add_parser(name)
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--plain", action="store_true")
        s.add_argument("--timeout", type=float, default=3.0)
        s.add_argument("--quiet", type=float, default=0.5)
        s.add_argument("request")
    sub.choices["send"].add_argument("--out")
    c = sub.choices["case"]
    c.add_argument("--backend", required=True)
    c.add_argument("--name", required=True)
    c.add_argument("--want-status", required=True)
    c.add_argument("--want-close", default="any", choices=["yes", "no", "any"])
    c.add_argument("--want-code", default="-")
    c.add_argument("--want-backend", default="any")
    c.add_argument("--want-client", default="any")
    c.add_argument("--log")
    c.add_argument("--want-log-field")
    c.add_argument("--settle", type=float, default=0.2)
    a = ap.parse_args()
    if a.cmd == "backend":
        return cmd_backend(a)
    if a.cmd == "send":
        return cmd_send(a)
    return cmd_case(a)


if __name__ == "__main__":
    sys.exit(main())
