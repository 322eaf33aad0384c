#!/usr/bin/env python
# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Print a port base for a demo fleet (fleet.py setup --port-base) whose
listeners are all free now: host i of N listens on 9443 and 7443 plus
BASE + 10 * i. Tries START, START + STEP, ... so that concurrent runs of the
tests (and the demo, on base 1000) do not collide.

    free_port_base.py START [--hosts N] [--step S] [--tries T]
"""

from __future__ import annotations

import argparse
import socket
import sys


def free(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('start', type=int)
    parser.add_argument('--hosts', type=int, default=3)
    parser.add_argument('--step', type=int, default=300)
    parser.add_argument('--tries', type=int, default=60)
    args = parser.parse_args()
    for n in range(args.tries):
        base = args.start + n * args.step
        ports = [listener + base + 10 * i for i in range(1, args.hosts + 1) for listener in (9443, 7443)]
        if max(ports) < 32768 and all(free(p) for p in ports):
            print(base)
            return 0
    sys.stderr.write('no free port base from %d\n' % args.start)
    return 1


if __name__ == '__main__':
    sys.exit(main())
