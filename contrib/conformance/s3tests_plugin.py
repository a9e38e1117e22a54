"""pytest plugin loaded into ceph/s3-tests by run.sh (-p s3tests_plugin).

1. s3-tests cleans its buckets up (before and after every test) with
   ListObjectVersions, which s3rver does not implement (405): every test
   after the first would then error in set-up.  Clean up with what
   s3rver can do instead (_nuke_plain), and never fail a test's set-up
   or tear-down over a bucket that cannot be removed (a bucket left
   over costs every later test a listing of it).  Clean up once per
   set-up and tear-down, as the main user (alt and tenant are the same
   s3rver account; there is no IAM to clean), after waiting for a
   backend that is being restarted after a crash.  The same plugin is
   loaded for the direct and the proxied run.
2. s3-tests passes verify=True (ssl_verify) to its clients, and botocore
   then ignores AWS_CA_BUNDLE: with $CONF_CA set, clients verify the
   server against that CA instead (requests reads REQUESTS_CA_BUNDLE).
3. Append one JSON line per test to $CONF_RESULTS as it ends (its name
   without the file, e.g. test_bucket_list_empty): the outcome of the
   test body ("passed", "failed", "skipped", or "error" when set-up
   failed, "timeout" when pytest-timeout stopped it) and a short reason.
"""
import json
import os
import time

_results = {}


def _nuke_plain(client, bucket):
    """Delete a bucket's objects, then the bucket, with what s3rver does
    right: ListObjects v1 (its v2 fails with 500 once a listing is
    truncated), DeleteObjects, and DeleteObject where that fails (500 on
    numeric keys such as "0")."""
    from botocore.exceptions import ClientError
    previous = None
    while True:
        keys = [o['Key'] for o in
                client.list_objects(Bucket=bucket).get('Contents', [])]
        if not keys or keys == previous:
            break
        previous = keys
        try:
            client.delete_objects(Bucket=bucket, Delete={
                'Objects': [{'Key': k} for k in keys], 'Quiet': True})
        except ClientError:
            for k in keys:
                client.delete_object(Bucket=bucket, Key=k)
    client.delete_bucket(Bucket=bucket)


def list_buckets_waiting(client, seconds=20):
    """The bucket names, once the backend answers.  s3rver crashes on some
    requests (run.sh restarts it, which takes a second or two): the next
    test waits for it rather than fail by how fast the restart went.
    Directly that is a refused connection; through the proxy a 502."""
    from botocore.exceptions import ClientError, EndpointConnectionError
    deadline = time.monotonic() + seconds
    while True:
        try:
            return [b['Name'] for b in client.list_buckets()['Buckets']]
        except (ClientError, EndpointConnectionError) as e:
            if isinstance(e, ClientError) and e.response.get(
                    'ResponseMetadata', {}).get('HTTPStatusCode') != 502:
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _patch():
    import importlib
    import sys
    from botocore.exceptions import ClientError
    # s3tests/functional since 2023; s3tests_boto3/functional before
    f = importlib.import_module(os.environ.get('CONF_S3TESTS_PKG',
                                               's3tests.functional'))
    if getattr(f, '_conf_patched', False):
        return
    orig_nuke = f.nuke_bucket
    versions = {}

    def nuke_bucket(client, bucket):
        # s3rver has no ListObjectVersions (405): once seen, delete
        # object by object straight away.
        if 'supported' not in versions:
            try:
                client.list_object_versions(Bucket=bucket, MaxKeys=1)
                versions['supported'] = True
            except ClientError as e:
                code = e.response.get('Error', {}).get('Code')
                if code in ('MethodNotAllowed', 'NotImplemented'):
                    versions['supported'] = False
        if versions.get('supported') is False:
            _nuke_plain(client, bucket)
            return
        try:
            orig_nuke(client, bucket)
        except Exception:
            # s3rver's DeleteObjects fails (500) on numeric keys ("0")
            _nuke_plain(client, bucket)

    def nuke_buckets(client, names):
        for name in names:
            try:
                nuke_bucket(client, name)
            except Exception as e:
                # Left over; the next test's bucket names differ.
                print('conformance: cannot remove bucket %s: %s'
                      % (name, e), file=sys.stderr)

    def nuke_prefixed_buckets(prefix, client=None):
        if client is None:
            client = f.get_client()
        nuke_buckets(client, f.get_buckets_list(client, prefix))

    # s3-tests cleans up before and after every test as its main, alt
    # and tenant users, then deletes IAM roles.  With s3rver these three
    # users are one account (it knows a single key) and there is no IAM:
    # once, as the main user, gives the same result with a third of the
    # requests (the backend's speed sets this suite's run time).
    def setup():
        client = f.get_client()
        prefix = f.get_prefix()
        nuke_buckets(client, [b for b in list_buckets_waiting(client)
                              if prefix in b])

    def teardown():
        nuke_prefixed_buckets(prefix=f.get_prefix())

    f.nuke_bucket = nuke_bucket
    f.nuke_prefixed_buckets = nuke_prefixed_buckets
    f.setup = setup
    f.teardown = teardown
    f._conf_patched = True


def _verify_with(ca):
    import botocore.session
    create = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        if kwargs.get('verify') is True:
            kwargs['verify'] = ca
        return create(self, *args, **kwargs)
    botocore.session.Session.create_client = create_client


def pytest_configure(config):
    if os.environ.get('CONF_CA'):
        _verify_with(os.environ['CONF_CA'])


def pytest_collection_finish(session):
    _patch()


def _reason(report):
    lr = report.longrepr
    if lr is None:
        return ''
    crash = getattr(lr, 'reprcrash', None)
    if crash is not None:
        msg = crash.message
    elif isinstance(lr, tuple) and len(lr) == 3:   # skip
        msg = lr[2]
    else:
        msg = str(lr)
    msg = ' '.join(msg.split())
    return msg[:300]


_seconds = {}


def pytest_runtest_logreport(report):
    nodeid = report.nodeid
    _seconds[nodeid] = _seconds.get(nodeid, 0.0) + report.duration
    if report.when == 'setup':
        if report.failed:
            _results[nodeid] = ('error', 'setup: ' + _reason(report))
        elif report.skipped:
            _results[nodeid] = ('skipped', _reason(report))
    elif report.when == 'call':
        outcome = report.outcome
        reason = _reason(report)
        if report.failed and 'Timeout' in reason:
            outcome = 'timeout'
        _results[nodeid] = (outcome, reason)
    elif report.when == 'teardown':
        # A failed tear-down after a passing body does not change the
        # test's result (the clean-up is this plugin's business).
        if nodeid not in _results:
            _results[nodeid] = ('error', 'teardown: ' + _reason(report))
        _write(nodeid, *_results[nodeid], _seconds.pop(nodeid, 0.0))


def _write(nodeid, outcome, reason, seconds):
    """One line as each test ends, so that a run stopped from outside
    (run.sh's global timeout) still leaves what it did."""
    path = os.environ.get('CONF_RESULTS')
    if not path:
        return
    with open(path, 'a') as out:
        out.write(json.dumps({'test': nodeid.split('::', 1)[-1],
                              'outcome': outcome,
                              'reason': reason,
                              'seconds': round(seconds, 2)}) + '\n')
