#!/usr/bin/env python
# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Connect from every truststore to every listener with the JDK TLS checker
and print the outcome of each pair as JSON.

    tls_matrix.py --tls-check TLS_CHECK_PY --truststore NAME=PATH ... --server NAME=PORT ... [--hostname N]

All pairs go to one JVM (TlsCheck's matrix mode: each pair a connect of its
own, fresh SSLContext, in that JVM), not one JVM per pair: a JVM start costs
far more CPU than a handshake. The truststore password comes from the
environment (TS_PASSWORD). Output:
{"matrix": {"<truststore name>": {"<server name>": {"ok": bool, "fingerprint": "AA:..", "subject": "..", "error": ".."}}},
 "served": {"<name>": "<fingerprint the server of that name serves, seen through the truststore of that name>"},
 "failures": ["<truststore name> -> <server name>: <error>", ...]}
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys


def outcome(line):
    words = line.split(None, 2)
    if len(words) >= 2 and words[0] == 'OK':
        return dict(ok=True, fingerprint=words[1], subject=words[2].strip() if len(words) > 2 else '', error='')
    return dict(ok=False, fingerprint='', subject='', error=line.strip()[-300:] or 'no answer')


def connect_all(args, jobs):
    """[(truststore path, port)] -> [outcome], in order, from one TlsCheck matrix run."""
    stdin = ''.join('%d %s\n' % (port, path) for path, port in jobs)
    run = subprocess.run([sys.executable, args.tls_check, 'matrix', '--host', '127.0.0.1', '--hostname', args.hostname],
                         input=stdin, capture_output=True, text=True, timeout=60 + 30 * len(jobs), check=False)
    lines = run.stdout.splitlines()
    if run.returncode != 0 or len(lines) != len(jobs):
        error = 'the TLS checker failed (exit %d): %s' % (run.returncode, (run.stderr.strip() or run.stdout.strip())[-300:])
        return [dict(ok=False, fingerprint='', subject='', error=error) for dummy in jobs]
    return [outcome(line) for line in lines]


def pairs(values):
    return [tuple(v.split('=', 1)) for v in values]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--tls-check', required=True)
    parser.add_argument('--truststore', action='append', required=True)
    parser.add_argument('--server', action='append', required=True)
    parser.add_argument('--hostname', default='localhost')
    args = parser.parse_args()
    result = {}
    keys = []
    jobs = []
    for tname, tpath in pairs(args.truststore):
        result[tname] = {}
        for sname, port in pairs(args.server):
            keys.append((tname, sname))
            jobs.append((tpath, int(port)))
    for (tname, sname), answer in zip(keys, connect_all(args, jobs)):
        result[tname][sname] = answer
    served = dict((name, row[name]['fingerprint']) for name, row in result.items() if name in row and row[name]['ok'])
    failures = ['%s -> %s: %s' % (t, s, r['error']) for t, row in sorted(result.items())
                for s, r in sorted(row.items()) if not r['ok']]
    print(json.dumps(dict(matrix=result, served=served, failures=failures), indent=1, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
