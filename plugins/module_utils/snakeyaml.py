# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What SnakeYAML 2.2, the YAML parser SI ships, makes of an unquoted scalar.

SI reads deployment.yaml with SnakeYAML, and pastes decrypted ``${sec:}`` values
into the YAML text unquoted before parsing (docs/si-reads.md). Which plain
scalars become numbers, booleans, nulls or dates is decided by SnakeYAML's
``resolver.Resolver``, whose rules differ from PyYAML's: ``1e3``, ``12e5``,
``12345e6``, ``._5`` and ``+.5`` are floats to SnakeYAML and strings to PyYAML.

``implicit_tag(value)`` reproduces ``Resolver.resolve(NodeId.scalar, value, true)``:
the same regular expressions, the same first-character tables, in the same order,
with the same length limits. The test suite checks it against SnakeYAML itself
(tests/java/SnakeYamlTags.java) on a large generated list of values.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

STR = 'tag:yaml.org,2002:str'
BOOL = 'tag:yaml.org,2002:bool'
INT = 'tag:yaml.org,2002:int'
FLOAT = 'tag:yaml.org,2002:float'
MERGE = 'tag:yaml.org,2002:merge'
NULL = 'tag:yaml.org,2002:null'
TIMESTAMP = 'tag:yaml.org,2002:timestamp'
YAML = 'tag:yaml.org,2002:yaml'

# Resolver.java's patterns, unchanged apart from Java's "^...$" becoming fullmatch().
# [0-9] and friends are ASCII ranges in both languages.
_BOOL = re.compile(r'(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)')
_FLOAT = re.compile(
    r'(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?'
    r'|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)'
    r'|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?'
    r'|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*'
    r'|[-+]?\.(?:inf|Inf|INF)'
    r'|\.(?:nan|NaN|NAN))')
_INT = re.compile(
    r'(?:[-+]?0b_*[0-1][0-1_]*'
    r'|[-+]?0_*[0-7][0-7_]*'
    r'|[-+]?(?:0|[1-9][0-9_]*)'
    r'|[-+]?0x_*[0-9a-fA-F][0-9a-fA-F_]*'
    r'|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)')
_MERGE = re.compile(r'(?:<<)')
_NULL = re.compile(r'(?:~|null|Null|NULL| )')
_EMPTY = re.compile(r'')
_TIMESTAMP = re.compile(
    r'(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'
    r'|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]'
    r'(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)')
_YAML = re.compile(r'(?:!|&|\*)')

# Resolver.addImplicitResolvers(), in its order: (tag, pattern, first characters, length limit).
# A first character of "\0" files the resolver under Java's null key, which resolve()
# consults for every value after the value's own first character.
_RESOLVERS = (
    (BOOL, _BOOL, 'yYnNtTfFoO', 10),
    (INT, _INT, '-+0123456789', 1024),
    (FLOAT, _FLOAT, '-+0123456789.', 1024),
    (MERGE, _MERGE, '<', 10),
    (NULL, _NULL, '~nN\0', 10),
    (NULL, _EMPTY, None, 10),
    (TIMESTAMP, _TIMESTAMP, '0123456789', 50),
    (YAML, _YAML, '!&*', 10),
)


def _tables():
    by_first, fallback = {}, []
    for tag, pattern, first, limit in _RESOLVERS:
        for char in (first if first is not None else [None]):
            if char == '\0':
                char = None
            (fallback if char is None else by_first.setdefault(char, [])).append((tag, pattern, limit))
    return by_first, fallback


_BY_FIRST, _FALLBACK = _tables()


def implicit_tag(value):
    """The tag SnakeYAML 2.2 gives the plain (unquoted, untagged) scalar ``value``."""
    # Resolver.resolve looks up '\0' for an empty value: no list is filed under it
    candidates = _BY_FIRST.get(value[0], []) if value else []
    for tag, pattern, limit in list(candidates) + _FALLBACK:
        if len(value) <= limit and pattern.fullmatch(value):
            return tag
    return STR


def plain_is_string(value):
    """True when SnakeYAML reads the plain scalar ``value`` as a string."""
    return implicit_tag(value) == STR
