#!/usr/bin/env bash
# A script target, because a role target named `rollout` would run the
# collection's own role wso2si.keystores.rollout instead of this directory
# (collection roles win over the roles path). runme.yml runs this directory
# as a role, with its meta dependencies, as ansible-test runs role targets.
set -eux
config=()
if [ -f ../../integration_config.yml ]; then
  config=(-e @../../integration_config.yml)
fi
ANSIBLE_ROLES_PATH=.. ansible-playbook runme.yml -i "${INVENTORY_PATH}" -e "output_dir=${OUTPUT_DIR}" "${config[@]}" "$@"
