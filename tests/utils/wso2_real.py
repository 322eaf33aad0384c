# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Build the WSO2 code SI runs at start-up, from ../shared/wso2-src, for tests.

The sources are never copied into the project: this compiles them with javac
(``--release 11``) at test time into ``.build/wso2-real/<target>-<hash>/``, where
the hash covers every source file, the project's Java drivers, the jars and
javac's version, so a CI run compiles once and later runs reuse the result.

Targets:
  snakeyaml  SnakeYAML 2.2 + tests/java/SnakeYamlTags.java (no jars needed)
  startup    SnakeYAML, carbon-utils, carbon-secvault, carbon-config, the
             ssl.configs bean SSLConfiguration, and tests/java/SiStartup.java;
             needs Debian's libslf4j-java, libosgi-core-java,
             libosgi-compendium-java and libmustache-java under /usr/share/java.

Usage: wso2_real.py classpath TARGET [--shared DIR] [--cache DIR]
prints the classpath to run the target's driver with.  Exit status 3 with a
sentence on stderr when ../shared/wso2-src is absent (callers skip), 2 when a
build prerequisite is missing, 1 when javac fails.
"""

from __future__ import absolute_import, division, print_function

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
JAVA_DIR = os.path.join(REPO, 'tests', 'java')
JARS = '/usr/share/java'
DEBIAN_PACKAGES = 'libslf4j-java libosgi-core-java libosgi-compendium-java libmustache-java'
JAVAC = ['javac', '--release', '11', '-nowarn', '-encoding', 'UTF-8']

SNAKEYAML = ('snakeyaml', 'snakeyaml-2.2/src/main/java', [], [])
UTILS = ('carbon-utils', 'carbon-utils-2.1.1/components/org.wso2.carbon.utils/src/main/java', ['slf4j-api.jar'], [])
SECVAULT = ('carbon-secvault', 'carbon-secvault-5.0.20/components/org.wso2.carbon.secvault/src/main/java',
            ['slf4j-api.jar', 'osgi.core.jar', 'osgi.cmpn.jar'], ['snakeyaml', 'carbon-utils'])
CONFIG = ('carbon-config', 'carbon-config-2.1.17/components/org.wso2.carbon.config/src/main/java',
          ['slf4j-api.jar', 'osgi.core.jar', 'osgi.cmpn.jar', 'mustache-compiler.jar'],
          ['snakeyaml', 'carbon-utils', 'carbon-secvault'])
SSLBEAN = ('ssl-bean', 'extra/SSLConfiguration.java', [], ['carbon-config'])

TARGETS = {
    'snakeyaml': ([SNAKEYAML], 'SnakeYamlTags.java', []),
    'startup': ([SNAKEYAML, UTILS, SECVAULT, CONFIG, SSLBEAN], 'SiStartup.java',
                # what the driver needs at run time besides the built classes
                ['slf4j-api.jar', 'slf4j-nop.jar', 'osgi.core.jar', 'osgi.cmpn.jar', 'mustache-compiler.jar']),
}


class Missing(Exception):
    pass


def find_shared(explicit=None):
    """../shared beside the repository (or beside the tree .build copies it to)."""
    candidates = [explicit, os.environ.get('WSO2SI_SHARED_DIR'),
                  os.path.join(REPO, '..', 'shared'),
                  os.path.join(REPO, '..', '..', '..', '..', '..', 'shared')]
    for c in candidates:
        if c and os.path.isdir(os.path.join(c, 'wso2-src')):
            return os.path.abspath(c)
    return None


def default_cache():
    """.build/wso2-real of the working tree, also when running from its .build copy."""
    parts = REPO.split(os.sep)
    if '.build' in parts:
        return os.sep.join(parts[:parts.index('.build') + 1] + ['wso2-real'])
    return os.path.join(REPO, '.build', 'wso2-real')


def java_files(path):
    if path.endswith('.java'):
        return [path]
    found = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith('.java'))
    return found


def content_hash(src, stages, driver, jars):
    h = hashlib.sha256()
    version = subprocess.run(['javac', '-version'], capture_output=True, text=True, check=False)
    h.update((version.stdout + version.stderr).encode())
    for _name, path, stage_jars, _deps in stages:
        for f in java_files(os.path.join(src, path)):
            h.update(os.path.relpath(f, src).encode() + b'\0')
            with open(f, 'rb') as fh:
                h.update(hashlib.sha256(fh.read()).digest())
        jars = jars + stage_jars
    with open(os.path.join(JAVA_DIR, driver), 'rb') as fh:
        h.update(driver.encode() + b'\0' + hashlib.sha256(fh.read()).digest())
    for jar in sorted(set(jars)):
        st = os.stat(os.path.join(JARS, jar))
        h.update(('%s %d %d' % (os.path.realpath(os.path.join(JARS, jar)), st.st_size, int(st.st_mtime))).encode())
    return h.hexdigest()[:16]


def classpath(target, shared, cache):
    stages, driver, run_jars = TARGETS[target]
    if shutil.which('javac') is None:
        raise Missing('javac is not installed (a JDK 11 or later is needed)')
    need = sorted(set(run_jars + [j for s in stages for j in s[2]]))
    absent = [j for j in need if not os.path.exists(os.path.join(JARS, j))]
    if absent:
        raise Missing('%s missing under %s: install the Debian packages %s'
                      % (', '.join(absent), JARS, DEBIAN_PACKAGES))
    src = os.path.join(shared, 'wso2-src')
    out = os.path.join(cache, '%s-%s' % (target, content_hash(src, stages, driver, need)))
    dirs = [os.path.join(out, s[0]) for s in stages] + [os.path.join(out, 'driver')]
    cp = os.pathsep.join(dirs + [os.path.join(JARS, j) for j in run_jars])
    if os.path.exists(os.path.join(out, '.complete')):
        return cp
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(out, '.complete')):
            return cp
        work = tempfile.mkdtemp(prefix='.%s-' % target, dir=cache)
        try:
            built = {}
            for name, path, stage_jars, deps in stages:
                dest = os.path.join(work, name)
                os.makedirs(dest)
                stage_cp = [built[d] for d in deps] + [os.path.join(JARS, j) for j in stage_jars]
                cmd = JAVAC + ['-proc:none', '-d', dest]
                if stage_cp:
                    cmd += ['-cp', os.pathsep.join(stage_cp)]
                run_javac(cmd + java_files(os.path.join(src, path)), name)
                built[name] = dest  # later stages compile against it
            dest = os.path.join(work, 'driver')
            os.makedirs(dest)
            driver_cp = [built[s[0]] for s in stages] + [os.path.join(JARS, j) for j in run_jars]
            run_javac(JAVAC + ['-d', dest, '-cp', os.pathsep.join(driver_cp),
                               os.path.join(JAVA_DIR, driver)], driver)
            open(os.path.join(work, '.complete'), 'w').close()
            if os.path.exists(out):
                shutil.rmtree(out)
            os.rename(work, out)
        finally:
            if os.path.exists(work):
                shutil.rmtree(work)
    return cp


def run_javac(cmd, what):
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        sys.stderr.write('javac failed for %s:\n%s%s' % (what, res.stdout, res.stderr))
        raise SystemExit(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('action', choices=['classpath'])
    parser.add_argument('target', choices=sorted(TARGETS))
    parser.add_argument('--shared')
    parser.add_argument('--cache')
    args = parser.parse_args(argv)
    shared = find_shared(args.shared)
    if shared is None:
        sys.stderr.write('../shared/wso2-src is absent: WSO2\'s sources are needed to build SI\'s start-up code\n')
        return 3
    try:
        print(classpath(args.target, shared, os.path.abspath(args.cache or default_cache())))
    except Missing as e:
        sys.stderr.write('%s\n' % e)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
