# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Sum the JUnit reports that ansible-test wrote into one closing line.

    python3 tests/utils/junit_summary.py DIR

Unit reports (``*-units.xml``) count test cases; each integration report (one
per target, one test case per task) counts as one test, failed when any of its
tasks failed.  Sanity results are not in JUnit (ansible-test writes only
failures there) and show in make's exit status.  The last line reads
``summary: N passed, N failed, N skipped``.
"""

from __future__ import annotations

import glob
import os
import sys
import xml.etree.ElementTree as ET


def _counts(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == 'testsuite' else root.findall('testsuite')
    total = failed = skipped = 0
    for suite in suites:
        for case in suite.iter('testcase'):
            total += 1
            if case.find('failure') is not None or case.find('error') is not None:
                failed += 1
            elif case.find('skipped') is not None:
                skipped += 1
    return total, failed, skipped


def main(argv):
    if len(argv) != 1:
        sys.stderr.write('usage: junit_summary.py DIR\n')
        return 2
    files = sorted(glob.glob(os.path.join(argv[0], '*.xml')))
    passed = failed = skipped = 0
    targets = []
    for path in files:
        total, bad, skip = _counts(path)
        name = os.path.basename(path)
        if name.endswith('-units.xml'):
            print('units %s: %d passed, %d failed, %d skipped' % (name[:-4], total - bad - skip, bad, skip))
            passed += total - bad - skip
            failed += bad
            skipped += skip
        else:
            target = name.split('-')[0]
            targets.append(target)
            print('integration %s: %s (%d tasks, %d failed)' % (target, 'failed' if bad else 'passed', total, bad))
            if bad:
                failed += 1
            else:
                passed += 1
    if not files:
        print('summary: no JUnit reports in %s' % argv[0])
        return 1
    print('summary: %d passed, %d failed, %d skipped' % (passed, failed, skipped))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
