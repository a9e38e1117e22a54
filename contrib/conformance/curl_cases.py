#!/usr/bin/python3
"""One pass of the curl edge cases against one endpoint.

    curl_cases.py TARGET_URL TAG RESULTS [--ca CA] [--data DIR]
                  [--proxy-log FILE] [--proxy-err FILE] [--max-time S]

run.sh calls it twice, directly against the backend (TAG d) and through
the proxy (TAG p), and compares.  Each case is one curl invocation (a few
send two requests on one connection) with --max-time, the exact
request-target given with --request-target.  For each case one JSON line
goes to RESULTS: the status line(s) (interim 1xx included; curl's exit
status only when no final status came or it timed out), the connection
count, the sorted response header names, the values of the headers that
carry meaning for S3 clients, the framing (see framing()), and a hash of
the body with this pass's bucket name, request ids and dates taken out.
Headers that differ between two correct answers are left out: Date,
x-amz-request-id, x-amz-id-2, Keep-Alive, a Connection other than
"close" (and "close" after a body delimited by the close),
Transfer-Encoding (framing() covers it), and the security headers the
proxy adds (Strict-Transport-Security, X-Frame-Options,
X-Content-Type-Options).

With --proxy-log/--proxy-err (the proxy's access and error logs), the
lines each case added are stored with it, to explain a difference.
"""
import argparse
import base64
import email.utils
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile

IGNORED = {'date', 'x-amz-request-id', 'x-amz-id-2', 'keep-alive',
           'strict-transport-security', 'x-frame-options',
           'x-content-type-options'}
VALUES = {'content-length', 'content-type', 'content-range', 'etag',
          'accept-ranges', 'allow', 'location',
          'content-encoding', 'content-disposition', 'expect'}
ETAG = '"5eb63bbbe01eeed093cb22bb8f5acdc3"'      # md5("hello world")


def cases(data):
    """(name, request-target, curl args, options).  {B} is the bucket.

    Options: body=False (do not compare the body), values=False (header
    names only), timeout=seconds.
    """
    small = ['--data-binary', 'hello world']
    big = ['--data-binary', '@' + os.path.join(data, '3m')]
    put = ['-X', 'PUT']
    long_key = lambda n: '/{B}/' + 'k' * n
    hdrs = lambda n, size: sum((['-H', 'X-Pad-%03d: %s' % (i, 'v' * size)]
                                for i in range(n)), [])
    return [
        # set-up, and the plain operations
        ('put-bucket', '/{B}', put, {}),
        ('put-object', '/{B}/obj', put + small, {}),
        ('put-object-empty-meta', '/{B}/meta', put + small +
         ['-H', 'x-amz-meta-empty;', '-H', 'x-amz-meta-full: v'], {}),
        ('get-object', '/{B}/obj', [], {}),
        ('head-object', '/{B}/obj', ['-I'], {}),
        ('head-empty-meta', '/{B}/meta', ['-I'], {}),
        ('get-empty-meta', '/{B}/meta', [], {}),
        ('list-objects', '/{B}', [], {}),
        ('list-objects-v2', '/{B}?list-type=2&prefix=&delimiter=%2F', [], {}),
        ('list-buckets', '/', [], {'body': False, 'values': False}),
        ('get-acl', '/{B}?acl', [], {}),
        ('get-location', '/{B}?location', [], {}),
        ('get-missing-key', '/{B}/nokey', [], {}),
        ('get-missing-bucket', '/conf-nobucket-{T}/obj', [], {}),
        ('head-missing-key', '/{B}/nokey', ['-I'], {}),
        ('head-bucket', '/{B}', ['-I'], {}),
        ('head-missing-bucket', '/conf-nobucket-{T}', ['-I'], {}),
        ('head-list-buckets', '/', ['-I'], {'values': False}),
        # SigV2, which s3rver checks: a header lost or altered on the way
        # (here an empty one) makes it answer 403
        ('v2-signed-put-empty-meta', '/{B}/signed', put + small +
         ['-H', 'Content-Type: text/plain', '-H', 'x-amz-meta-empty;',
          '-H', 'x-amz-meta-full: v'], {'sign_v2': True}),
        ('v2-signed-get', '/{B}/signed', [], {'sign_v2': True}),
        ('v2-signed-head', '/{B}/signed', ['-I'], {'sign_v2': True}),
        # ranges
        ('range-first-10', '/{B}/obj', ['-H', 'Range: bytes=0-9'], {}),
        ('range-suffix', '/{B}/obj', ['-H', 'Range: bytes=-5'], {}),
        ('range-open', '/{B}/obj', ['-H', 'Range: bytes=3-'], {}),
        ('range-unsatisfiable', '/{B}/obj', ['-H', 'Range: bytes=100-200'], {}),
        ('range-multi', '/{B}/obj', ['-H', 'Range: bytes=0-1,3-4'], {}),
        ('range-malformed', '/{B}/obj', ['-H', 'Range: bytes=abc'], {}),
        ('head-range', '/{B}/obj', ['-I', '-H', 'Range: bytes=0-3'], {}),
        # conditional requests
        ('if-none-match-304', '/{B}/obj', ['-H', 'If-None-Match: ' + ETAG], {}),
        ('if-none-match-304-then-get', '/{B}/obj',
         ['-H', 'If-None-Match: ' + ETAG, '--next'], {'twice': True}),
        ('head-if-none-match-304', '/{B}/obj',
         ['-I', '-H', 'If-None-Match: ' + ETAG], {}),
        ('if-match-412', '/{B}/obj', ['-H', 'If-Match: "nomatch"'], {}),
        ('if-modified-since-future', '/{B}/obj',
         ['-H', 'If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT'], {}),
        ('if-unmodified-since-past', '/{B}/obj',
         ['-H', 'If-Unmodified-Since: Mon, 01 Jan 1990 00:00:00 GMT'], {}),
        # Expect and early refusals of uploads
        ('put-expect-100-continue', '/{B}/e1', put + small +
         ['-H', 'Expect: 100-continue'], {}),
        ('put-expect-200-ok', '/{B}/e2', put + small +
         ['-H', 'Expect: 200-ok'], {}),
        ('put-expect-empty', '/{B}/e3', put + small + ['-H', 'Expect;'], {}),
        ('put-3m-auto-expect', '/{B}/big1', put + big, {}),
        ('put-3m-no-expect', '/{B}/big2', put + big + ['-H', 'Expect:'], {}),
        ('put-3m-missing-bucket', '/conf-nobucket-{T}/big', put + big, {}),
        ('put-3m-missing-bucket-no-expect', '/conf-nobucket-{T}/big',
         put + big + ['-H', 'Expect:'], {}),
        ('put-chunked', '/{B}/chunked', put + small +
         ['-H', 'Transfer-Encoding: chunked'], {}),
        ('put-bad-content-md5', '/{B}/md5', put + small +
         ['-H', 'Content-MD5: AAAAAAAAAAAAAAAAAAAAAA=='], {}),
        ('put-zero-length', '/{B}/zero', put + ['--data-binary', ''], {}),
        # Content-Length: 0 where no body is expected
        ('get-content-length-0', '/{B}/obj', ['-H', 'Content-Length: 0'], {}),
        ('head-content-length-0', '/{B}/obj',
         ['-I', '-H', 'Content-Length: 0'], {}),
        ('delete-content-length-0', '/{B}/zero',
         ['-X', 'DELETE', '-H', 'Content-Length: 0'], {}),
        # empty and odd request headers
        ('request-empty-header', '/{B}/obj', ['-H', 'X-Empty;'], {}),
        ('request-empty-user-agent', '/{B}/obj', ['-H', 'User-Agent;'], {}),
        ('request-duplicate-header', '/{B}/obj',
         ['-H', 'X-Dup: 1', '-H', 'X-Dup: 2'], {}),
        ('request-utf8-header-value', '/{B}/obj',
         ['-H', 'X-Utf8: caf\u00e9'], {}),
        ('request-other-host', '/{B}/obj', ['-H', 'Host: example.com'], {}),
        ('request-connection-close', '/{B}/obj',
         ['-H', 'Connection: close'], {}),
        ('request-accept-encoding-gzip', '/{B}/obj',
         ['-H', 'Accept-Encoding: gzip'], {}),
        ('request-bad-v2-signature', '/{B}/obj',
         ['-H', 'Authorization: AWS S3RVER:bm90IGEgc2lnbmF0dXJl',
          '-H', 'Date: Thu, 01 Jan 2026 00:00:00 GMT'], {}),
        ('request-http10', '/{B}/obj', ['--http1.0'], {}),
        ('keepalive-two-gets', '/{B}/obj', ['--next'], {'twice': True}),
        # request-targets
        ('target-hash', '/{B}/obj#frag', [], {}),
        ('target-encoded-hash', '/{B}/a%23b', put + small, {}),
        ('target-encoded-odd', '/{B}/a%20b+c%2Bd%25e', put + small, {}),
        ('target-get-encoded-odd', '/{B}/a%20b+c%2Bd%25e', [], {}),
        ('target-sub-delims', "/{B}/a'b!c$d&e(f)g*h,i;j=k@l:m", put + small, {}),
        ('target-raw-utf8', '/{B}/caf\u00e9', [], {}),
        ('target-raw-unsafe', '/{B}/a"b{c}|d\\e^f`g', [], {}),
        ('target-raw-space', '/{B}/a b', [], {}),
        ('target-dot-segments', '/{B}/./x/../obj', [], {}),
        ('target-double-slash', '//{B}/obj', [], {}),
        ('target-odd-query', '/{B}/obj?x=a%20b&y=&z', [], {}),
        ('target-response-overrides', '/{B}/obj?response-content-type='
         'text%2Fx-test&response-content-disposition=attachment', [], {}),
        ('target-long-1k', long_key(1000), [], {}),
        ('target-long-8k', long_key(8000), [], {}),
        ('target-long-20k', long_key(20000), [], {}),
        ('target-long-100k', long_key(100000), [], {}),
        # large header sections
        ('header-one-8k', '/{B}/obj', hdrs(1, 8000), {}),
        ('header-section-30k', '/{B}/obj', hdrs(5, 6000), {}),
        ('header-section-60k', '/{B}/obj', hdrs(10, 6000), {}),
        ('header-section-70k', '/{B}/obj', hdrs(12, 6000), {}),
        ('header-200-small', '/{B}/obj', hdrs(200, 10), {}),
        # methods
        ('method-patch', '/{B}/obj', ['-X', 'PATCH'] + small, {}),
        ('method-options', '/{B}/obj', ['-X', 'OPTIONS'], {}),
        ('method-options-cors', '/{B}/obj',
         ['-X', 'OPTIONS', '-H', 'Origin: https://example.com',
          '-H', 'Access-Control-Request-Method: GET'], {}),
        ('method-trace', '/{B}/obj', ['-X', 'TRACE'], {}),
        ('method-propfind', '/{B}/obj', ['-X', 'PROPFIND'], {}),
        ('method-custom', '/{B}/obj', ['-X', 'FOO'], {}),
        ('method-lowercase', '/{B}/obj', ['-X', 'get'], {}),
        # deletes and clean-up
        ('post-multi-delete', '/{B}?delete',
         ['-X', 'POST', '-H', 'Content-Type: application/xml',
          '--data-binary', '<Delete><Object><Key>e1</Key></Object>'
          '<Object><Key>nokey</Key></Object></Delete>'], {}),
        ('delete-bucket-not-empty', '/{B}', ['-X', 'DELETE'], {}),
        ('delete-object', '/{B}/obj', ['-X', 'DELETE'], {}),
        ('delete-missing-key', '/{B}/obj', ['-X', 'DELETE'], {}),
    ]


CLEANUP_KEYS = ['meta', 'signed', 'e1', 'e2', 'e3', 'big1', 'big2', 'chunked', 'md5',
                'zero', 'a%23b', 'a%20b+c%2Bd%25e',
                "a'b!c$d&e(f)g*h,i;j=k@l:m"]


def sign_v2(method, target, args):
    """curl arguments adding x-amz-date and a SigV2 Authorization for
    s3rver's key, over the Content-Type and x-amz-* headers in args."""
    ctype, amz = '', {}
    for i, a in enumerate(args[:-1]):
        if args[i] != '-H':
            continue
        h = args[i + 1]
        name, value = (h[:-1], '') if h.endswith(';') else h.split(':', 1)
        name, value = name.strip().lower(), value.strip()
        if name == 'content-type':
            ctype = value
        elif name.startswith('x-amz-'):
            amz[name] = value
    amz['x-amz-date'] = email.utils.formatdate(usegmt=True)
    canon = ''.join('%s:%s\n' % (k, amz[k]) for k in sorted(amz))
    sts = '%s\n\n%s\n\n%s%s' % (method, ctype, canon, target.split('?')[0])
    sig = base64.b64encode(hmac.new(b'S3RVER', sts.encode(),
                                    hashlib.sha1).digest()).decode()
    return ['-H', 'x-amz-date: ' + amz['x-amz-date'],
            '-H', 'Authorization: AWS S3RVER:' + sig]


def norm_body(body, bucket, tag):
    body = body.replace(bucket.encode(), b'BUCKET')
    body = body.replace(('conf-nobucket-' + tag).encode(), b'NOBUCKET')
    body = re.sub(rb'<(RequestId|HostId)>[^<]*</\1>', rb'<\1/>', body)
    body = re.sub(rb'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', b'DATE', body)
    return body


def parse_headers(raw):
    """Header blocks of -D output: [(status, [(name, value)])]."""
    blocks = []
    for block in re.split(rb'\r?\n\r?\n', raw):
        lines = block.split(b'\n')
        if not lines or not lines[0].startswith(b'HTTP/'):
            continue
        status = lines[0].split()[1].decode() if len(lines[0].split()) > 1 else '?'
        fields = []
        for line in lines[1:]:
            line = line.rstrip(b'\r')
            if b':' in line:
                n, v = line.split(b':', 1)
                fields.append((n.decode('latin-1').strip().lower(),
                               v.decode('latin-1').strip()))
        blocks.append((status, fields))
    return blocks


def framing(status, fields, head):
    """How the response's end is marked, with the two ways a proxy may
    legitimately re-frame a body told apart from what it may not do:
    a body delimited by the connection's close may reach the client
    chunked (and the connection kept), so both are "delimited"; a
    response without a body (HEAD, 204, 304) must not gain a
    Transfer-Encoding."""
    names = {n for n, _ in fields}
    te = 'transfer-encoding' in names
    if head or status in ('204', '304'):
        return 'no body' + (', chunked' if te else '') + (
            ', length' if 'content-length' in names else '')
    if te or 'content-length' not in names:
        return 'delimited'
    return 'length'


def summarize(blocks, opts, bucket, tag, head):
    statuses = [s for s, _ in blocks]
    names, values, frames = set(), {}, []
    for s, fields in blocks:
        if s.startswith('1'):
            continue
        frame = framing(s, fields, head)
        frames.append(frame)
        for n, v in fields:
            if n in IGNORED or n == 'transfer-encoding':
                continue
            if n == 'connection':
                # closing after a close-delimited body is implied
                if 'close' in v.lower() and frame != 'delimited':
                    names.add('connection: close')
                continue
            names.add(n)
            if opts.get('values', True) and (n in VALUES or n.startswith('x-amz-meta-')):
                v = v.replace(bucket, 'BUCKET').replace('conf-nobucket-' + tag, 'NOBUCKET')
                values.setdefault(n, []).append(v)
    return statuses, sorted(names), values, ','.join(frames)


def outcome(rc, statuses):
    """The statuses received; curl's exit status only when it tells more
    (no final status, or a timeout): a reset after a complete error answer
    (curl 56) is a timing race, not a result."""
    text = 'status=' + (','.join(statuses) or '-')
    final = [s for s in statuses if not s.startswith('1')]
    if rc != 0 and (not final or rc in (28, 'killed')):
        text += ' curl=%s' % rc
    return text


def tail_from(path, offset):
    if not path or not os.path.exists(path):
        return [], offset
    with open(path, 'rb') as f:
        f.seek(offset)
        data = f.read()
    lines = data.decode('utf-8', 'replace').splitlines()
    return ([ln if len(ln) <= 400 else ln[:160] + ' [...] ' + ln[-230:]
             for ln in lines][-6:], offset + len(data))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('url')
    ap.add_argument('tag')
    ap.add_argument('results')
    ap.add_argument('--ca')
    ap.add_argument('--data', default='.')
    ap.add_argument('--proxy-log')
    ap.add_argument('--proxy-err')
    ap.add_argument('--max-time', type=int, default=15)
    a = ap.parse_args()
    bucket = 'conf-curl-' + a.tag
    work = tempfile.mkdtemp(prefix='curlcases-')
    base = ['curl', '-sS', '--http1.1', '--path-as-is',
            '--connect-timeout', '5', '--max-time', str(a.max_time)]
    if a.ca:
        base += ['--cacert', a.ca]
    logpos = {}
    for p in (a.proxy_log, a.proxy_err):
        if p and os.path.exists(p):
            logpos[p] = os.path.getsize(p)
    out = open(a.results, 'a')
    all_cases = cases(a.data)
    cleanup = [('cleanup-' + k, '/{B}/' + k, ['-X', 'DELETE'], {'internal': True})
               for k in CLEANUP_KEYS]
    cleanup.append(('delete-bucket', '/{B}', ['-X', 'DELETE'], {}))
    for name, target, args, opts in all_cases + cleanup:
        target = target.replace('{B}', bucket).replace('{T}', a.tag)
        files = [os.path.join(work, n) for n in ('h1', 'b1', 'h2', 'b2')]
        for f in files:
            if os.path.exists(f):
                os.unlink(f)

        def one(h, b):
            return ['-D', h, '-o', b, '--request-target', target,
                    '-w', '%{num_connects}\\n', a.url + '/']
        if opts.get('sign_v2'):
            method = ('HEAD' if '-I' in args else
                      args[args.index('-X') + 1] if '-X' in args else 'GET')
            args = args + sign_v2(method, target, args)
        if opts.get('twice'):
            # args end with --next: the second transfer is a plain GET
            # on the same connection if the first left it open.
            cmd = (base + args[:-1] + one(files[0], files[1]) + ['--next'] +
                   base[1:] + one(files[2], files[3]))
        else:
            cmd = base + args + one(files[0], files[1])
        try:
            p = subprocess.run(cmd, capture_output=True,
                               timeout=a.max_time * 2 + 10)
            rc, stdout, stderr = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            rc, stdout, stderr = 'killed', b'', b'timeout'

        def read(f):
            return open(f, 'rb').read() if os.path.exists(f) else b''
        raw = read(files[0]) + b'\r\n\r\n' + read(files[2])
        body = read(files[1]) + read(files[3])
        statuses, names, values, frames = summarize(
            parse_headers(raw), opts, bucket, a.tag, '-I' in args)
        conns = stdout.decode().split()
        rec = {
            'test': 'curl/' + name,
            'outcome': outcome(rc, statuses),
            'curl_exit': rc,
            'detail': {
                'connects': ','.join(conns),
                'headers': names,
                'framing': frames,
                'values': values,
                # -I writes the header section to the body file: no body
                'body': (hashlib.sha256(norm_body(body, bucket, a.tag)).hexdigest()[:16]
                         if opts.get('body', True) and '-I' not in args else '-'),
            },
            'reason': stderr.decode('utf-8', 'replace').strip()[:300],
        }
        logs = []
        for p in logpos:
            lines, logpos[p] = tail_from(p, logpos[p])
            logs += lines
        if name.startswith('cleanup-'):
            continue
        if logs:
            rec['log'] = logs
        out.write(json.dumps(rec) + '\n')
        out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
