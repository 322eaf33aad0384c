#!/usr/bin/env bash
# Extract every module's EXAMPLES (ansible-doc), run them against sandboxed
# paths with what they expect set up first (examples.yml), one play per module.
set -eu
exec "${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" ./run_examples.py \
  --inventory "$INVENTORY_PATH" --work-dir "${OUTPUT_DIR}/module_examples" -- "$@"
