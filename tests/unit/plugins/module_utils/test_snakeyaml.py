# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""SI reads deployment.yaml with SnakeYAML 2.2: the "survives SI's unquoted paste"
check must type plain scalars the way SnakeYAML does, not the way PyYAML does.

The differential test builds SnakeYAML from ../shared/wso2-src (tests/utils/wso2_real.py)
and compares, on a large deterministic list of generated values, the tag SnakeYAML's
Resolver gives each value and what SnakeYAML composes from ``k: <value>`` with
plugins/module_utils/snakeyaml.py and si_configuration.pasted_value_survives."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import itertools
import os
import random
import shutil
import subprocess
import sys

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils import yaml_text as yt
from ansible_collections.wso2si.keystores.plugins.module_utils import snakeyaml
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
BUILDER = os.path.join(REPO, 'tests', 'utils', 'wso2_real.py')

# What the issue reported (SI read them as floats) and a few more of the same kinds.
SNAKE_FLOATS = ['1e3', '12e5', '._5', '12345e6', '+.5', '-.5', '1_0e1', '1E+3', '.5e3', '1.e5', '0e0']
SAFE = ['Vault.pass-3', 'wso2carbon', 'a1e3', 'abc_def', 'x-12.5', 'e10', 'E5', '1e', 'e', '1ee3', '1e3x']


@pytest.mark.parametrize('value', SNAKE_FLOATS)
def test_snakeyaml_floats_do_not_survive_the_paste(value):
    assert snakeyaml.implicit_tag(value) == snakeyaml.FLOAT
    assert not yt.pasted_value_survives(value, None)
    with pytest.raises(InvalidInputError, match='would not survive'):
        sv.check_secret_value('wso2si.truststore.password', value)


@pytest.mark.parametrize('value', SNAKE_FLOATS)
def test_snakeyaml_floats_are_quoted_when_written_plain(value):
    assert yt.render_scalar(value, None, 'x') == "'%s'" % value


def test_a_plain_snakeyaml_float_in_the_file_is_not_taken_for_the_password():
    doc = yt.DeploymentConfig.parse('k: 12345e6\nq: \'12345e6\'\n')
    (k, kv), (q, qv) = doc.root.value
    assert not yt.is_string_scalar(kv)
    assert yt.is_string_scalar(qv)


@pytest.mark.parametrize('value', SAFE)
def test_strings_stay_strings(value):
    assert snakeyaml.implicit_tag(value) == snakeyaml.STR
    assert yt.pasted_value_survives(value, None)


@pytest.mark.parametrize('value,tag', [
    ('', snakeyaml.NULL), ('~', snakeyaml.NULL), ('null', snakeyaml.NULL), ('NULL', snakeyaml.NULL),
    ('nULL', snakeyaml.STR), ('yes', snakeyaml.BOOL), ('Off', snakeyaml.BOOL), ('y', snakeyaml.STR),
    ('0123', snakeyaml.INT), ('0x1F', snakeyaml.INT), ('0b101', snakeyaml.INT), ('1:30', snakeyaml.INT),
    ('1:30.5', snakeyaml.FLOAT), ('.inf', snakeyaml.FLOAT), ('-.Inf', snakeyaml.FLOAT), ('.NaN', snakeyaml.FLOAT),
    ('-.nan', snakeyaml.STR), ('<<', snakeyaml.MERGE), ('=', snakeyaml.STR), ('2001-12-14', snakeyaml.TIMESTAMP),
    ('2001-12-14t21:59:43.10-05:00', snakeyaml.TIMESTAMP), ('2001-1-1 1:00:00 Z', snakeyaml.TIMESTAMP),
    # the length limits of Resolver: bool/null up to 10 characters, timestamps up to 50
    ('1' * 1024, snakeyaml.INT), ('1' * 1025, snakeyaml.STR),
])
def test_resolver_examples(value, tag):
    assert snakeyaml.implicit_tag(value) == tag


# ---------------------------------------------------------------- differential, against SnakeYAML itself

def candidates():
    """A deterministic list of values: every string of up to 4 characters over the
    characters the number, boolean and null rules look at, word and timestamp
    variants, the examples above, and seeded random longer strings."""
    seen = set()
    out = []

    def add(v):
        if v not in seen:
            seen.add(v)
            out.append(v)

    short = '0158._-+eE:xbaon'
    for n in range(0, 5):
        for t in itertools.product(short, repeat=n):
            add(''.join(t))
    words = ['yes', 'no', 'true', 'false', 'on', 'off', 'null', 'inf', 'nan', 'y', 'n', 'nul', 'nulll', 'yess']
    for w in words:
        for mask in range(1 << len(w)):
            v = ''.join(c.upper() if mask >> i & 1 else c for i, c in enumerate(w))
            for pre in ('', '.', '+.', '-.', '~', '<'):
                add(pre + v)
    for extra in ('~', '<<', '<', '<<<', '=', '==', '!', '&', '*', '#x', 'a #b', 'a#b', 'a: b', 'a:b', '- a',
                  "'a'", '"a"', '[a]', '{a}', 'a,b', '%a', '@a', '`a', '|', '>', '?', '? a', 'a ', ' a'):
        add(extra)
    dates = ['2001', '2001-12', '2001-12-14', '2001-1-4', '2001-12-1', '20011-12-14', '201-12-14']
    times = ['', 'T', 't', ' ', '  ', '\t', 'x']
    clocks = ['', '1:00:00', '21:59:43', '21:59:43.', '21:59:43.10', '1:5:00', '123:00:00']
    zones = ['', 'Z', ' Z', '-5', '+05:00', '-05:0', ' +1', 'z']
    for d, t, c, z in itertools.product(dates, times, clocks, zones):
        add(d + t + c + z)
    for v in SNAKE_FLOATS + SAFE:
        add(v)
    rnd = random.Random(20261201)
    numeric = '0123456789._-+eE:xXbBoO'
    wide = numeric + 'aAfFiInNyYtTsSlLZz ~<=#\'"!&*[]{},%@`|>?\t\\/$'
    for dummy in range(20000):
        add(''.join(rnd.choice(numeric) for dummy in range(rnd.randint(5, 14))))
    for dummy in range(20000):
        add(''.join(rnd.choice(wide) for dummy in range(rnd.randint(1, 12))))
    return out


def snakeyaml_verdicts(tmp_path):
    if shutil.which('javac') is None:
        pytest.skip('javac absent: cannot build SnakeYAML for the differential test')
    built = subprocess.run([sys.executable, BUILDER, 'classpath', 'snakeyaml'], capture_output=True, text=True,
                           check=False)
    if built.returncode == 3:
        pytest.skip('../shared/wso2-src is absent: the differential test against SnakeYAML 2.2 did not run')
    assert built.returncode == 0, built.stderr
    values = candidates()
    path = tmp_path / 'candidates.txt'
    path.write_text(''.join(binascii.hexlify(v.encode('utf-8')).decode('ascii') + '\n' for v in values))
    res = subprocess.run(['java', '-cp', built.stdout.strip(), 'SnakeYamlTags', str(path)],
                         capture_output=True, text=True, encoding='utf-8', check=False)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.split('\n')[:-1]
    assert len(lines) == len(values)
    return list(zip(values, (line.split('\t') for line in lines)))


@pytest.fixture(scope='module')
def verdicts(tmp_path_factory):
    return snakeyaml_verdicts(tmp_path_factory.mktemp('snakeyaml'))


def test_candidate_list_is_large_and_varied():
    values = candidates()
    assert len(values) > 100000
    tags = set(snakeyaml.implicit_tag(v) for v in values)
    assert tags == set([snakeyaml.STR, snakeyaml.BOOL, snakeyaml.INT, snakeyaml.FLOAT, snakeyaml.MERGE,
                        snakeyaml.NULL, snakeyaml.TIMESTAMP, snakeyaml.YAML])


def test_resolver_matches_snakeyaml(verdicts):
    wrong = [(v, java[0], snakeyaml.implicit_tag(v)) for v, java in verdicts if snakeyaml.implicit_tag(v) != java[0]]
    assert not wrong[:20], '%d values typed differently from SnakeYAML, e.g. (value, SnakeYAML, ours) %r' % (
        len(wrong), wrong[:20])
    # the test saw every kind of tag SnakeYAML has, so it could have failed on each
    assert len(set(java[0] for _v, java in verdicts)) == 8


def test_paste_check_matches_snakeyaml(verdicts):
    """pasted_value_survives(v) is True exactly when SnakeYAML composes ``k: v`` into the string v."""
    wrong = []
    for v, java in verdicts:
        theirs = java[1] == 'scalar %s %s' % (snakeyaml.STR, binascii.hexlify(v.encode('utf-8')).decode('ascii'))
        if yt.pasted_value_survives(v, None) != theirs:
            wrong.append((v, java[1]))
    assert not wrong[:20], '%d values judged differently from SnakeYAML, e.g. %r' % (len(wrong), wrong[:20])
