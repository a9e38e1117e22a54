#!/bin/bash
# storage-proxy-bench checks what it downloads: through the proxy from
# s3rver, a URL list with sha256 and sizes (a presigned URL among them)
# gives exit 0 and every transfer complete with the right byte count; a
# wrong digest, a wrong size, a 404 and a refused connection are each
# counted under their own kind and give exit 1.  JSON, CSV and the PNG
# plot are checked for shape.
. "$(dirname "$0")/lib.sh"

[ -x "$BENCH" ] || fail "storage-proxy-bench not found at $BENCH"
make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR"
random_file "$T/a" 1
random_file "$T/b" 3
A=$T/a B=$T/b s3py <<'PY'
s3.create_bucket(Bucket="bench")
for k in ("a", "b"):
    with open(os.environ[k.upper()], "rb") as f:
        s3.put_object(Bucket="bench", Key=k, Body=f)
PY
PRESIGNED=$($PY - "$S3_HOST:$PROXY_PORT" <<'PY'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url="https://" + sys.argv[1],
                  region_name="us-east-1", aws_access_key_id="S3RVER",
                  aws_secret_access_key="S3RVER",
                  config=Config(signature_version="s3v4",
                                s3={"addressing_style": "path"}))
print(s3.generate_presigned_url("get_object", ExpiresIn=3600,
                                Params={"Bucket": "bench", "Key": "b"}))
PY
)
RESOLVE="--resolve $S3_HOST:$PROXY_PORT:127.0.0.1"
sa=$(sha "$T/a"); sb=$(sha "$T/b")
cat >"$T/list" <<LIST
# two objects, by path and presigned
$PROXY_URL/bench/a sha256=$sa size=1048576
$PRESIGNED sha256=$sb size=3145728
LIST
json() {	# FILE EXPR: a value from the JSON report
	$PY -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"
}

rc=0
"$BENCH" -c 4 -n 20 -i "$T/list" --cacert "$CERT" $RESOLVE --format json \
	>"$T/good.json" 2>"$T/good.err" || rc=$?
[ "$rc" = 0 ] || fail "20 good transfers: exit $rc ($(cat "$T/good.err"))"
[ "$(json "$T/good.json" 'j["complete"]')" = 20 ] || fail "not 20 complete: $(cat "$T/good.json")"
[ "$(json "$T/good.json" 'j["bytes"]')" = $((10 * 1048576 + 10 * 3145728)) ] ||
	fail "byte count: $(json "$T/good.json" 'j["bytes"]')"
[ "$(json "$T/good.json" 'j["status"]["2xx"]')" = 20 ] || fail "statuses"
[ "$(json "$T/good.json" 'len(j["per_connection"])')" = 4 ] || fail "per-connection entries"
ok "20 transfers over 4 connections, digests and sizes as expected, exit 0"

# A wrong digest for a, a wrong size for b: each counted under its kind.
cat >"$T/bad" <<LIST
$PROXY_URL/bench/a sha256=$sb
$PROXY_URL/bench/b size=3145727
$PROXY_URL/bench/missing
LIST
rc=0
"$BENCH" -c 3 -n 9 -i "$T/bad" --cacert "$CERT" --format json >"$T/bad.json" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "failed transfers: exit $rc, not 1"
e='j["errors"]'
[ "$(json "$T/bad.json" "$e[\"sha256\"], $e[\"size\"], $e[\"http_4xx\"], j[\"complete\"]")" = "(3, 3, 3, 0)" ] ||
	fail "errors by kind: $(json "$T/bad.json" "$e")"
ok "wrong sha256, wrong size and 404: 3 each under their kind, exit 1"

# Nothing listening: a connection error, not a hang.
port=$(free_port)
rc=0
"$BENCH" --format json "http://127.0.0.1:$port/x" >"$T/down.json" 2>/dev/null || rc=$?
[ "$rc" = 1 ] && [ "$(json "$T/down.json" 'j["errors"]["connect"]')" = 1 ] ||
	fail "refused connection: exit $rc, $(cat "$T/down.json")"
ok "refused connection counted as connect error"

# CSV: a header and one row per connection; the plot is a PNG.
"$BENCH" -c 2 -n 4 --cacert "$CERT" --format csv --target 1m \
	--interval 100ms --plot "$T/plot.png" "$PROXY_URL/bench/b" >"$T/out.csv" 2>"$T/plot.err" ||
	fail "CSV and plot run: $(cat "$T/plot.err")"
[ "$(head -n 1 "$T/out.csv")" = "connection,bytes,seconds,rate_Bps,ratio,complete,failed" ] ||
	fail "CSV header: $(head -n 1 "$T/out.csv")"
[ "$(wc -l <"$T/out.csv")" = 3 ] || fail "CSV rows: $(cat "$T/out.csv")"
[ "$(head -c 8 "$T/plot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "plot is not a PNG"
ok "CSV has a row per connection; the plot is a PNG"

# Usage errors exit 2 and name the option.
rc=0
"$BENCH" --connections 0 "$PROXY_URL/bench/a" 2>"$T/usage.err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--connections" "$T/usage.err" || fail "usage error: exit $rc"
printf 'https://x/ size=abc\n' >"$T/badlist"
rc=0
"$BENCH" -i "$T/badlist" 2>"$T/list.err" || rc=$?
[ "$rc" = 2 ] && grep -q "badlist:1:" "$T/list.err" || fail "list error: exit $rc, $(cat "$T/list.err")"
ok "bad option and bad list line: exit 2, named"
