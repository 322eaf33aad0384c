#!/usr/bin/env bash
# `make package-check`: the release tarball as a user gets it.
#
#  1. ansible-galaxy collection build, from the copy `make collection` made;
#  2. the tarball holds no junk (test output, caches, VCS, build state, dev
#     tools) and only files this repository has, plus the ones a collection
#     must have;
#  3. ansible-galaxy collection install into a fresh path, and verify;
#  4. ansible-doc renders a module and the role from the installed copy, and
#     ansible-builder introspect finds the execution environment dependencies
#     (meta/execution-environment.yml);
#  5. the demo runs from the installed copy: fleet.py imports the collection's
#     code from it, and the playbook is `wso2si.keystores.rollout`;
#  6. the installed files still verify (the demo wrote nothing into them).
#
# Environment (set by the Makefile): COLL, BUILD, VENV_BIN, TOOLS_BIN.
set -euo pipefail

: "${COLL:?}" "${BUILD:?}" "${VENV_BIN:?}" "${TOOLS_BIN:?}"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$BUILD/package
installed_root=$work/installed
installed=$installed_root/ansible_collections/wso2si/keystores
demo_dir=$work/demo
export PATH="$VENV_BIN:$PATH"
started=$SECONDS

stop_demo() {
  local home
  for home in "$demo_dir"/si*; do
    [ -f "$home/standin.pid" ] || continue
    "$VENV_BIN/python" "$installed/demo/fleet.py" stop "$home" || true
  done
}
trap stop_demo EXIT

# a previous run's stand-ins, before their fleet is removed
[ -d "$installed" ] && stop_demo
rm -rf "$work"
mkdir -p "$work/dist"

echo "== package: build"
(cd "$COLL" && ansible-galaxy collection build --force --output-path "$work/dist")
tarball=$(echo "$work"/dist/wso2si-keystores-*.tar.gz)
[ -f "$tarball" ] || { echo "package: no tarball in $work/dist" >&2; exit 1; }

echo "== package: contents of $(basename "$tarball")"
git -C "$repo" ls-files --cached --others --exclude-standard >"$work/repo-files.txt"
python - "$tarball" "$work/repo-files.txt" <<'EOF'
import re
import sys
import tarfile

tarball, listing = sys.argv[1], sys.argv[2]
with open(listing) as f:
    repo_files = set(f.read().split('\n'))
junk = re.compile(r'(^|/)(\.git|\.venv|\.build|\.ansible|\.pytest_cache|\.hypothesis|__pycache__|output|'
                  r'bench/output|bench/results|\.ci)(/|$)|\.pyc$|\.log$|~$|\.tar\.gz$|\.orig$|\.rej$|'
                  r'integration_config\.yml$|\.plugin-cache\.yaml$|^Makefile$|^requirements-(dev|tools)\.txt$|'
                  r'^\.ansible-lint$|^\.gitignore$')
required = ['MANIFEST.json', 'FILES.json', 'README.md', 'LICENSE', 'CHANGELOG.rst', 'CHANGELOG.md',
            'changelogs/changelog.yaml', 'meta/runtime.yml', 'meta/execution-environment.yml',
            'requirements.txt', 'bindep.txt', 'playbooks/rollout.yml', 'playbooks/rollback.yml',
            'roles/rollout/meta/argument_specs.yml', 'demo/run.sh', 'demo/fleet.py']
problems = []
with tarfile.open(tarball) as tar:
    members = tar.getmembers()
names = [m.name[2:] if m.name.startswith('./') else m.name for m in members]
for member, name in zip(members, names):
    if junk.search(name):
        problems.append('junk in the tarball: %s' % name)
    elif member.isfile() and name not in ('MANIFEST.json', 'FILES.json') and name not in repo_files:
        problems.append('not a file of the repository: %s' % name)
    if member.issym() or member.islnk():
        problems.append('link in the tarball: %s' % name)
for name in required:
    if name not in names:
        problems.append('missing from the tarball: %s' % name)
files = [m for m in members if m.isfile()]
print('package: %d files, %d bytes unpacked' % (len(files), sum(m.size for m in files)))
for problem in problems:
    print('package: %s' % problem)
sys.exit(1 if problems else 0)
EOF

echo "== package: install into a fresh path"
# only the fresh path: the copy `make collection` made must not count as installed
export ANSIBLE_COLLECTIONS_PATH=$installed_root
ansible-galaxy collection install --offline -p "$installed_root" "$tarball"
ansible-galaxy collection list wso2si.keystores -p "$installed_root" | grep -F "$installed_root"
ansible-galaxy collection verify --offline -p "$installed_root" wso2si.keystores

echo "== package: ansible-doc from the installed copy"
ansible-doc wso2si.keystores.si_keystore | head -n 3
ansible-doc -t role wso2si.keystores.rollout | head -n 3

echo "== package: execution environment dependencies (ansible-builder introspect)"
# (it leaves out PyYAML, which ansible-core itself brings into every EE)
"$TOOLS_BIN/ansible-builder" introspect "$installed_root" | tee "$work/introspect.txt"
for want in 'cryptography>=' 'pyjks>=' 'gcc \[compile'; do
  grep -Eq "$want" "$work/introspect.txt" || { echo "package: ansible-builder does not see $want" >&2; exit 1; }
done

echo "== package: the demo from the installed copy"
# REPO_ROOT unset: run.sh takes the installed collection as its root
env -u REPO_ROOT DEMO_DIR="$demo_dir" DEMO_PORT_BASE="${PACKAGE_DEMO_PORT_BASE:-2500}" \
  DEMO_PLAYBOOK=wso2si.keystores.rollout bash "$installed/demo/run.sh" | tee "$work/demo.log"
grep -qF "fleet: collection code from $installed" "$work/demo.log" || {
  echo "package: the demo did not use the installed copy's code" >&2
  exit 1
}

echo "== package: the installed copy is unchanged"
ansible-galaxy collection verify --offline -p "$installed_root" wso2si.keystores

echo "package: ok after $((SECONDS - started)) s"
