#!/bin/bash
# 50 clients that sent a ClientHello and then wait (the server's TLS
# handshake waits for them) cost the proxy under 0.5 s of CPU in 5 s, and
# a normal GET meanwhile gets all its bytes.  With epoll, libmicrohttpd
# spun a worker at 100 % on each such handshake (issue 12).
. "$(dirname "$0")/lib.sh"
. "$HERE/stall_lib.sh"

stalled_window hello "handshakes stalled after the ClientHello"
