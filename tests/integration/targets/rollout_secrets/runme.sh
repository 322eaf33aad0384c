#!/usr/bin/env bash
# The secrets guarantee for the role and both playbooks: files/secrets_scan.py
# runs the rollout (own CA with a CA passphrase, self-signed with the secure
# vault, external CA; check mode; a host failing verification; a host whose
# keystore has another password) and the rollback at -vvv --diff, with a log
# file and a JSON event file, and the rollout once more through
# ansible-runner, then looks for every password, passphrase and private key
# (and their base64) in everything they wrote.
set -eu
config=../../integration_config.yml
[ -f "${config}" ] || config=
exec python files/secrets_scan.py --work "${OUTPUT_DIR}/rollout_secrets" ${config:+--config "${config}"} "$@"
