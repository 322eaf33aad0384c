# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Run the parts of a check side by side and report each one's time.

    run_parts.py [--jobs N] [--name LABEL] [--logs DIR] NAME=COMMAND [NAME=COMMAND ...]

Each COMMAND runs with bash, without stdin, N at a time, started in the
order given (put the longest first). A part's output goes to DIR/NAME.log
(default .build/parts) and is printed whole, under a header, when the part
ends, so that parts never interleave. At the end, one line per part:

    LABEL: NAME: exit RC after WALL s (CPU C s)

CPU is the user + system time of the part's process tree (what it waited
for). The exit status is 0 when every part exited 0, else that of the first
part given that failed; every part runs whatever the others do.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--name', default='parts')
    parser.add_argument('--logs', default=os.path.join('.build', 'parts'))
    parser.add_argument('--summary', help='also write the closing lines to this file')
    parser.add_argument('parts', nargs='+', metavar='NAME=COMMAND')
    args = parser.parse_args()

    parts = []
    for item in args.parts:
        name, sep, command = item.partition('=')
        if not sep or not name or not command:
            parser.error('expected NAME=COMMAND, got %r' % item)
        parts.append((name, command))
    os.makedirs(args.logs, exist_ok=True)

    pending = list(parts)
    results = {}
    lock = threading.Lock()
    started = time.monotonic()

    def worker():
        while True:
            with lock:
                if not pending:
                    return
                name, command = pending.pop(0)
                print('%s: started %s after %.0f s' % (args.name, name, time.monotonic() - started), flush=True)
            log_path = os.path.join(args.logs, name + '.log')
            t0 = time.monotonic()
            with open(log_path, 'w') as log:
                proc = subprocess.Popen(['bash', '-c', command], stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT)
                dummy, status, usage = os.wait4(proc.pid, 0)
            rc = os.waitstatus_to_exitcode(status)
            proc.returncode = rc
            wall = time.monotonic() - t0
            cpu = usage.ru_utime + usage.ru_stime
            with lock:
                results[name] = (rc, wall, cpu)
                print('\n%s: ==== %s (%s): exit %d after %.0f s' % (args.name, name, command, rc, wall), flush=True)
                with open(log_path, errors='replace') as log:
                    for chunk in iter(lambda: log.read(1 << 16), ''):
                        sys.stdout.write(chunk)
                print('%s: ==== end of %s' % (args.name, name), flush=True)

    threads = [threading.Thread(target=worker) for dummy in range(max(1, min(args.jobs, len(parts))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    rc = 0
    lines = []
    for name, dummy in parts:
        part_rc, wall, cpu = results.get(name, (1, 0.0, 0.0))  # (1: its runner failed)
        lines.append('%s: %s: exit %d after %.0f s (CPU %.0f s)' % (args.name, name, part_rc, wall, cpu))
        if part_rc and not rc:
            rc = part_rc
    lines.append('%s: all parts after %.0f s, exit %d' % (args.name, time.monotonic() - started, rc))
    print('\n' + '\n'.join(lines), flush=True)
    if args.summary:
        with open(args.summary, 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return rc


if __name__ == '__main__':
    sys.exit(main())
