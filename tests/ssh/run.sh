#!/usr/bin/env bash
# `make ssh-fleet`: the rollout over real SSH to three hosts on this machine.
#
# A private sshd (its own sshd_config in a temporary directory) listens on
# 127.0.0.2, 127.0.0.3 and 127.0.0.4 (port SSH_FLEET_PORT, default 2222); the
# inventory addresses each host by its own address. Ansible logs in as an
# unprivileged operator (wso2ops, key only), and becomes with sudo the
# unprivileged SI user (wso2si), who owns each SI home and runs its stand-in
# HTTPS listeners, bound to the host's address. The rollout
# (wso2si.keystores.rollout, own CA) runs with pipelining off, which makes
# Ansible hand its temporary files to wso2si with setfacl, then again with
# pipelining on, which must change nothing. Then:
#   - every file of each SI home is owned by wso2si, private material is 0600;
#   - a Java TLS client connects to each address and verifies the served
#     certificate against the host's new truststore and its IP SAN (and a
#     wrong address is refused); the listener answers on its address only;
#   - sshd saw logins on all three addresses.
# sshd, the SSH control masters and the stand-ins are stopped at the end, and
# the users and the sudoers rule removed, whatever happened.
#
# Needs root (sshd, users, sudoers). Installs openssh-server, acl and sudo when
# missing (apt). Environment: ANSIBLE_COLLECTIONS_PATH (the built copy's root;
# `make ssh-fleet` sets it), SSH_FLEET_PORT, SSH_FLEET_PORT_BASE (stand-in
# port offsets, default 3300), SSH_FLEET_KEEP=1 keeps the temporary directory.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
port=${SSH_FLEET_PORT:-2222}
port_base=${SSH_FLEET_PORT_BASE:-3300}
addresses=(127.0.0.2 127.0.0.3 127.0.0.4)
hosts=(si1 si2 si3)
si_user=wso2si
ops_user=wso2ops
# the controller's Python (make puts .venv/bin first on PATH) and the hosts'
python=$(command -v python)
host_python_base=${SSH_FLEET_HOST_PYTHON:-/usr/bin/python3}
started=$SECONDS
phase_started=$SECONDS

phase() {
  echo "ssh-fleet: ($((SECONDS - phase_started)) s)"
  phase_started=$SECONDS
  echo "== ssh-fleet: $*"
}
fail() {
  echo "ssh-fleet: FAIL $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "needs root: it runs sshd, adds users and a sudoers rule"
# the collection: the copy `make collection` built (the Makefile exports its path)
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$repo/.build}

# ------------------------------------------------------------------ packages
need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v setfacl >/dev/null || need+=(acl)
command -v sudo >/dev/null || need+=(sudo)
if ((${#need[@]})); then
  echo "== ssh-fleet: installing ${need[*]}"
  # never let the package start the system's own sshd on port 22
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
fi

# ------------------------------------------------------------------ cleanup
tmp=$(mktemp -d /tmp/wso2si-ssh-fleet.XXXXXX)
chmod 0755 "$tmp"
made_users=()
sudoers=/etc/sudoers.d/wso2si-ssh-fleet

cleanup() {
  local rc=$? home pid
  set +e
  for home in "$tmp"/fleet/si*; do
    [ -f "$home/standin.pid" ] && "$python" "$repo/demo/fleet.py" stop "$home" >/dev/null
  done
  for sock in "$tmp"/cp/*; do
    [ -S "$sock" ] && ssh -o ControlPath="$sock" -O exit dummy >/dev/null 2>&1
  done
  if [ -f "$tmp/sshd/sshd.pid" ]; then
    pid=$(cat "$tmp/sshd/sshd.pid")
    # the listener and the per-connection processes it forked
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do kill "$child" 2>/dev/null; done
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$sudoers"
  for user in "${made_users[@]}"; do userdel "$user" 2>/dev/null; done
  if [ "${SSH_FLEET_KEEP:-}" = 1 ]; then
    echo "ssh-fleet: kept $tmp"
  else
    rm -rf "$tmp"
  fi
  echo "ssh-fleet: $([ "$rc" -eq 0 ] && echo ok || echo "FAILED ($rc)") after $((SECONDS - started)) s"
  exit "$rc"
}
trap cleanup EXIT

# ------------------------------------------------------------------ users
echo "== ssh-fleet: users $si_user (owns the SI homes) and $ops_user (logs in over SSH) in $tmp"
mkdir -p "$tmp/home"
for user in "$si_user" "$ops_user"; do
  if ! id "$user" >/dev/null 2>&1; then
    useradd --create-home --home-dir "$tmp/home/$user" --shell /bin/bash "$user"
    made_users+=("$user")
  else
    # left by a run that was killed (its home was in one of our temporary
    # directories): take it over, with a fresh home here
    case $(getent passwd "$user" | cut -d: -f6) in
      /tmp/wso2si-ssh-fleet.*) made_users+=("$user") ;;
    esac
    usermod --home "$tmp/home/$user" --shell /bin/bash "$user"
    install -d -m 0755 -o "$user" -g "$user" "$tmp/home/$user"
  fi
  # '*' instead of the locked '!': key logins work with UsePAM no
  usermod -p '*' "$user"
done
si_home_dir=$(getent passwd "$si_user" | cut -d: -f6)
ops_home_dir=$(getent passwd "$ops_user" | cut -d: -f6)
# the operator may become the SI user, and nobody else
printf '%s ALL=(%s) NOPASSWD: ALL\n' "$ops_user" "$si_user" >"$sudoers"
chmod 0440 "$sudoers"
visudo -cf "$sudoers" >/dev/null

# ------------------------------------------------------------------ the hosts' side
# The managed hosts' Python is the system's (the controller's venv may sit
# where other users cannot reach), with the modules' dependencies at the
# versions of requirements-dev.txt, installed as the role would without a
# compiler; the stand-in tools are copied where the SI user can read them.
phase "the hosts' Python ($host_python_base) and tools"
hostpy=$tmp/hostpy
"$host_python_base" -m venv "$hostpy"
pin() { grep -iE "^$1==" "$repo/requirements-dev.txt" || echo "$1"; }
"$hostpy/bin/python" -m pip install -q --disable-pip-version-check "$(pin cryptography)" "$(pin PyYAML)" 2>&1 |
  { grep -v 'is ignored: it is neither a file nor a directory' || true; }
"$hostpy/bin/python" -m pip install -q --disable-pip-version-check --no-deps "$(pin pyjks)" "$(pin javaobj-py3)" \
  "$(pin pyasn1)" "$(pin pyasn1_modules)" "$(pin pycryptodomex)" 2>&1 |
  { grep -v 'is ignored: it is neither a file nor a directory' || true; }
host_python=$hostpy/bin/python
tools=$tmp/tools
mkdir -p "$tools/tests/utils"
cp -r "$repo/demo" "$tools/"
cp -r "$repo/tests/java" "$repo/tests/fixtures" "$tools/tests/"
cp "$repo/tests/utils/tls_check.py" "$tools/tests/utils/"
chmod -R a+rX "$tools" "$hostpy"
runuser -u "$si_user" -- "$host_python" -c 'import cryptography, jks, yaml' ||
  fail "$si_user cannot import cryptography, pyjks and PyYAML with $host_python"

# ------------------------------------------------------------------ sshd
phase "sshd on ${addresses[*]} port $port"
mkdir -p "$tmp/sshd" "$tmp/client" "$tmp/cp" /run/sshd
chmod 0700 "$tmp/sshd" "$tmp/cp"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/sshd/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/client/id_ed25519"
install -d -m 0700 -o "$ops_user" -g "$ops_user" "$ops_home_dir/.ssh"
install -m 0600 -o "$ops_user" -g "$ops_user" "$tmp/client/id_ed25519.pub" "$ops_home_dir/.ssh/authorized_keys"
{
  echo "Port $port"
  for a in "${addresses[@]}"; do echo "ListenAddress $a"; done
  echo "HostKey $tmp/sshd/host_ed25519"
  echo "PidFile $tmp/sshd/sshd.pid"
  echo "AuthorizedKeysFile .ssh/authorized_keys"
  echo "PubkeyAuthentication yes"
  echo "PasswordAuthentication no"
  echo "KbdInteractiveAuthentication no"
  echo "PermitRootLogin no"
  echo "AllowUsers $ops_user"
  echo "UsePAM no"
  echo "StrictModes yes"
  echo "MaxStartups 50:30:100"
  echo "MaxSessions 50"
  echo "LogLevel VERBOSE"
  echo "Subsystem sftp internal-sftp"
} >"$tmp/sshd/sshd_config"
/usr/sbin/sshd -t -f "$tmp/sshd/sshd_config"
/usr/sbin/sshd -f "$tmp/sshd/sshd_config" -E "$tmp/sshd/sshd.log"
for _ in $(seq 50); do [ -s "$tmp/sshd/sshd.pid" ] && break; sleep 0.1; done
[ -s "$tmp/sshd/sshd.pid" ] || fail "sshd did not start: $(cat "$tmp/sshd/sshd.log")"

# ------------------------------------------------------------------ fleet
phase "three SI homes owned by $si_user, stand-ins bound to their addresses"
fleet=$tmp/fleet
"$python" "$repo/demo/fleet.py" setup "$fleet" --hosts 3 --python "$python" --port-base "$port_base" \
  --addresses "$(IFS=,; echo "${addresses[*]}")" --no-start
for h in "${hosts[@]}"; do
  chown -R "$si_user:$si_user" "$fleet/$h"
  runuser -u "$si_user" -- env HOME="$si_home_dir" "$host_python" "$tools/demo/fleet.py" start "$fleet/$h"
done

inventory=$tmp/inventory.yml
{
  echo "---"
  echo "wso2si:"
  echo "  hosts:"
  for i in 0 1 2; do
    echo "    ${hosts[$i]}:"
    echo "      ansible_host: ${addresses[$i]}"
    echo "      rollout_si_home: $fleet/${hosts[$i]}"
  done
  echo "  vars:"
  echo "    ansible_connection: ansible.builtin.ssh"
  echo "    ansible_port: $port"
  echo "    ansible_user: $ops_user"
  echo "    ansible_ssh_private_key_file: $tmp/client/id_ed25519"
  echo "    ansible_ssh_common_args: >-"
  echo "      -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
  echo "      -o ControlMaster=auto -o ControlPersist=60s -o ControlPath=$tmp/cp/%C"
  echo "    ansible_python_interpreter: $host_python"
  echo "    ansible_become: true"
  echo "    ansible_become_method: ansible.builtin.sudo"
  echo "    ansible_become_user: $si_user"
  echo "    rollout_subject_alt_names: [\"IP:{{ ansible_host }}\", \"DNS:{{ inventory_hostname }}\"]"
  echo "    rollout_restart_command: $host_python $tools/demo/fleet.py start {{ rollout_si_home }}"
} >"$inventory"

export ANSIBLE_HOST_KEY_CHECKING=false ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=false
playbook() {
  ansible-playbook -i "$inventory" -e "@$fleet/vars.yml" -e rollout_serial=3 "$@" wso2si.keystores.rollout
}

phase "who runs the modules: $ops_user over SSH, become $si_user"
ANSIBLE_PIPELINING=false ansible -i "$inventory" wso2si -m ansible.builtin.command -a 'id -un' | tee "$tmp/whoami.log"
[ "$(grep -c "^$si_user\$" "$tmp/whoami.log")" -eq 3 ] || fail "modules do not run as $si_user on every host"

touch "$tmp/marker"
phase "rollout, pipelining off (temporary files handed over with setfacl)"
ANSIBLE_PIPELINING=false playbook -e rollout_ca_create=true | tee "$tmp/run1.log"
grep -E '^si[0-9]+ +:' "$tmp/run1.log" | grep -q 'changed=[1-9]' || fail "the first run changed nothing"

phase "rollout again, pipelining on: nothing changes"
ANSIBLE_PIPELINING=true playbook | tee "$tmp/run2.log" | tail -n 5
if grep -E '^si[0-9]+ +:' "$tmp/run2.log" | grep -qv 'changed=0 '; then
  fail "the second run changed something"
fi

# ------------------------------------------------------------------ checks
phase "owners and modes"
for h in "${hosts[@]}"; do
  home=$fleet/$h
  others=$(find "$home" ! -user "$si_user" -printf '%u %p\n')
  [ -z "$others" ] || fail "files in $home not owned by $si_user: $others"
  [ -n "$(find "$home" -newer "$tmp/marker" -type f -print -quit)" ] || fail "the rollout wrote nothing in $home"
  for f in resources/security/si-keystore.jks resources/security/si-securevault.jks conf/server/master-keys.yaml; do
    mode=$(stat -c %a "$home/$f")
    [ "$mode" = 600 ] || fail "$home/$f has mode $mode, not 600"
  done
  # every copy of the private keys, backups included
  loose=$(find "$home/resources/security" -type f \( -name 'si-keystore.jks*' -o -name 'si-securevault.jks*' \) ! -perm 0600)
  [ -z "$loose" ] || fail "private material readable by others: $loose"
  echo "$h: every file owned by $si_user; keystore, vault keystore and master-keys.yaml 0600"
done

phase "Java TLS client against each address, verifying its IP SAN"
"$python" "$repo/demo/fleet.py" report "$fleet" | tee "$tmp/report.log"
[ "$(grep -c 'OK, serves this certificate' "$tmp/report.log")" -eq 3 ] || fail "not every host serves its new certificate"
ts_password=$("$python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["rollout_truststore_password"])' "$fleet/vars.yml")
si1_port=$((9443 + port_base + 10))
# the certificate of 127.0.0.2 does not name 127.0.0.3: a client that checks IP SANs refuses it
if TS_PASSWORD=$ts_password "$python" "$repo/tests/utils/tls_check.py" connect --host "${addresses[0]}" --port "$si1_port" \
  --truststore "$fleet/si1/resources/security/si-truststore.jks" --hostname "${addresses[1]}" >/dev/null 2>"$tmp/wrong-ip.log"; then
  fail "the Java client accepted si1's certificate for ${addresses[1]}"
fi
echo "si1 as ${addresses[1]}: refused ($(tail -n 1 "$tmp/wrong-ip.log" | cut -c1-100))"
# the addresses si1's stand-ins listen on on that port, read from /proc: another test's listener
# may hold 127.0.0.1:$si1_port meanwhile (CI runs parts side by side), which proves nothing of si1
bound=$("$python" - "$fleet/si1/standin.pid" "$si1_port" <<'PY'
import os, socket, struct, sys
pids = open(sys.argv[1]).read().split()
port = int(sys.argv[2])
inodes = set()
for pid in pids:
    fd_dir = '/proc/%s/fd' % pid
    for fd in os.listdir(fd_dir):
        target = os.readlink(os.path.join(fd_dir, fd))
        if target.startswith('socket:['):
            inodes.add(target[8:-1])
found = set()
for table, family in (('/proc/net/tcp', socket.AF_INET), ('/proc/net/tcp6', socket.AF_INET6)):
    with open(table) as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            addr, hexport = fields[1].split(':')
            if fields[3] != '0A' or int(hexport, 16) != port or fields[9] not in inodes:
                continue
            raw = bytes.fromhex(addr)
            raw = b''.join(struct.pack('<I', struct.unpack('>I', raw[i:i + 4])[0]) for i in range(0, len(raw), 4))
            # Java listens on an IPv6 socket: 127.0.0.2 shows as ::ffff:127.0.0.2
            found.add(socket.inet_ntop(family, raw).replace('::ffff:', ''))
print(' '.join(sorted(found)))
PY
)
[ "$bound" = "${addresses[0]}" ] || fail "si1's listener on port $si1_port is bound to '$bound', not only to ${addresses[0]}"
echo "si1's listener answers on ${addresses[0]} only"

phase "sshd saw logins on every address"
for a in "${addresses[@]}"; do
  grep -q "on $a port $port" "$tmp/sshd/sshd.log" || fail "no SSH connection to $a"
done
grep -c "Accepted publickey for $ops_user" "$tmp/sshd/sshd.log" | sed 's/^/publickey logins: /'
phase "done"
