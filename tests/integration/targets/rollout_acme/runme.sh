#!/usr/bin/env bash
# rollout_ca_mode acme against a real ACME server (Pebble, real http-01
# validation) on loopback: files/acme_scenarios.py says what it proves.
set -eu
config=../../integration_config.yml
[ -f "${config}" ] || config=
exec python files/acme_scenarios.py --work "${OUTPUT_DIR}/rollout_acme" ${config:+--config "${config}"} "$@"
