#!/usr/bin/env bash
# `make package-check`: the release tarball as a user gets it.
#
#  1. ansible-galaxy collection build, from the copy `make collection` made;
#  2. the tarball holds no junk (test output, caches, VCS, build state, dev
#     tools, the rollout's CA material) and only files git tracks in this
#     repository (tests/utils/package_contents.py), plus the ones a
#     collection must have;
#  3. ansible-galaxy collection install into a fresh path, and verify;
#  4. ansible-doc renders a module and the role from the installed copy, and
#     ansible-builder introspect finds the execution environment dependencies
#     (meta/execution-environment.yml);
#  5. the demo runs from the installed copy: fleet.py imports the collection's
#     code from it, and the playbook is `wso2si.keystores.rollout`;
#  6. ansible-builder create makes a build context of ee/execution-environment.yml
#     with the tarball, and ansible-runner runs the rollout over the demo
#     fleet as a controller job does (the CA given as content): nothing changes;
#  7. the installed files still verify (the demo wrote nothing into them).
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
python "$repo/tests/utils/package_contents.py" "$tarball" "$repo"

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
# REPO_ROOT unset: run.sh takes the installed collection as its root.
# One host (PACKAGE_DEMO_HOSTS, default 1) proves what this check is about:
# the installed copy's code, playbooks and role run and a second run changes
# nothing; each further host only repeats the same tasks (the rollout over
# 3-host fleets is the rollout and rollout_secrets targets' and ssh-fleet's).
env -u REPO_ROOT DEMO_DIR="$demo_dir" DEMO_PORT_BASE="${PACKAGE_DEMO_PORT_BASE:-2500}" \
  DEMO_HOSTS="${PACKAGE_DEMO_HOSTS:-1}" \
  DEMO_PLAYBOOK=wso2si.keystores.rollout bash "$installed/demo/run.sh" | tee "$work/demo.log"
grep -qF "fleet: collection code from $installed" "$work/demo.log" || {
  echo "package: the demo did not use the installed copy's code" >&2
  exit 1
}

echo "== package: execution environment build context (ansible-builder create on ee/execution-environment.yml)"
mkdir -p "$work/ee"
cp "$repo/ee/execution-environment.yml" "$work/ee/"
cp "$tarball" "$work/ee/wso2si-keystores.tar.gz"
"$TOOLS_BIN/ansible-builder" create -f "$work/ee/execution-environment.yml" -c "$work/ee/context" \
  --output-filename Containerfile
for f in Containerfile _build/requirements.yml _build/collections/wso2si-keystores.tar.gz; do
  [ -f "$work/ee/context/$f" ] || { echo "package: ansible-builder made no $f" >&2; exit 1; }
done

echo "== package: the demo fleet's rollout as a controller job (ansible-runner, CA given as content)"
# A private data dir as a controller makes one: the project, the inventory,
# extra vars with the CA as a credential injects it (no rollout_ca_dir), the
# collection from the installed tarball. The fleet is unchanged since the
# demo: nothing may change.
pdd=$work/runner
mkdir -p "$pdd/project" "$pdd/inventory" "$pdd/env"
printf -- '---\n- name: The rollout\n  ansible.builtin.import_playbook: wso2si.keystores.rollout\n' >"$pdd/project/rollout.yml"
cp "$demo_dir/inventory.yml" "$pdd/inventory/hosts.yml"
python "$repo/tests/utils/runner_extravars.py" "$demo_dir" "$pdd/env/extravars"
printf 'ANSIBLE_COLLECTIONS_PATH: %s\nANSIBLE_NOCOLOR: "1"\n' "$installed_root" >"$pdd/env/envvars"
python -m ansible_runner run "$pdd" -p rollout.yml --ident demo >/dev/null || {
  tail -n 40 "$pdd/artifacts/demo/stdout" >&2
  echo "package: the ansible-runner job failed" >&2
  exit 1
}
tail -n 5 "$pdd/artifacts/demo/stdout"
if grep -E '^si[0-9]+ +:' "$pdd/artifacts/demo/stdout" | grep -qv 'changed=0 '; then
  echo "package: the controller job changed the unchanged demo fleet" >&2
  exit 1
fi

echo "== package: the installed copy is unchanged"
ansible-galaxy collection verify --offline -p "$installed_root" wso2si.keystores

echo "package: ok after $((SECONDS - started)) s"
