#!/usr/bin/env bash
# The main job on the built-in local demo fleet: lay out N SI homes on this
# machine (DEMO_HOSTS, default 3), each serving HTTPS with its "shipped"
# default key, run the rollout (own CA) over them, show what each host serves
# now, and run the rollout again to show that nothing changes.
# Run through `make demo`, which builds the collection and its venv first.
# It needs Java (a JDK: the stand-ins for SI are Java TLS listeners).
#
# The stand-ins keep running afterwards, as SI servers would; `make demo-stop`
# (fleet.py stop-all DIR) stops them, and `make clean` does first. A new demo
# replaces the stand-ins of an earlier one (also when its directory was
# deleted) and lays out exactly DEMO_HOSTS homes.
#
# From an installed copy of the collection (`make package-check` does this):
#   ANSIBLE_COLLECTIONS_PATH=DIR DEMO_PLAYBOOK=wso2si.keystores.rollout \
#     bash DIR/ansible_collections/wso2si/keystores/demo/run.sh
# fleet.py then imports the collection's code from DIR, and the playbook is
# the installed collection's.
#   DEMO_DIR        where the fleet is laid out (default REPO/.build/demo)
#   DEMO_HOSTS      number of SI homes (default 3)
#   DEMO_PORT_BASE  port offset base (host i gets BASE + 10 * i); default the
#                   first base from 1000, in steps of 100, whose ports are free
#   DEMO_PLAYBOOK   playbook path or FQCN (default playbooks/rollout.yml)
#   DEMO_REPORT_PLAYBOOK  the report playbook (default: DEMO_PLAYBOOK with its last
#                   "rollout" made "report": playbooks/report.yml, wso2si.keystores.report)
set -euo pipefail

repo=${REPO_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
fleet=${DEMO_DIR:-$repo/.build/demo}
hosts=${DEMO_HOSTS:-3}
port_base=${DEMO_PORT_BASE:-}
playbook=${DEMO_PLAYBOOK:-playbooks/rollout.yml}
python=$(command -v python)
cd "$repo"

if ! command -v java >/dev/null 2>&1; then
  echo "demo: the demo needs Java: its stand-ins for SI are Java TLS listeners, and \`java\` is not on PATH; install a JDK 11 or newer (e.g. \`apt-get install openjdk-17-jdk-headless\`) and run it again." >&2
  exit 2
fi

echo "== laying out $hosts SI homes under $fleet"
"$python" demo/fleet.py setup "$fleet" --hosts "$hosts" --python "$python" ${port_base:+--port-base "$port_base"}

echo "== before: every host serves the shipped default certificate (TLS: a Java client with the truststore the host is configured with)"
"$python" demo/fleet.py report "$fleet" || true

echo "== rollout (own CA in $fleet/ca, created by this first run): ansible-playbook $playbook"
ansible-playbook -i "$fleet/inventory.yml" -e "@$fleet/vars.yml" -e rollout_serial=2 -e rollout_ca_create=true "$playbook"

echo "== after"
"$python" demo/fleet.py report "$fleet"

echo "== second run"
log=$(mktemp)
ansible-playbook -i "$fleet/inventory.yml" -e "@$fleet/vars.yml" -e rollout_serial=2 "$playbook" | tee "$log" | tail -n "$((hosts + 2))"
if grep -E '^si[0-9]+ +:' "$log" | grep -qv 'changed=0 '; then
  echo "second run changed something" >&2
  exit 1
fi
echo "second run: nothing changed on any host"
rm -f "$log"

report_playbook=${DEMO_REPORT_PLAYBOOK:-${playbook%rollout*}report${playbook##*rollout}}
echo "== fleet report: ansible-playbook $report_playbook"
ansible-playbook -i "$fleet/inventory.yml" -e "@$fleet/vars.yml" -e "report_dir=$fleet/report" "$report_playbook" \
  | tail -n "$((hosts + 9))"
echo "fleet report: $fleet/report/report.html (also report.json and report.md there)"

collections_path=${ANSIBLE_COLLECTIONS_PATH:-$repo/.build}
bin=$(dirname "$python")
if [ -f "$bin/activate" ]; then
  activate=". $bin/activate     # or: export PATH=$bin:\$PATH"
else
  activate="export PATH=$bin:\$PATH"
fi
shown_playbook=$playbook
[ -f "$repo/$playbook" ] && shown_playbook=$repo/$playbook
cat <<EOF

== the fleet keeps running: $hosts SI homes under $fleet, each with its Java stand-ins
   stop them:   make demo-stop   (or: $python $repo/demo/fleet.py stop-all $fleet; make clean stops them too)

== the collection from your own shell (make set these for the demo only):
   $activate
   export ANSIBLE_COLLECTIONS_PATH=$collections_path
   ansible-doc wso2si.keystores.si_keystore
   ansible-playbook -i $fleet/inventory.yml -e @$fleet/vars.yml $shown_playbook
EOF
