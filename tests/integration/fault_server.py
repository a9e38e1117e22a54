#!/usr/bin/python3
"""Misbehaving HTTP backend for the proxy's tests.

usage: fault_server.py [--port N] [--mode MODE] [--size N] [--delay S]
  short    answer GET with Content-Length: SIZE, send SIZE/2 bytes, close
  chunked  answer GET with chunked encoding, die in the middle of a chunk
  stall    send headers (Content-Length: SIZE) and 1 KiB, then nothing
  silent   read the request, then send nothing at all
  serve    answer GET with SIZE bytes, completely (a fast backend)
  echo     answer every request 200 with a JSON body describing the
           request as received (raw request-target, headers in order,
           body length and sha256, chunked trailers), so a test can see
           exactly what the proxy sent upstream; with --delay it waits
           S seconds before reading the body (a slow backend)
  deaf     read the headers only: no body, no answer (an upload stalls)
A request whose path contains "/stall" stalls in any mode.
With --port 0 (the default) it prints the port it listens on, on stdout.
"""
import argparse
import hashlib
import json
import socket
import time
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
        """Read the request body (length-delimited or chunked); return its
        length, sha256 and any chunked trailers."""
        h, n, trailers = hashlib.sha256(), 0, []
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    break
                data = self.rfile.read(size)
                h.update(data)
                n += len(data)
                self.rfile.readline()
            while True:
                line = self.rfile.readline().strip()
                if not line:
                    break
                trailers.append(line.decode("latin-1"))
        else:
            left = int(self.headers.get("Content-Length", 0))
            while left:
                data = self.rfile.read(min(left, 65536))
                if not data:
                    break
                h.update(data)
                n += len(data)
                left -= len(data)
        return n, h.hexdigest(), trailers

    def do_GET(self):
        mode, size = self.server.mode, self.server.size
        if "/stall" in self.path:  # any mode: this request stalls
            mode = "stall"
        time.sleep(self.server.delay)
        if mode == "deaf":  # never reads the body, never answers
            time.sleep(3600)
            return
        body_info = self._drain()
        if mode == "silent":
            time.sleep(3600)
            return
        if mode == "echo":
            return self._echo(*body_info)
        if mode == "serve":
            return self._serve(size)
        body = b"x" * size
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "stall":
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(body[:1024])
            self.wfile.flush()
            time.sleep(3600)
        elif mode == "short":
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

    def _serve(self, size):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        block = b"y" * 65536
        while size:
            n = min(size, len(block))
            self.wfile.write(block[:n])
            size -= n

    def _echo(self, body_len, body_sha256, trailers):
        body = json.dumps({
            "method": self.command,
            "target": self.path,
            "version": self.request_version,
            "headers": list(self.headers.items()),
            "body_len": body_len,
            "body_sha256": body_sha256,
            "trailers": trailers,
            "peer_port": self.client_address[1],
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_PUT = do_POST = do_HEAD = do_DELETE = do_OPTIONS = do_GET
    do_PATCH = do_PROPFIND = do_GET


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--mode", choices=["short", "chunked", "stall", "silent", "serve", "echo",
                             "deaf"],
                    default="short")
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--delay", type=float, default=0)
    a = ap.parse_args()
    # socketserver's default listen backlog of 5 would make parallel
    # tests measure SYN retries instead of the proxy.
    http.server.ThreadingHTTPServer.request_queue_size = 1024
    srv = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    srv.mode, srv.size, srv.delay = a.mode, a.size, a.delay
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
