# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Shell words as POSIX sh reads them, as far as SI's launcher (carbon.sh) needs:
``words(text)`` splits a script into words whose pieces keep their source spans,
``value(pieces)`` is what the program receives, ``symbols(pieces)`` compares two
spellings of one value, ``escape(text)`` quotes text for a double-quoted word.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError


def escape(text):
    return re.sub(r'([\\"$`])', r'\\\1', text)


# The shell's word boundaries and quoting, as far as carbon.sh needs them (POSIX sh):
# backslash-newline joins lines (outside single quotes), '...' is literal, "..." keeps
# $-expansions, backslash escapes; # at the start of a word starts a comment; here-documents
# are skipped. A word is a list of pieces (kind, text, start, end, context): kind 'lit' (one
# character the word holds) or 'exp' (an expansion, text as written); context 'bare', 'dq', 'sq'.
_BLANK = ' \t\n'
_OPERATOR = ';&|()<>'
CARBON_HOME_REFS = ('$CARBON_HOME', '${CARBON_HOME}')


class Word(object):
    def __init__(self, start):
        self.start = start
        self.end = start
        self.pieces = []
        self.unsure = False  # a construct only some shells read the same way ($'...', $"...")


def _skip_quoted(text, i, close):
    """Index after the ``close`` character that ends a $(...), ${...} or `...` started before i."""
    depth = 1
    opener = {')': '(', '}': '{'}.get(close)
    n = len(text)
    while i < n:
        c = text[i]
        if c == '\\':
            i += 2
            continue
        if close != '`' and c == "'":
            end = text.find("'", i + 1)
            i = n if end < 0 else end + 1
            continue
        if c == opener:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ConfigError('an expansion is not closed')


def _expansion(text, i):
    """(end, unsure) of the $-construct at ``i``, or None when the $ is a literal character."""
    nxt = text[i + 1:i + 2]
    if nxt == '{':
        return _skip_quoted(text, i + 2, '}'), False
    if nxt == '(':
        return _skip_quoted(text, i + 2, ')'), False
    m = re.compile(r'[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]').match(text, i + 1)
    if m:
        return m.end(), False
    if nxt in ("'", '"'):
        return None, True
    return None, False


def _heredoc_delimiters(text, i):
    """Delimiters of the here-documents the operator ``<<`` at ``i`` starts (one)."""
    m = re.compile(r'<<(-?)[ \t]*(\\?)(["\']?)([A-Za-z0-9_.-]+)\3').match(text, i)
    if not m:
        return None, i + 2
    return (m.group(4), bool(m.group(1))), m.end()


def words(text):
    """The words of ``text`` as the shell splits them (see above). Raises ConfigError for an
    unterminated quote or expansion."""
    out = []
    heredocs = []
    i = 0
    while i < len(text):
        after = _skip(text, i, heredocs)
        if after is not None:
            i = after
            continue
        word, i = _word(text, i)
        out.append(word)
    return out


def _skip(text, i, heredocs):
    """Between words: the index after what starts at ``i`` (a blank, a continuation, a comment, an
    operator, the here-documents a line break ends), or None when a word starts there.
    ``heredocs`` collects the here-documents announced on the current line."""
    c = text[i]
    if c == '\\' and text[i + 1:i + 2] == '\n':
        return i + 2
    if c == '\n' and heredocs:
        i = _skip_heredocs(text, i + 1, heredocs)
        del heredocs[:]
        return i
    if c in _BLANK:
        return i + 1
    if c == '#':
        nl = text.find('\n', i)
        return len(text) if nl < 0 else nl
    if text.startswith('<<', i):
        delimiter, i = _heredoc_delimiters(text, i)
        if delimiter:
            heredocs.append(delimiter)
        return i
    if c in _OPERATOR:
        return i + 1
    return None


def _word(text, i):
    """(word, index after it) for the word starting at ``i``."""
    word = Word(i)
    while i < len(text) and text[i] not in _BLANK and text[i] not in _OPERATOR:
        i = _piece(text, i, word)
    word.end = i
    return word, i


def _piece(text, i, word):
    """Add to ``word`` what starts at ``i``; the index after it."""
    c = text[i]
    if c == '\\':
        return _backslash(text, i, word)
    if c == "'":
        return _single_quoted(text, i, word)
    if c == '"':
        return _double_quoted(text, i + 1, word)
    if c in '$`':
        return _expansion_piece(text, i, word, 'bare')
    word.pieces.append(('lit', c, i, i + 1, 'bare'))
    return i + 1


def _backslash(text, i, word):
    if text[i + 1:i + 2] == '\n':  # a continuation: the word goes on
        return i + 2
    if i + 1 < len(text):
        word.pieces.append(('lit', text[i + 1], i, i + 2, 'bare'))
        return i + 2
    word.pieces.append(('lit', '\\', i, i + 1, 'bare'))
    return i + 1


def _single_quoted(text, i, word):
    end = text.find("'", i + 1)
    if end < 0:
        raise ConfigError('a single quote is not closed')
    for k in range(i + 1, end):
        word.pieces.append(('lit', text[k], k, k + 1, 'sq'))
    word.pieces.append(('quote', "'", end, end + 1, 'sq'))
    return end + 1


def _skip_heredocs(text, i, heredocs):
    for delimiter, strip_tabs in heredocs:
        while i < len(text):
            nl = text.find('\n', i)
            line = text[i:] if nl < 0 else text[i:nl]
            i = len(text) if nl < 0 else nl + 1
            if (line.lstrip('\t') if strip_tabs else line) == delimiter:
                break
    return i


def _expansion_piece(text, i, word, context):
    if text[i] == '`':
        end = _skip_quoted(text, i + 1, '`')
    else:
        end, unsure = _expansion(text, i)
        word.unsure = word.unsure or unsure
        if end is None:
            word.pieces.append(('lit', '$', i, i + 1, context))
            return i + 1
    word.pieces.append(('exp', text[i:end], i, end, context))
    return end


def _double_quoted(text, i, word):
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            word.pieces.append(('quote', '"', i, i + 1, 'dq'))
            return i + 1
        if c == '\\' and i + 1 < n and text[i + 1] == '\n':
            i += 2
        elif c == '\\' and i + 1 < n and text[i + 1] in '$`"\\':
            word.pieces.append(('lit', text[i + 1], i, i + 2, 'dq'))
            i += 2
        elif c in '$`':
            i = _expansion_piece(text, i, word, 'dq')
        else:
            word.pieces.append(('lit', c, i, i + 1, 'dq'))
            i += 1
    raise ConfigError('a double quote is not closed')


def value(pieces, si_home=None):
    """The text the pieces give the program: $CARBON_HOME replaced by si_home when given,
    any other expansion left as written."""
    out = []
    for kind, text, dummy, dummy2, dummy3 in pieces:
        if kind == 'lit':
            out.append(text)
        elif kind == 'exp':
            out.append(si_home.rstrip('/') if si_home is not None and text in CARBON_HOME_REFS else text)
    return ''.join(out)


def symbols(pieces):
    """What the pieces mean, independent of quoting: compares two spellings of a value."""
    return tuple((kind, '$CARBON_HOME' if text in CARBON_HOME_REFS else text)
                 for kind, text, dummy, dummy2, dummy3 in pieces if kind != 'quote')
