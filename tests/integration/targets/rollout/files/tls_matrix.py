#!/usr/bin/env python
# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Connect from every truststore to every listener with the JDK TLS checker,
in parallel, and print the outcome of each pair as JSON.

    tls_matrix.py --tls-check TLS_CHECK_PY --truststore NAME=PATH ... --server NAME=PORT ... [--hostname N]

The truststore password comes from the environment (TS_PASSWORD). Output:
{"matrix": {"<truststore name>": {"<server name>": {"ok": bool, "fingerprint": "AA:..", "subject": "..", "error": ".."}}},
 "served": {"<name>": "<fingerprint the server of that name serves, seen through the truststore of that name>"},
 "failures": ["<truststore name> -> <server name>: <error>", ...]}
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import subprocess
import sys


def connect(args, truststore, port):
    run = subprocess.run([sys.executable, args.tls_check, 'connect', '--host', '127.0.0.1', '--port', str(port),
                          '--truststore', truststore, '--hostname', args.hostname],
                         capture_output=True, text=True, timeout=120, check=False)
    words = run.stdout.split(None, 2)
    if run.returncode == 0 and len(words) >= 2 and words[0] == 'OK':
        return dict(ok=True, fingerprint=words[1], subject=words[2].strip() if len(words) > 2 else '', error='')
    return dict(ok=False, fingerprint='', subject='', error=(run.stderr.strip() or run.stdout.strip())[-300:])


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
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        jobs = {}
        for tname, tpath in pairs(args.truststore):
            result[tname] = {}
            for sname, port in pairs(args.server):
                jobs[pool.submit(connect, args, tpath, int(port))] = (tname, sname)
        for job, (tname, sname) in jobs.items():
            result[tname][sname] = job.result()
    served = dict((name, row[name]['fingerprint']) for name, row in result.items() if name in row and row[name]['ok'])
    failures = ['%s -> %s: %s' % (t, s, r['error']) for t, row in sorted(result.items())
                for s, r in sorted(row.items()) if not r['ok']]
    print(json.dumps(dict(matrix=result, served=served, failures=failures), indent=1, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
