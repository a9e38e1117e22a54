#!/usr/bin/python3
"""Misbehaving HTTP backend for the proxy's tests.

usage: fault_server.py [--port N] [--mode short|chunked|echo] [--size N]
  short    answer GET with Content-Length: SIZE, send SIZE/2 bytes, close
  chunked  answer GET with chunked encoding, die in the middle of a chunk
  echo     answer every request 200 with a JSON body describing the
           request as received (raw request-target, headers in order), so
           a test can see exactly what the proxy sent upstream
With --port 0 (the default) it prints the port it listens on, on stdout.
"""
import argparse
import json
import socket
import http.server


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _abort(self):
        """Close the connection at once, mid-response."""
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _drain(self):
        n = int(self.headers.get("Content-Length", 0))
        while n:
            n -= len(self.rfile.read(min(n, 65536)))

    def do_GET(self):
        mode, size = self.server.mode, self.server.size
        self._drain()
        if mode == "echo":
            return self._echo()
        body = b"x" * size
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "short":
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(body[: size // 2])
        else:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n" % (size // 2, body[: size // 2]))
            # Announce a chunk and send only part of it.
            self.wfile.write(b"%x\r\n%s" % (size // 2, body[: size // 8]))
        self._abort()

    def _echo(self):
        body = json.dumps({
            "method": self.command,
            "target": self.path,
            "version": self.request_version,
            "headers": list(self.headers.items()),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # Request bodies are drained (Content-Length only), not echoed.
    do_PUT = do_POST = do_HEAD = do_DELETE = do_GET


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--mode", choices=["short", "chunked", "echo"],
                    default="short")
    ap.add_argument("--size", type=int, default=1 << 20)
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    srv.mode, srv.size = a.mode, a.size
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
