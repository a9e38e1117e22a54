#!/usr/bin/python3
"""Compare the direct and the proxied pass of each suite; write the report.

    compare.py OUTDIR KNOWN_DIFFERENCES_MD SUITE...

Reads OUTDIR/SUITE/direct.jsonl and OUTDIR/SUITE/proxy.jsonl (one JSON
object a line: test, outcome, optional detail, reason, log) and writes
OUTDIR/report.md and OUTDIR/report.json.

A test "passes" in s3tests when its outcome is "passed".  In the other
suites the direct pass is the reference: a test whose outcome or detail
(exit status and output hash, or status line, header names and values and
body hash) differs through the proxy counts as failing through the proxy,
unless it failed directly (a client's non-zero exit, curl without a final
status) and works through the proxy: that is the reverse.

Differences that match a row of KNOWN_DIFFERENCES_MD (suite, and fnmatch
patterns of the test name and of the direct and proxied outcomes) are
reported as known and do not count.
Exit status: 0 when no unexplained "passes directly, fails through the
proxy" is left, 1 otherwise, 2 when a pass produced no results.
"""
import fnmatch
import json
import os
import sys


def load(path):
    res = {}
    if not os.path.exists(path):
        return None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rec = json.loads(line)
                res[rec['test']] = rec
    return res


def load_known(path):
    """Rows '| suite | test | direct | proxy | reason |' of the markdown
    tables: suite, then fnmatch patterns of the test name and of the
    direct and proxied outcomes (`*` for any), then the reason."""
    known = []
    if not os.path.exists(path):
        return known
    with open(path) as f:
        for line in f:
            if not line.lstrip().startswith('|'):
                continue
            cells = [c.strip().strip('`') for c in
                     line.strip().strip('|').split('|')]
            if len(cells) < 5 or cells[0].lower() == 'suite' or \
                    set(cells[0]) <= set('-: '):
                continue
            known.append(tuple(cells[:4]) + ('|'.join(cells[4:]),))
    return known


def known_reason(known, suite, test, direct, proxy):
    for s, pattern, dpat, ppat, reason in known:
        if ((s == suite or s == '*') and fnmatch.fnmatchcase(test, pattern)
                and fnmatch.fnmatchcase(direct, dpat)
                and fnmatch.fnmatchcase(proxy, ppat)):
            return reason
    return None


def ok_direct(suite, rec):
    """Did the test work at all (for the direction of a difference)?"""
    if rec is None:
        return False
    o = rec['outcome']
    if suite == 's3tests':
        return o == 'passed'
    if o.startswith('rc='):
        return o == 'rc=0'
    # curl: a final status was received and curl did not time out
    return ' curl=' not in o and o != 'status=-'


def same(a, b):
    return (a is not None and b is not None and a['outcome'] == b['outcome']
            and a.get('detail') == b.get('detail'))


def explain(suite, d, p):
    """What differs, in a few words, for the report."""
    if d is None or p is None:
        return 'missing from the %s pass' % ('direct' if d is None else 'proxy')
    parts = []
    if d['outcome'] != p['outcome']:
        parts.append('%s -> %s' % (d['outcome'], p['outcome']))
    dd, pd = d.get('detail'), p.get('detail')
    if isinstance(dd, dict) and isinstance(pd, dict):
        dh, ph = set(dd.get('headers', [])), set(pd.get('headers', []))
        if dh - ph:
            parts.append('headers lost: ' + ', '.join(sorted(dh - ph)))
        if ph - dh:
            parts.append('headers gained: ' + ', '.join(sorted(ph - dh)))
        dv, pv = dd.get('values', {}), pd.get('values', {})
        for k in sorted(set(dv) | set(pv)):
            if k in dh and k in ph and dv.get(k) != pv.get(k):
                parts.append('%s: %s -> %s' % (k, dv.get(k), pv.get(k)))
        if dd.get('framing') != pd.get('framing'):
            parts.append('framing: %s -> %s' % (dd.get('framing'),
                                                pd.get('framing')))
        if dd.get('body') != pd.get('body'):
            parts.append('body differs')
        if dd.get('connects') != pd.get('connects'):
            parts.append('connections per transfer: %s -> %s'
                         % (dd.get('connects'), pd.get('connects')))
    elif dd != pd and suite != 's3tests':
        parts.append('output sha256 differs')
    return '; '.join(parts) or 'differs'


def main():
    out, known_path, suites = sys.argv[1], sys.argv[2], sys.argv[3:]
    known = load_known(known_path)
    report = {'suites': {}, 'unexplained': 0}
    md = ['# storage-proxy conformance: direct vs. through the proxy', '']
    status = 0
    for suite in suites:
        direct = load(os.path.join(out, suite, 'direct.jsonl'))
        proxy = load(os.path.join(out, suite, 'proxy.jsonl'))
        if not direct or not proxy:
            md += ['## %s' % suite, '', 'no results (%s pass missing)' %
                   ('direct' if not direct else 'proxy'), '']
            status = 2
            continue
        tests = sorted(set(direct) | set(proxy))
        worse, better, changed = [], [], []
        for t in tests:
            d, p = direct.get(t), proxy.get(t)
            if same(d, p):
                continue
            dok, pok = ok_direct(suite, d), ok_direct(suite, p)
            row = {
                'test': t,
                'direct': d['outcome'] if d else 'missing',
                'proxy': p['outcome'] if p else 'missing',
                'what': explain(suite, d, p),
                'direct_reason': (d or {}).get('reason', ''),
                'proxy_reason': (p or {}).get('reason', ''),
                'proxy_log': (p or {}).get('log', []),
                'known': known_reason(known, suite, t,
                                      d['outcome'] if d else 'missing',
                                      p['outcome'] if p else 'missing'),
            }
            if dok and not pok:
                worse.append(row)
            elif pok and not dok:
                better.append(row)
            elif suite == 's3tests':
                # both failed, differently: information only
                if row['direct'] != row['proxy']:
                    changed.append(row)
            else:
                # clients and curl: the direct answer is the reference
                worse.append(row)

        def totals(res):
            c = {}
            for r in res.values():
                k = r['outcome'] if suite == 's3tests' else (
                    'ok' if ok_direct(suite, r) else 'failed')
                c[k] = c.get(k, 0) + 1
            return c
        unexplained = [r for r in worse if not r['known']]
        report['suites'][suite] = {
            'tests': len(tests), 'direct': totals(direct),
            'proxy': totals(proxy), 'fails_through_proxy': worse,
            'passes_only_through_proxy': better, 'changed_failure': changed,
            'unexplained': len(unexplained)}
        report['unexplained'] += len(unexplained)
        if unexplained:
            status = max(status, 1)

        restarts = {}
        for pas in ('direct', 'proxy'):
            path = os.path.join(out, suite, 's3rver-%s-restarts.log' % pas)
            if os.path.exists(path):
                with open(path) as f:
                    restarts[pas] = sum(1 for _ in f)
        report['suites'][suite]['backend_restarts'] = restarts
        md += ['## %s' % suite, '',
               '%d tests; direct: %s; through the proxy: %s' % (
                   len(tests), fmt(totals(direct)), fmt(totals(proxy))),
               '', 's3rver crashed and was restarted: %d times in the direct '
               'pass, %d in the proxied one.' % (restarts.get('direct', 0),
                                                 restarts.get('proxy', 0)),
               '', '%d pass directly and fail (or differ) through the proxy, '
               '%d of them unexplained; %d pass only through the proxy.' % (
                   len(worse), len(unexplained), len(better)), '']
        for title, rows in (
                ('Passes directly, fails or differs through the proxy', worse),
                ('Fails directly, passes through the proxy', better),
                ('Fails both ways, differently (information)', changed)):
            if not rows:
                continue
            md += ['### ' + title, '',
                   '| test | direct | proxy | what differs | known difference |',
                   '|---|---|---|---|---|']
            for r in rows:
                md.append('| %s | %s | %s | %s | %s |' % (
                    r['test'], cell(r['direct']), cell(r['proxy']),
                    cell(r['what'] + ('; proxy: ' + r['proxy_reason']
                                      if r['proxy_reason'] and suite != 'curl'
                                      else '')),
                    cell(r['known'] or '')))
            md.append('')
            if suite == 'curl':
                md += ['Proxy log lines of these cases:', '', '```']
                for r in rows:
                    for ln in r['proxy_log']:
                        md.append('%s: %s' % (r['test'], ln))
                md += ['```', '']
    md += ['## Result', '',
           'unexplained differences: %d (exit status %d)' %
           (report['unexplained'], status), '']
    report['exit_status'] = status
    with open(os.path.join(out, 'report.json'), 'w') as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(out, 'report.md'), 'w') as f:
        f.write('\n'.join(md))
    # a short summary on stdout
    for suite, r in report['suites'].items():
        print('%-8s %4d tests  direct %-40s proxy %s' % (
            suite, r['tests'], fmt(r['direct']), fmt(r['proxy'])))
        for row in r['fails_through_proxy']:
            print('   %s %s: %s -> %s  (%s)' % (
                'known' if row['known'] else 'DIFF ', row['test'],
                row['direct'], row['proxy'], row['what'][:150]))
        for row in r['passes_only_through_proxy']:
            print('   rev   %s: %s -> %s' % (row['test'], row['direct'],
                                             row['proxy']))
    print('unexplained: %d; report: %s' % (
        report['unexplained'], os.path.join(out, 'report.md')))
    return status


def fmt(counts):
    return ', '.join('%s %d' % kv for kv in sorted(counts.items()))


def cell(s):
    return str(s).replace('|', '\\|').replace('\n', ' ')[:400]


if __name__ == '__main__':
    sys.exit(main())
