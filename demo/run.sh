#!/usr/bin/env bash
# The main job on the built-in local demo fleet: lay out N SI homes on this
# machine (DEMO_HOSTS, default 3), each serving HTTPS with its "shipped"
# default key, run the rollout (own CA) over them, show what each host serves
# now, and run the rollout again to show that nothing changes.
# Run through `make demo`, which builds the collection and its venv first.
set -euo pipefail

repo=${REPO_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
fleet=${DEMO_DIR:-$repo/.build/demo}
hosts=${DEMO_HOSTS:-3}
python=$(command -v python)
cd "$repo"

echo "== laying out $hosts SI homes under $fleet"
"$python" demo/fleet.py setup "$fleet" --hosts "$hosts" --python "$python"

echo "== before: every host serves the shipped default certificate"
"$python" demo/fleet.py report "$fleet" || true

echo "== rollout (own CA in $fleet/ca)"
ansible-playbook -i "$fleet/inventory.yml" -e "@$fleet/vars.yml" -e rollout_serial=2 playbooks/rollout.yml

echo "== after"
"$python" demo/fleet.py report "$fleet"

echo "== second run"
log=$(mktemp)
ansible-playbook -i "$fleet/inventory.yml" -e "@$fleet/vars.yml" -e rollout_serial=2 playbooks/rollout.yml | tee "$log" | tail -n "$((hosts + 2))"
if grep -E '^si[0-9]+ +:' "$log" | grep -qv 'changed=0 '; then
  echo "second run changed something" >&2
  exit 1
fi
echo "second run: nothing changed on any host"
rm -f "$log"
