#!/usr/bin/env python
# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Check a release tarball's contents (`make package-check`, step 2).

    package_contents.py TARBALL REPO

Fails on junk (test output, caches, VCS, build state, dev tools, the rollout
role's controller-side state: CA keys, CSRs, signed certificates), on any file
that `git ls-files` does not list in REPO (an untracked file is not the
repository's, ignored or not), on links, and on a missing required file.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile

JUNK = re.compile(r'(^|/)(\.git|\.venv|\.build|\.ansible|\.pytest_cache|\.hypothesis|__pycache__|output|'
                  r'bench/output|bench/results|\.ci|rollout-ca|rollout-ca-[^/]*|rollout-csr|rollout-signed)(/|$)|'
                  r'\.pyc$|\.log$|~$|\.tar\.gz$|\.orig$|\.rej$|'
                  r'integration_config\.yml$|\.plugin-cache\.yaml$|^Makefile$|^requirements-(dev|tools)\.txt$|'
                  r'^\.ansible-lint$|^\.gitignore$')
REQUIRED = ('MANIFEST.json', 'FILES.json', 'README.md', 'LICENSE', 'CHANGELOG.rst', 'CHANGELOG.md',
            'changelogs/changelog.yaml', 'meta/runtime.yml', 'meta/execution-environment.yml',
            'requirements.txt', 'bindep.txt', 'playbooks/rollout.yml', 'playbooks/rollback.yml',
            'roles/rollout/meta/argument_specs.yml', 'demo/run.sh', 'demo/fleet.py')


def repository_files(repo):
    """The files git tracks in ``repo`` (the index), untracked ones never."""
    out = subprocess.run(['git', '-C', repo, 'ls-files', '-z', '--cached'], stdout=subprocess.PIPE, check=True).stdout
    return set(name for name in out.decode('utf-8').split('\0') if name)


def problems(tarball, repo_files, required=REQUIRED):
    found = []
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
    names = [m.name[2:] if m.name.startswith('./') else m.name for m in members]
    for member, name in zip(members, names):
        if JUNK.search(name):
            found.append('junk in the tarball: %s' % name)
        elif member.isfile() and name not in ('MANIFEST.json', 'FILES.json') and name not in repo_files:
            found.append('not a file git tracks in the repository: %s' % name)
        if member.issym() or member.islnk():
            found.append('link in the tarball: %s' % name)
    for name in required:
        if name not in names:
            found.append('missing from the tarball: %s' % name)
    files = [m for m in members if m.isfile()]
    return found, len(files), sum(m.size for m in files)


def main():
    tarball, repo = sys.argv[1], sys.argv[2]
    found, count, size = problems(tarball, repository_files(repo))
    print('package: %d files, %d bytes unpacked' % (count, size))
    for problem in found:
        print('package: %s' % problem)
    sys.exit(1 if found else 0)


if __name__ == '__main__':
    main()
