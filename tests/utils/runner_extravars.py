#!/usr/bin/env python
# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Write an ansible-runner env/extravars file (mode 0600) for a demo fleet, with
the fleet's CA given as content, as a controller credential injects it.

    runner_extravars.py FLEET_DIR OUT
"""

from __future__ import annotations

import os
import sys

import yaml


def main():
    fleet, out = sys.argv[1], sys.argv[2]
    with open(os.path.join(fleet, 'vars.yml')) as f:
        extra = yaml.safe_load(f)
    ca_dir = extra.pop('rollout_ca_dir')
    for var, name in (('rollout_ca_certificate', 'ca.pem'), ('rollout_ca_private_key', 'ca.key')):
        with open(os.path.join(ca_dir, name)) as f:
            extra[var] = f.read()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        yaml.safe_dump(extra, f)


if __name__ == '__main__':
    main()
