#!/bin/bash
# 50 clients that completed the TLS handshake and stopped in the middle of
# their request's header section cost the proxy under 0.5 s of CPU in 5 s
# (inside the 10 s header deadline: they all stay open), and a normal GET
# meanwhile gets all its bytes.
. "$(dirname "$0")/lib.sh"
. "$HERE/stall_lib.sh"

stalled_window headers "clients stalled mid-headers"
