# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""SI's launcher (carbon.sh) and its four ``-Djavax.net.ssl.*`` options
(docs/si-reference.md section 1), read as the shell reads the file.

``LauncherLines`` finds the options wherever they are on their lines and however
they are continued; ``plan_launcher()`` changes their values only, every other
byte stays, and reads the result back to prove the JVM gets the wanted values.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError
from ansible_collections.wso2si.keystores.plugins.module_utils import shell_words
from ansible_collections.wso2si.keystores.plugins.module_utils.si_locations import (
    LAUNCHER_PROPS, PATH_ROLES, relative_to_home,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.yaml_text import apply_edits


class _LauncherOption(object):
    """One -Djavax.net.ssl.<prop>=VALUE word: the source span of VALUE (from after the '='
    to the end of the word, continuations and all) and the quoting context at the '='."""

    def __init__(self, prop, word, eq):
        self.prop = prop
        self.word = word
        self.pieces = word.pieces[eq + 1:]
        self.start = word.pieces[eq][3]
        self.end = word.end
        self.context = word.pieces[eq][4]

    def replacement(self, text):
        """Source text that makes the word's value the shell word ``text`` while keeping
        everything up to the '=' byte for byte: a quote open at the '=' is closed first."""
        return {'bare': '', 'dq': '"', 'sq': "'"}[self.context] + text


def launcher_text(role, settings, si_home):
    """The quoted shell word carbon.sh should hold for ``role``, or None when not set."""
    if role in PATH_ROLES:
        path = settings.get(role)
        if path is None:
            return None
        rel = relative_to_home(path, si_home)
        if rel is not None:
            return '"$CARBON_HOME/%s"' % shell_words.escape(rel)
        return '"%s"' % shell_words.escape(os.path.abspath(path))
    password = settings.get(role)
    if password is None:
        return None
    # carbon.sh cannot resolve ${sec:}: under secure vault no password is written here;
    # ssl.configs (with ${sec:}) sets javax.net.ssl.* at start instead.
    return '""' if password.alias else '"%s"' % shell_words.escape(password.value)


_LAUNCHER_OPTION = re.compile(r'-Djavax\.net\.ssl\.(%s)=' % '|'.join(p for p, dummy in LAUNCHER_PROPS))


class LauncherLines(object):
    """carbon.sh read as the shell reads it: its -Djavax.net.ssl.* words, wherever they
    are on their lines and however they are continued."""

    def __init__(self, text, what):
        self.text = text
        self.what = what
        self.lines = text.splitlines(True)
        self.found = {}
        try:
            self.words = shell_words.words(text)
        except ConfigError as exc:
            raise ConfigError('%s cannot be read as the shell reads it (%s); nothing was changed'
                              % (what, exc)) from exc
        for word in self.words:
            literal = []
            for kind, char, dummy, dummy2, dummy3 in word.pieces:
                if kind == 'exp':
                    break
                literal.append(char if kind == 'lit' else '')
            m = _LAUNCHER_OPTION.match(''.join(literal))
            if not m:
                continue
            if word.unsure:
                raise ConfigError('%s writes -Djavax.net.ssl.%s with $\'...\' or $"...", which shells read '
                                  'differently; edit it by hand first' % (what, m.group(1)))
            count = 0
            for eq, piece in enumerate(word.pieces):
                count += piece[0] == 'lit'
                if count == m.end():
                    break
            self.found.setdefault(m.group(1), []).append(_LauncherOption(m.group(1), word, eq))

    def get(self, prop):
        hits = self.found.get(prop, [])
        if len(hits) > 1:
            raise ConfigError('%s sets -Djavax.net.ssl.%s %d times; edit it by hand first' % (self.what, prop, len(hits)))
        return hits[0] if hits else None

    def values(self, si_home):
        """{prop: the value the JVM receives}, $CARBON_HOME read as si_home."""
        out = {}
        for prop, dummy in LAUNCHER_PROPS:
            hit = self.get(prop)
            if hit is not None:
                out[prop] = shell_words.value(hit.pieces, si_home)
        return out

    def others(self):
        """Every word but the values of the -Djavax.net.ssl.* options, as the shell reads them."""
        ours = set(id(h.word) for hits in self.found.values() for h in hits)
        return [shell_words.symbols(w.pieces) for w in self.words if id(w) not in ours]


def read_launcher(data, what):
    if isinstance(data, bytes):
        try:
            data = data.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise ConfigError('%s is not UTF-8 text' % what) from exc
    return LauncherLines(data, what)


def plan_launcher(data, settings, si_home, what='carbon.sh'):
    """(new_text, changed_props) for the launcher: only the values of its -Djavax.net.ssl.*
    options change (every other byte stays), and the result is read back as the shell
    reads it to prove the JVM gets exactly the wanted values."""
    launcher = read_launcher(data, what)
    wanted = [(prop, launcher_text(role, settings, si_home)) for prop, role in LAUNCHER_PROPS]
    wanted = [(prop, text) for prop, text in wanted if text is not None]
    missing = [prop for prop, dummy in wanted if launcher.get(prop) is None]
    if missing:
        raise ConfigError('%s has no line setting %s; this module edits the launcher\'s existing lines only '
                          '(set launcher to an empty string to skip it), and nothing was changed'
                          % (what, ', '.join('-Djavax.net.ssl.%s' % m for m in missing)))
    edits = []
    changed = []
    for prop, text in wanted:
        hit = launcher.get(prop)
        if shell_words.symbols(hit.pieces) != _symbols_of(text):
            edits.append((hit.start, hit.end, hit.replacement(text)))
            changed.append('javax.net.ssl.%s' % prop)
    new_text = apply_edits(launcher.text, edits)
    if edits:
        _check_rewritten(launcher, read_launcher(new_text, what), wanted, what)
    return new_text, changed


def _symbols_of(text):
    """What the shell word ``text`` means (shell_words.symbols)."""
    return shell_words.symbols(shell_words.words(text)[0].pieces)


def _check_rewritten(old, new, wanted, what):
    """The rewritten launcher gives the JVM exactly the wanted values, and every other word as before."""
    got = dict((prop, shell_words.symbols(new.get(prop).pieces)) for prop, dummy in wanted if new.get(prop))
    if got != dict((prop, _symbols_of(text)) for prop, text in wanted) \
            or new.others() != old.others():  # pragma: no cover - a bug guard
        raise ConfigError('%s: the shell would not read the changed launcher as intended; nothing was changed'
                          % what)
