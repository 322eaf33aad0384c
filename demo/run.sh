#!/usr/bin/env bash
# The main job on the built-in local demo fleet: lay out N SI homes on this
# machine (DEMO_HOSTS, default 3), each serving HTTPS with its "shipped"
# default key, run the rollout (own CA) over them, show what each host serves
# now, and run the rollout again to show that nothing changes.
# Run through `make demo`, which builds the collection and its venv first.
#
# From an installed copy of the collection (`make package-check` does this):
#   ANSIBLE_COLLECTIONS_PATH=DIR DEMO_PLAYBOOK=wso2si.keystores.rollout \
#     bash DIR/ansible_collections/wso2si/keystores/demo/run.sh
# fleet.py then imports the collection's code from DIR, and the playbook is
# the installed collection's.
#   DEMO_DIR        where the fleet is laid out (default REPO/.build/demo)
#   DEMO_HOSTS      number of SI homes (default 3)
#   DEMO_PORT_BASE  port offset base (default 1000; host i gets BASE + 10 * i)
#   DEMO_PLAYBOOK   playbook path or FQCN (default playbooks/rollout.yml)
#   DEMO_REPORT_PLAYBOOK  the report playbook (default: DEMO_PLAYBOOK with its last
#                   "rollout" made "report": playbooks/report.yml, wso2si.keystores.report)
set -euo pipefail

repo=${REPO_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
fleet=${DEMO_DIR:-$repo/.build/demo}
hosts=${DEMO_HOSTS:-3}
port_base=${DEMO_PORT_BASE:-1000}
playbook=${DEMO_PLAYBOOK:-playbooks/rollout.yml}
python=$(command -v python)
cd "$repo"

echo "== laying out $hosts SI homes under $fleet"
"$python" demo/fleet.py setup "$fleet" --hosts "$hosts" --python "$python" --port-base "$port_base"

echo "== before: every host serves the shipped default certificate"
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
