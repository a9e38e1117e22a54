#!/bin/bash
# One pass of the client suite against one endpoint; run.sh calls it twice
# (directly against the backend, then through the proxy) and compares.
#
#   clients.sh CLIENT
#
# CLIENT is aws, s3cmd-v4, s3cmd-v2 or rclone.  The environment gives:
#   TARGET_URL  endpoint (http://127.0.0.1:P or https://127.0.0.1:P)
#   CA          CA file for an https endpoint (empty for http)
#   TAG         d or p: suffix of this pass's bucket names
#   DATA        input files made by run.sh (small, 3m, 20m, tree/)
#   WORK        scratch directory for this pass (created)
#   RESULTS     JSON-lines file appended to, one line per operation
#   OP_TIMEOUT  seconds any one operation may take (default 30)
#
# Each operation records its exit status and a sha256: of its normalised
# stdout, or of the file it downloaded.  Normalising removes what differs
# between two correct passes: the endpoint (with its scheme: s3rver writes
# http:// into the Location of a completed multipart upload, whatever the
# client used), this pass's bucket names, times, dates and upload ids.
# A failed operation also records the error it reported (the S3 error
# code, or "timeout"), so that a hang that ends in a client-side timeout
# does not pass for the backend's refusal.
set -u
CLIENT=$1
OP_TIMEOUT=${OP_TIMEOUT:-30}
W=$WORK/$CLIENT
mkdir -p "$W"
PY=/usr/bin/python3
UPLOAD_ID=@none@

normalize() {
	sed -E \
		-e "s#(https?://)?${TARGET_URL#*://}#ENDPOINT#g" \
		-e "s#conf-([a-z0-9]+)-$TAG\\b#conf-\\1-TAG#g" \
		-e "s#$UPLOAD_ID#UPLOADID#g" \
		-e 's#"UploadId": "[^"]*"#"UploadId": "UPLOADID"#g' \
		-e 's#[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9:]{4,5})?#DATE#g' \
		-e 's#[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT#DATE#g'
}

# error_class RC STDERR: " (NoSuchBucket)", " (timeout)", " (NoSuchBucket
# after a timeout)" (a client that retried), or nothing.
error_class() {
	[ "$1" -eq 0 ] && return
	local c t=
	c=$(printf '%s' "$2" | grep -oE '\(([A-Za-z]+|[0-9]{3})\) when calling|S3 error: [0-9]+ \([A-Za-z]+\)|[A-Z][A-Za-z]+: [^:]*status code: [0-9]+' |
		head -n 1 | grep -oE '[A-Z][a-z]+[A-Z][A-Za-z]*|[0-9]{3}' | sort -r | head -n 1)
	printf '%s' "$2" | grep -qiE 'time(d)? ?out' && t=timeout
	if [ -z "$c" ]; then c=$t; elif [ -n "$t" ]; then c="$c after a timeout"; fi
	if [ -n "$c" ]; then printf ' (%s)' "$c"; fi
}

# record NAME RC SHA REASON SECONDS
record() {
	$PY -c 'import json,sys; print(json.dumps({"test": sys.argv[1], "outcome": "rc=" + sys.argv[2], "detail": sys.argv[3], "reason": sys.argv[4][-300:], "seconds": float(sys.argv[5])}))' \
		"$CLIENT/$1" "$2" "$3" "$4" "$5" >>"$RESULTS"
}

# op NAME WHAT CMD...: WHAT is "out" (hash of the normalised stdout),
# "sorted" (the same, lines sorted: for listings made in parallel),
# "file:PATH" (hash of PATH after the command), "tree:DIR" (hash of a
# directory's names and contents) or "none".
op() {
	local name=$1 what=$2 rc=0 h reason t0
	shift 2
	case $what in file:* | tree:*) rm -rf "${what#*:}" ;; esac
	t0=$EPOCHREALTIME
	timeout -k 5 "$OP_TIMEOUT" "$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null || rc=$?
	t0=$(awk "BEGIN { printf \"%.2f\", $EPOCHREALTIME - $t0 }")
	case $what in
	out) h=$(normalize <"$W/$name.out" | sha256sum | cut -c1-16) ;;
	sorted) h=$(normalize <"$W/$name.out" | sed 's/,$//' | LC_ALL=C sort | sha256sum | cut -c1-16) ;;
	file:*)
		if [ -f "${what#file:}" ]; then
			h=$(sha256sum <"${what#file:}" | cut -c1-16)
		else h=missing; fi ;;
	tree:*)
		if [ -d "${what#tree:}" ]; then
			h=$(cd "${what#tree:}" && find . -type f | LC_ALL=C sort |
				while IFS= read -r f; do printf '%s %s\n' "$(sha256sum <"$f" | cut -c1-16)" "$f"; done |
				sha256sum | cut -c1-16)
		else h=missing; fi ;;
	*) h=- ;;
	esac
	[ "$rc" -eq 124 ] && echo "timed out after ${OP_TIMEOUT}s" >>"$W/$name.err"
	reason=$(normalize <"$W/$name.err" | tr '\n\r' '  ' | sed -E 's/ +/ /g')
	record "$name" "$rc$(error_class "$rc" "$reason")" "$h" "$reason" "$t0"
}

B=conf-$(echo "$CLIENT" | tr -d -- '-')-$TAG
MISSING=conf-missing-$TAG
D=$W/dl
mkdir -p "$D"

run_aws() {
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
	export AWS_MAX_ATTEMPTS=1 AWS_SHARED_CREDENTIALS_FILE=/dev/null
	# Over https (only) botocore >= 1.36 sends uploads aws-chunked with a
	# trailing checksum, and s3rver stores that framing as the object's
	# bytes: the passes would differ by the backend's doing.  Checksums
	# only where an operation requires them, as before 1.36, both ways.
	export AWS_REQUEST_CHECKSUM_CALCULATION=when_required
	printf '[default]\ns3 =\n    addressing_style = path\n' >"$W/aws.conf"
	export AWS_CONFIG_FILE=$W/aws.conf
	local ca=()
	if [ -n "$CA" ]; then ca=(--ca-bundle "$CA"); export AWS_CA_BUNDLE=$CA; fi
	local a=(aws --endpoint-url "$TARGET_URL" "${ca[@]}" --cli-read-timeout 15 --cli-connect-timeout 5)
	local q=--only-show-errors
	op mb none "${a[@]}" s3 mb "s3://$B"
	op put-small none "${a[@]}" s3 cp $q "$DATA/small" "s3://$B/small"
	op put-3m none "${a[@]}" s3 cp $q "$DATA/3m" "s3://$B/3m"
	op put-20m-multipart none "${a[@]}" s3 cp $q "$DATA/20m" "s3://$B/20m"
	op put-3m-missing-bucket none "${a[@]}" s3 cp $q "$DATA/3m" "s3://$MISSING/3m"
	op put-object-meta out "${a[@]}" s3api put-object --bucket "$B" --key "meta obj+1" --body "$DATA/small" \
		--metadata 'colour=blue,empty=' --content-type text/plain
	op get-small "file:$D/small" "${a[@]}" s3 cp $q "s3://$B/small" "$D/small"
	op get-3m "file:$D/3m" "${a[@]}" s3 cp $q "s3://$B/3m" "$D/3m"
	op get-20m "file:$D/20m" "${a[@]}" s3 cp $q "s3://$B/20m" "$D/20m"
	op get-stdout out "${a[@]}" s3 cp "s3://$B/small" -
	op get-range "file:$D/range" "${a[@]}" s3api get-object --bucket "$B" --key 3m --range bytes=100-1123 "$D/range"
	op get-missing-key none "${a[@]}" s3 cp $q "s3://$B/nokey" "$D/nokey"
	op head-small out "${a[@]}" s3api head-object --bucket "$B" --key small
	op head-meta out "${a[@]}" s3api head-object --bucket "$B" --key "meta obj+1"
	op head-missing none "${a[@]}" s3api head-object --bucket "$B" --key nokey
	op ls out "${a[@]}" s3 ls "s3://$B"
	op list-objects-v2 out "${a[@]}" s3api list-objects-v2 --bucket "$B"
	op copy-s3-cp none "${a[@]}" s3 cp $q "s3://$B/3m" "s3://$B/3m-copy"
	op get-copy "file:$D/3m-copy" "${a[@]}" s3 cp $q "s3://$B/3m-copy" "$D/3m-copy"
	op copy-object out "${a[@]}" s3api copy-object --bucket "$B" --key small-copy --copy-source "$B/small"
	op mpu-create out "${a[@]}" s3api create-multipart-upload --bucket "$B" --key mpu
	UPLOAD_ID=$(sed -n 's/.*"UploadId": "\([^"]*\)".*/\1/p' "$W/mpu-create.out")
	[ -n "$UPLOAD_ID" ] || UPLOAD_ID=@none@
	head -c $((5 * 1024 * 1024)) "$DATA/20m" >"$W/part1"
	tail -c $((1024 * 1024)) "$DATA/20m" >"$W/part2"
	op mpu-part1 out "${a[@]}" s3api upload-part --bucket "$B" --key mpu --upload-id "$UPLOAD_ID" --part-number 1 --body "$W/part1"
	op mpu-part2 out "${a[@]}" s3api upload-part --bucket "$B" --key mpu --upload-id "$UPLOAD_ID" --part-number 2 --body "$W/part2"
	op mpu-list-parts out "${a[@]}" s3api list-parts --bucket "$B" --key mpu --upload-id "$UPLOAD_ID"
	local e1 e2
	e1=$(sed -n 's/.*"ETag": "\\"\([0-9a-f]*\)\\"".*/\1/p' "$W/mpu-part1.out")
	e2=$(sed -n 's/.*"ETag": "\\"\([0-9a-f]*\)\\"".*/\1/p' "$W/mpu-part2.out")
	printf '{"Parts":[{"PartNumber":1,"ETag":"\\"%s\\""},{"PartNumber":2,"ETag":"\\"%s\\""}]}' "$e1" "$e2" >"$W/mpu.json"
	op mpu-complete out "${a[@]}" s3api complete-multipart-upload --bucket "$B" --key mpu --upload-id "$UPLOAD_ID" \
		--multipart-upload "file://$W/mpu.json"
	op mpu-get "file:$D/mpu" "${a[@]}" s3 cp $q "s3://$B/mpu" "$D/mpu"
	op mpu-abort-create out "${a[@]}" s3api create-multipart-upload --bucket "$B" --key mpu-abort
	UPLOAD_ID=$(sed -n 's/.*"UploadId": "\([^"]*\)".*/\1/p' "$W/mpu-abort-create.out")
	[ -n "$UPLOAD_ID" ] || UPLOAD_ID=@none@
	op mpu-abort none "${a[@]}" s3api abort-multipart-upload --bucket "$B" --key mpu-abort --upload-id "$UPLOAD_ID"
	UPLOAD_ID=@none@
	op sync-up none "${a[@]}" s3 sync $q "$DATA/tree" "s3://$B/tree/"
	op ls-recursive out "${a[@]}" s3 ls --recursive "s3://$B/tree/"
	op sync-down "tree:$D/tree" "${a[@]}" s3 sync $q "s3://$B/tree/" "$D/tree"
	op presign-get "file:$D/presigned" sh -c '
		url=$(aws --endpoint-url "$1" ${2:+--ca-bundle "$2"} s3 presign "s3://$3/small") &&
		curl -sSf --max-time 20 ${2:+--cacert "$2"} -o "$4" "$url"' sh "$TARGET_URL" "$CA" "$B" "$D/presigned"
	op rm-small none "${a[@]}" s3 rm $q "s3://$B/small"
	op rm-missing none "${a[@]}" s3 rm $q "s3://$B/nokey"
	op rb-nonempty none "${a[@]}" s3 rb "s3://$B"
	op rm-recursive none "${a[@]}" s3 rm $q --recursive "s3://$B"
	op rb none "${a[@]}" s3 rb "s3://$B"
	op rb-missing none "${a[@]}" s3 rb "s3://$MISSING"
}

run_s3cmd() {
	local sig=$1 host=${TARGET_URL#*://} https=False
	case $TARGET_URL in https:*) https=True ;; esac
	for v in False True; do
		cat >"$W/s3cfg-$v" <<-EOF
		[default]
		access_key = S3RVER
		secret_key = S3RVER
		host_base = $host
		host_bucket = $host
		use_https = $https
		check_ssl_certificate = True
		check_ssl_hostname = True
		ca_certs_file = $CA
		signature_v2 = $v
		bucket_location = us-east-1
		progress_meter = False
		socket_timeout = 15
		EOF
	done
	# --acl-private: else cp and mv read the source's ACL first, and
	# s3cmd 2.3 crashes on s3rver's answer.
	local s=(s3cmd -c "$W/s3cfg-$sig" --no-progress --acl-private)
	# s3rver refuses s3cmd's V2 signatures of bucket-level requests (it
	# signs "/bucket/", s3rver checks "/bucket"): with --signature-v2 the
	# bucket is made, listed and removed with V4, objects use V2.
	local s4=(s3cmd -c "$W/s3cfg-False" --no-progress --acl-private)
	op mb none "${s4[@]}" mb "s3://$B"
	op put-small none "${s[@]}" put "$DATA/small" "s3://$B/small"
	op put-3m none "${s[@]}" put "$DATA/3m" "s3://$B/3m"
	op put-20m-multipart none "${s[@]}" put "$DATA/20m" "s3://$B/20m"
	op put-3m-missing-bucket none "${s[@]}" put "$DATA/3m" "s3://$MISSING/3m"
	op put-meta none "${s[@]}" put --add-header=x-amz-meta-colour:blue --mime-type=text/plain \
		"$DATA/small" "s3://$B/meta obj+1"
	op get-small "file:$D/small" "${s[@]}" get "s3://$B/small" "$D/small"
	op get-3m "file:$D/3m" "${s[@]}" get "s3://$B/3m" "$D/3m"
	op get-20m "file:$D/20m" "${s[@]}" get "s3://$B/20m" "$D/20m"
	op get-stdout out "${s[@]}" get "s3://$B/small" -
	op get-meta "file:$D/meta" "${s[@]}" get "s3://$B/meta obj+1" "$D/meta"
	op get-missing-key none "${s[@]}" get "s3://$B/nokey" "$D/nokey"
	op ls out "${s4[@]}" ls "s3://$B"
	op ls-list-md5 out "${s4[@]}" ls --list-md5 "s3://$B"
	op ls-buckets-has-ours none sh -c 's3cmd -c "$1" ls | grep -q "s3://$2\$"' sh "$W/s3cfg-False" "$B"
	op du out "${s4[@]}" du "s3://$B"
	op cp none "${s[@]}" cp "s3://$B/3m" "s3://$B/3m-copy"
	op get-copy "file:$D/3m-copy" "${s[@]}" get "s3://$B/3m-copy" "$D/3m-copy"
	op mv none "${s[@]}" mv "s3://$B/3m-copy" "s3://$B/3m-moved"
	op get-moved "file:$D/3m-moved" "${s[@]}" get "s3://$B/3m-moved" "$D/3m-moved"
	op sync-up none "${s4[@]}" sync "$DATA/tree/" "s3://$B/tree/"
	op ls-recursive out "${s4[@]}" ls --recursive "s3://$B/tree/"
	op sync-down "tree:$D/tree" "${s4[@]}" sync "s3://$B/tree/" "$D/tree/"
	# s3cmd signurl always writes http://: use the endpoint's scheme.
	op signurl-get "file:$D/signed" sh -c '
		url=$(s3cmd -c "$1" signurl "s3://$2/small" +300) &&
		curl -sSf --max-time 20 ${3:+--cacert "$3"} -o "$4" "${5%%:*}:${url#*:}"' \
		sh "$W/s3cfg-$sig" "$B" "$CA" "$D/signed" "$TARGET_URL"
	op del-small none "${s[@]}" del "s3://$B/small"
	op del-missing none "${s[@]}" del "s3://$B/nokey"
	op rb-nonempty none "${s4[@]}" rb "s3://$B"
	op del-recursive none "${s4[@]}" del --recursive --force "s3://$B"
	op rb none "${s4[@]}" rb "s3://$B"
	op rb-missing none "${s4[@]}" rb "s3://$MISSING"
}

run_rclone() {
	: >"$W/rclone.conf"
	local ca=()
	[ -n "$CA" ] && ca=(--ca-cert "$CA")
	# rclone refuses to start with AWS_CA_BUNDLE in its environment.
	local r=(env -u AWS_CA_BUNDLE
		RCLONE_CONFIG_T_TYPE=s3 RCLONE_CONFIG_T_PROVIDER=Other
		RCLONE_CONFIG_T_ENDPOINT="$TARGET_URL" RCLONE_CONFIG_T_REGION=us-east-1
		RCLONE_CONFIG_T_ACCESS_KEY_ID=S3RVER RCLONE_CONFIG_T_SECRET_ACCESS_KEY=S3RVER
		RCLONE_CONFIG_T_FORCE_PATH_STYLE=true
		rclone --config "$W/rclone.conf" "${ca[@]}" --retries 1 --low-level-retries 1
		--contimeout 5s --timeout 15s --s3-upload-cutoff 5Mi --s3-chunk-size 5Mi)
	op mkdir none "${r[@]}" mkdir "t:$B"
	op put-small none "${r[@]}" copyto "$DATA/small" "t:$B/small"
	op put-3m none "${r[@]}" copyto "$DATA/3m" "t:$B/3m"
	op put-20m-multipart none "${r[@]}" copyto "$DATA/20m" "t:$B/20m"
	op put-3m-missing-bucket none "${r[@]}" --s3-no-check-bucket copyto "$DATA/3m" "t:$MISSING/3m"
	op cat-small out "${r[@]}" cat "t:$B/small"
	op get-3m "file:$D/3m" "${r[@]}" copyto "t:$B/3m" "$D/3m"
	op get-20m "file:$D/20m" "${r[@]}" copyto "t:$B/20m" "$D/20m"
	op cat-range out "${r[@]}" cat --offset 100 --count 1024 "t:$B/3m"
	op cat-missing none "${r[@]}" cat "t:$B/nokey"
	op lsjson sorted "${r[@]}" lsjson "t:$B"
	op lsf sorted "${r[@]}" lsf "t:$B"
	op size out "${r[@]}" size "t:$B"
	op md5sum sorted "${r[@]}" md5sum "t:$B"
	op copy-server-side none "${r[@]}" copyto "t:$B/3m" "t:$B/3m-copy"
	op get-copy "file:$D/3m-copy" "${r[@]}" copyto "t:$B/3m-copy" "$D/3m-copy"
	op moveto none "${r[@]}" moveto "t:$B/3m-copy" "t:$B/3m-moved"
	op sync-up none "${r[@]}" sync "$DATA/tree" "t:$B/tree"
	op check none "${r[@]}" check "$DATA/tree" "t:$B/tree"
	op lsf-recursive sorted "${r[@]}" lsf -R "t:$B/tree"
	op sync-down "tree:$D/tree" "${r[@]}" sync "t:$B/tree" "$D/tree"
	op deletefile none "${r[@]}" deletefile "t:$B/small"
	op deletefile-missing none "${r[@]}" deletefile "t:$B/nokey"
	op rmdir-nonempty none "${r[@]}" rmdir "t:$B"
	op purge none "${r[@]}" purge "t:$B"
}

case $CLIENT in
aws) run_aws ;;
s3cmd-v4) run_s3cmd False ;;
s3cmd-v2) run_s3cmd True ;;
rclone) run_rclone ;;
*) echo "clients.sh: unknown client $CLIENT" >&2; exit 2 ;;
esac
