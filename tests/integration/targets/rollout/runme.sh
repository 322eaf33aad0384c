#!/usr/bin/env bash
# A script target, because a role target named `rollout` would run the
# collection's own role wso2si.keystores.rollout instead of this directory
# (collection roles win over the roles path). runme.yml runs this directory
# as a role, with its meta dependencies, as ansible-test runs role targets.
#
# The scenarios work on separate fleets, so they run as two ansible-playbook
# processes side by side (own CA | external CA, then the failure cases),
# each with a directory of its own; their output follows, one after the other.
set -eu
config=()
if [ -f ../../integration_config.yml ]; then
  config=(-e @../../integration_config.yml)
fi
export ANSIBLE_ROLES_PATH=..

run() {
  local name=$1 scenarios=$2
  shift 2
  mkdir -p "${OUTPUT_DIR}/${name}"
  ansible-playbook runme.yml -i "${INVENTORY_PATH}" -e "output_dir=${OUTPUT_DIR}/${name}" \
    -e "rollout_test_scenarios=${scenarios}" "${config[@]}" "$@" > "${OUTPUT_DIR}/${name}.log" 2>&1
}

start=$(date +%s)
run ownca ownca "$@" &
first=$!
run others external,failures,controller "$@" &
second=$!
status=0
wait "${first}" || status=1
wait "${second}" || status=1
for name in ownca others; do
  echo "================ ${name}"
  cat "${OUTPUT_DIR}/${name}.log"
done
echo "rollout target: $(( $(date +%s) - start )) s"
exit "${status}"
