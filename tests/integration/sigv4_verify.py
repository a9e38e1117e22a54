#!/usr/bin/python3
"""SigV4-checking HTTP front for s3rver.

s3rver accepts any well-formed SigV4 signature, so a proxy that rewrote
Host, path or query would still get 200 from it.  This server sits between
the proxy and s3rver, recomputes each request's signature from the request
exactly as received (raw request-target, Host, signed headers) with
botocore's signer, answers 403 SignatureDoesNotMatch on a mismatch and
otherwise forwards the request to s3rver, streaming bodies both ways.

usage: sigv4_verify.py --upstream HOST:PORT [--port N] [--secret S]
       sigv4_verify.py --self-test
With --port 0 (the default) it prints the port it listens on, on stdout.
Every verdict is logged on stderr ("SIGV4 OK ..." / "SIGV4 FAIL ...").
"""
import argparse
import datetime
import http.client
import http.server
import re
import sys
from urllib.parse import unquote

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CHUNK = 64 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect",
              "te", "trailer", "upgrade", "proxy-connection"}
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*"
                     r"SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)")


def _recompute(secret, method, target, headers, signed, scope, timestamp,
               query, presigned):
    """Signature botocore gives for this request; query is the raw query
    string minus X-Amz-Signature (still percent-encoded as received)."""
    access_key, date, region, service, _ = scope.split("/")
    if timestamp[:8] != date:
        raise ValueError("credential date differs from X-Amz-Date")
    path = target.split("?", 1)[0]
    req = AWSRequest(method=method,
                     url="http://signed" + path + ("?" + query if query else ""))
    # Only the headers the client declared as signed, values as received.
    for name in signed:
        values = [v for n, v in headers if n.lower() == name]
        if not values:
            raise ValueError("signed header %r missing" % name)
        for v in values:
            req.headers[name] = v
    req.context["timestamp"] = timestamp
    cls = S3SigV4QueryAuth if presigned else S3SigV4Auth
    signer = cls(Credentials(access_key, secret), service, region)
    cr = signer.canonical_request(req)
    return signer.signature(signer.string_to_sign(req, cr), req), cr


def verify(secret, method, target, headers, now=None):
    """Return (ok, reason).  headers: list of (name, value) as received."""
    hdr = {n.lower(): v for n, v in headers}
    query = target.split("?", 1)[1] if "?" in target else ""
    auth = hdr.get("authorization")
    try:
        if auth:
            m = AUTH_RE.match(auth)
            if not m:
                return False, "Authorization is not SigV4"
            scope, signed, given = m.group(1), m.group(2).split(";"), m.group(3)
            timestamp = hdr.get("x-amz-date", "")
            presigned = False
        else:
            pairs = [p.partition("=") for p in query.split("&") if p]
            q = {unquote(k): unquote(v) for k, _, v in pairs}
            if q.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
                return False, "request is not SigV4-signed"
            scope, given = q["X-Amz-Credential"], q["X-Amz-Signature"]
            signed = q["X-Amz-SignedHeaders"].split(";")
            timestamp = q["X-Amz-Date"]
            t = datetime.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ")
            now = now or datetime.datetime.utcnow()
            if now > t + datetime.timedelta(seconds=int(q["X-Amz-Expires"])):
                return False, "presigned URL expired"
            query = "&".join(k + "=" + v for k, _, v in pairs
                             if k != "X-Amz-Signature")
            presigned = True
        want, cr = _recompute(secret, method, target, headers, signed, scope,
                              timestamp, query, presigned)
    except (KeyError, ValueError) as e:
        return False, "malformed: %s" % e
    if want != given:
        return False, "signature mismatch; canonical request was:\n" + cr
    return True, "presigned" if presigned else "header"


def error_xml(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            '<Message>%s</Message></Error>\n' % (code, message)).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep stderr for verdicts only
        pass

    def _body_chunks(self):
        """Request body as an iterator of chunks, never wholly in memory."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers are dropped
                    return
                left = size
                while left:
                    data = self.rfile.read(min(CHUNK, left))
                    if not data:
                        raise ConnectionError("client closed mid-chunk")
                    left -= len(data)
                    yield data
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", 0))
            while left:
                data = self.rfile.read(min(CHUNK, left))
                if not data:
                    raise ConnectionError("client closed mid-body")
                left -= len(data)
                yield data

    def _handle(self):
        ok, why = verify(self.server.secret, self.command, self.path,
                         list(self.headers.items()))
        print("SIGV4 %s %s %s Host=%s: %s" % ("OK" if ok else "FAIL",
              self.command, self.path, self.headers.get("Host"), why),
              file=sys.stderr, flush=True)
        if not ok:
            for _ in self._body_chunks():  # drain so the reply is readable
                pass
            body = error_xml("SignatureDoesNotMatch", "The request signature"
                             " we calculated does not match the signature"
                             " you provided.")
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        up = http.client.HTTPConnection(*self.server.upstream)
        up.putrequest(self.command, self.path, skip_host=True,
                      skip_accept_encoding=True)
        for n, v in self.headers.items():
            if n.lower() not in HOP_BY_HOP:
                up.putheader(n, v)
        if chunked:
            up.putheader("Transfer-Encoding", "chunked")
        up.endheaders()
        for data in self._body_chunks():
            up.send(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        if chunked:
            up.send(b"0\r\n\r\n")
        resp = up.getresponse()
        self.send_response_only(resp.status, resp.reason)
        has_length = False
        for n, v in resp.getheaders():
            if n.lower() not in HOP_BY_HOP:
                self.send_header(n, v)
                has_length |= n.lower() == "content-length"
        if not has_length and self.command != "HEAD":
            # Unknown length: delimit the body by closing the connection.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        while True:
            data = resp.read(CHUNK)
            if not data:
                break
            self.wfile.write(data)
        up.close()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle


def self_test():
    """Sign requests with botocore, check verify() accepts them and rejects
    a changed Host, path, query or signature."""
    from botocore.auth import S3SigV4Auth as A, S3SigV4QueryAuth as Q
    from urllib.parse import urlsplit
    creds = Credentials("S3RVER", "S3RVER")
    fails = 0

    def check(name, got, want):
        nonlocal fails
        print("%-44s %s" % (name, "ok" if got == want else "WRONG"))
        fails += got != want

    url = ("https://s3.docker.mender.io:9000/bucket/a%20b.bin"
           "?response-content-type=application%2Foctet-stream"
           "&response-content-disposition=attachment%3B%20filename%3D%22x%22")
    req = AWSRequest(method="GET", url=url)
    Q(creds, "s3", "us-east-1", expires=86400).add_auth(req)
    u = urlsplit(req.url)
    target = u.path + "?" + u.query
    host = [("Host", "s3.docker.mender.io:9000")]
    check("presigned GET accepted", verify("S3RVER", "GET", target, host)[0], True)
    check("presigned, other Host refused", verify("S3RVER", "GET", target,
          [("Host", "other.example:9000")])[0], False)
    check("presigned, re-encoded query refused", verify("S3RVER", "GET",
          target.replace("%2F", "/"), host)[0], False)
    sig = target[-64:]
    bad = target[:-64] + ("0" if sig[0] != "0" else "1") + sig[1:]
    check("presigned, altered signature refused",
          verify("S3RVER", "GET", bad, host)[0], False)
    check("presigned, wrong secret refused",
          verify("other", "GET", target, host)[0], False)
    later = datetime.datetime.utcnow() + datetime.timedelta(days=2)
    check("presigned, expired refused",
          verify("S3RVER", "GET", target, host, now=later)[0], False)

    req = AWSRequest(method="PUT", url="https://127.0.0.1:9000/bucket/k?x=1",
                     data=b"hello")
    req.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    req.headers["Host"] = "127.0.0.1:9000"
    A(creds, "s3", "us-east-1").add_auth(req)
    hs = list(req.headers.items())
    check("header-signed PUT accepted",
          verify("S3RVER", "PUT", "/bucket/k?x=1", hs)[0], True)
    check("header-signed, other path refused",
          verify("S3RVER", "PUT", "/bucket/k2?x=1", hs)[0], False)
    other = [(n, "127.0.0.1:9001" if n == "Host" else v) for n, v in hs]
    check("header-signed, other Host refused",
          verify("S3RVER", "PUT", "/bucket/k?x=1", other)[0], False)
    check("unsigned request refused",
          verify("S3RVER", "GET", "/bucket/k", host)[0], False)
    print("self-test: %d failed" % fails)
    return 1 if fails else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", help="s3rver address, HOST:PORT")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--secret", default="S3RVER")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        sys.exit(self_test())
    if not a.upstream:
        ap.error("--upstream is required")
    host, port = a.upstream.rsplit(":", 1)
    # socketserver's default listen backlog of 5 would make parallel
    # tests measure SYN retries instead of the proxy.
    http.server.ThreadingHTTPServer.request_queue_size = 1024
    srv = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    srv.upstream, srv.secret = (host, int(port)), a.secret
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
