# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""community.general and community.crypto for the benchmark's peers, without Galaxy.

    python bench/peer_collections.py        # prints the collections path

The `ansible` package on PyPI carries both collections. Its wheel (pinned
version and SHA-256 below) is downloaded once with pip (`pip download
--no-deps`, nothing installed) into .build/bench-cache/pip, and only
ansible_collections/community/{general,crypto} are extracted from it into
.build/bench-collections. Playbooks find them through ANSIBLE_COLLECTIONS_PATH;
the project's ansible-core in .venv is left as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BUILD = os.path.join(REPO, '.build')
CACHE = os.path.join(BUILD, 'bench-cache', 'pip')
COLLECTIONS = os.path.join(BUILD, 'bench-collections')

# ansible 12.x ships with ansible-core 2.19, the .venv's
ANSIBLE_VERSION = '12.3.0'
WHEEL = 'ansible-%s-py3-none-any.whl' % ANSIBLE_VERSION
WHEEL_SHA256 = 'cd156f82fa87f7a899212b0efa9f7ca3a24d609212de9f78428a572eb01e5414'
WANTED = ('community/general', 'community/crypto')


def log(msg):
    sys.stderr.write('[peer collections] %s\n' % msg)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def versions(root=COLLECTIONS):
    """{'community.general': '11.4.2', ...} of the extracted collections; {} when absent."""
    found = {}
    for name in WANTED:
        try:
            with open(os.path.join(root, 'ansible_collections', name, 'MANIFEST.json')) as f:
                found[name.replace('/', '.')] = json.load(f)['collection_info']['version']
        except (OSError, ValueError, KeyError):
            pass
    return found


def ensure():
    """Download (once) and extract (once); returns the path for ANSIBLE_COLLECTIONS_PATH."""
    stamp = os.path.join(COLLECTIONS, '.from-' + WHEEL)
    if os.path.exists(stamp) and len(versions()) == len(WANTED):
        return COLLECTIONS
    wheel = os.path.join(CACHE, WHEEL)
    if not os.path.exists(wheel) or sha256(wheel) != WHEEL_SHA256:
        log('downloading ansible==%s (wheel only, nothing installed) into %s' % (ANSIBLE_VERSION, CACHE))
        os.makedirs(CACHE, exist_ok=True)
        subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--disable-pip-version-check', '--no-deps',
                        '--only-binary', ':all:', '-d', CACHE, 'ansible==%s' % ANSIBLE_VERSION], check=True)
    got = sha256(wheel)
    if got != WHEEL_SHA256:
        raise SystemExit('peer collections: %s has SHA-256 %s, expected %s' % (wheel, got, WHEEL_SHA256))
    log('extracting %s from %s into %s' % (', '.join(w.replace('/', '.') for w in WANTED), WHEEL, COLLECTIONS))
    shutil.rmtree(COLLECTIONS, ignore_errors=True)
    prefixes = tuple('ansible_collections/%s/' % w for w in WANTED)
    with zipfile.ZipFile(wheel) as z:
        for member in z.namelist():
            if member.startswith(prefixes) and '..' not in member.split('/'):
                z.extract(member, COLLECTIONS)
    with open(stamp, 'w') as f:
        f.write(json.dumps(versions()) + '\n')
    return COLLECTIONS


if __name__ == '__main__':
    print(ensure())
    print(json.dumps(versions()), file=sys.stderr)
