#!/usr/bin/env bash
# A script target: runme.py does the work (see its docstring).
set -eu
exec python runme.py "$@"
