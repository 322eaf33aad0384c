#!/usr/bin/env python
# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Fail when a secret is in a file under the given directories.

    scan_secrets.py [--all DIR]... [--ca-only DIR]...

Secrets come from the environment, never from the command line:
SCAN_CA_KEY (a PEM key: each line of its body is looked for),
SCAN_CA_PASSPHRASE, SCAN_PASSWORDS (one a line). Under --all directories
every secret is looked for; under --ca-only ones, only the CA key and its
passphrase (the keystore passwords go to the managed hosts by design).
SCAN_SKIP: directories (os.pathsep-separated) not scanned (the job's input).
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def variants(value):
    # as written, and as a JSON string would hold it
    return {value, json.dumps(value)[1:-1]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--all', action='append', default=[])
    parser.add_argument('--ca-only', action='append', default=[])
    args = parser.parse_args()
    key = os.environ['SCAN_CA_KEY']
    ca = {'CA key line %d' % n: line.strip() for n, line in enumerate(key.strip().splitlines()[1:-1])
          if len(line.strip()) >= 40}
    if not ca:
        sys.exit('scan_secrets: SCAN_CA_KEY holds no PEM body')
    ca['CA passphrase'] = os.environ['SCAN_CA_PASSPHRASE']
    others = {'password %d' % n: p for n, p in enumerate(os.environ.get('SCAN_PASSWORDS', '').splitlines()) if p}
    skip = [os.path.abspath(d) for d in os.environ.get('SCAN_SKIP', '').split(os.pathsep) if d]
    leaks, scanned = [], 0
    for roots, secrets in ((args.all, dict(ca, **others)), (args.ca_only, ca)):
        for root in roots:
            for directory, dummy, names in os.walk(root):
                if any(os.path.abspath(directory) == d or os.path.abspath(directory).startswith(d + os.sep)
                       for d in skip):
                    continue
                for name in names:
                    path = os.path.join(directory, name)
                    if os.path.islink(path) or not os.path.isfile(path):
                        continue
                    with open(path, 'rb') as f:
                        data = f.read().decode('utf-8', 'replace')
                    scanned += 1
                    flat = data.replace('\\n', '').replace('\n', '')
                    for what, value in secrets.items():
                        if any(v in data or v in flat for v in variants(value)):
                            leaks.append('%s: %s' % (path, what))
    print('scanned %d files' % scanned)
    if leaks:
        print('\n'.join(sorted(leaks)))
        sys.exit(1)


if __name__ == '__main__':
    main()
