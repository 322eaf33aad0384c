# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""SI's secure vault (carbon-secvault 5.0.20, docs/si-reference.md section 3) in pure Python.

- ``VaultKey``: the key entry under ``privateKeyAlias`` in the vault keystore.
  ``encrypt()`` is RSA PKCS#1 v1.5 with the certificate's public key, base64 encoded,
  exactly what Java's ``Cipher.getInstance("RSA")`` reads; ``decrypt()`` judges
  idempotence (the encryption is randomised, so ciphertexts are never compared).
- ``SecretsFile``: secrets.properties as lines, read the way java.util.Properties
  reads it; entries are changed in place, every other line and comment kept.
- ``check_secret_value()``: refuses values SI would lose or change.
- master-keys.yaml: ``read_master_keys()`` and ``master_keys_text()``.

What diffs show of these files is masking.py's.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import re

from ansible_collections.wso2si.keystores.plugins.module_utils.deps import padding, rsa
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    ConfigError, InvalidInputError, KeystoreError, WrongKeyPasswordError,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore
from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.yaml_text import pasted_value_survives, yaml

ALIAS_PATTERN = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
CIPHER_TEXT = 'cipherText'
PLAIN_TEXT = 'plainText'


def check_alias(alias):
    """A secret alias must be a plain properties key and fit in ${sec:ALIAS}."""
    alias = str(alias or '')
    if not ALIAS_PATTERN.match(alias):
        raise InvalidInputError('the secret alias %r is not usable: use letters, digits, ".", "_" and "-", '
                                'starting with a letter or digit' % alias)
    return alias


def max_secret_bytes(key_size):
    """RSA PKCS#1 v1.5 carries at most keysize/8 - 11 bytes (docs/si-reference.md section 3)."""
    return key_size // 8 - 11


def check_secret_value(alias, value, key_size=None):
    """Refuse, in one sentence that never repeats the value, a secret SI would lose
    or change: empty, holding a space, too long for the vault key, or one that does
    not read back as itself once SI pastes it unquoted into deployment.yaml."""
    if value is None or value == '':
        raise InvalidInputError('the secret %r is empty; SI would read an empty value' % alias)
    if ' ' in value:
        raise InvalidInputError('the secret %r contains a space; SI splits secrets.properties values on a space, '
                                'so the secret would be lost' % alias)
    if any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in value):
        raise InvalidInputError('the secret %r contains a line break, tab or control character, which SI would mangle'
                                % alias)
    if not is_ascii(value):
        raise InvalidInputError('the secret %r contains a non-ASCII character; SI decodes vault secrets byte by byte '
                                'and would read it back with a NUL appended per extra UTF-8 byte' % alias)
    if key_size is not None and len(value.encode('utf-8')) > max_secret_bytes(key_size):
        size = len(value.encode('utf-8'))
        raise InvalidInputError('the secret %r is %d bytes long; an RSA %d vault key encrypts at most %d bytes, and SI '
                                'silently reads a longer one as empty' % (alias, size, key_size, max_secret_bytes(key_size)))
    if '${' in value or not pasted_value_survives(value, None):
        raise InvalidInputError('the secret %r would not survive SI pasting it unquoted into deployment.yaml (YAML would '
                                'read it as a number, boolean, null, comment, placeholder or other structure); use '
                                'characters from [A-Za-z0-9._-], starting with a letter' % alias)


def is_ascii(text):
    return all(ord(c) < 128 for c in text)


def check_vault_password(password, what):
    """Refuse, in one sentence that never repeats it, a vault store or key password SI
    cannot read back from master-keys.yaml: SI turns its bytes into chars one by one
    (docs/secure-vault.md), so a non-ASCII password gains a NUL per
    extra UTF-8 byte and the vault does not open; a control character cannot be typed
    at SI's prompt or carried in the environment either."""
    if password is None or password == '':
        raise InvalidInputError('%s must not be empty' % what)
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise InvalidInputError('%s contains a NUL, line break or other control character, which SI cannot read '
                                'back from master-keys.yaml' % what)
    if not is_ascii(password):
        raise InvalidInputError('%s contains a non-ASCII character; SI reads master-keys.yaml byte by byte, gets a '
                                'NUL appended per extra UTF-8 byte and cannot open the vault: use ASCII' % what)


# ---------------------------------------------------------------- the vault key

class VaultKey(object):
    """The vault's key entry: its certificate's public key, and the private key
    when a password unlocked it."""

    def __init__(self, alias, certificate, private_key=None, what='the vault keystore'):
        self.alias = alias
        self.certificate = certificate
        self.public_key = certificate.public_key()
        self.private_key = private_key
        self.what = what
        self._numbers = None
        if not isinstance(self.public_key, rsa.RSAPublicKey):
            raise ConfigError('the key entry %r in %s is not an RSA key; SI\'s secure vault encrypts with RSA'
                              % (alias, what))
        self.key_size = self.public_key.key_size

    @classmethod
    def from_store(cls, store, alias, key_passwords, what, need_private=True):
        entry = store.get(alias)
        if entry is None or entry.kind != 'private_key':
            raise ConfigError('%s has no key entry under the alias %r' % (what, alias))
        private_key = None
        tried = [p for p in key_passwords if p is not None] or [store.password]
        try:
            entry.open(*tried)
            # only ever decrypts, to compare or to read a password: no RSA key validation (60 ms) needed
            private_key = entry.unchecked_private_key()
        except WrongKeyPasswordError as exc:
            if need_private:
                raise ConfigError('the vault key password does not decrypt the key entry %r in %s' % (alias, what)) \
                    from exc
        return cls(entry.alias, entry.certificate, private_key, what)

    def fingerprint(self):
        return certs.fingerprint(self.certificate)

    def encrypt(self, value):
        data = value.encode('utf-8')
        if len(data) > max_secret_bytes(self.key_size):
            raise InvalidInputError('a secret is too long for the RSA %d vault key' % self.key_size)
        return base64.b64encode(self.public_key.encrypt(data, padding.PKCS1v15())).decode('ascii')

    def decrypt(self, b64):
        """The plaintext of a cipherText value, or None when this key does not decrypt it
        (Java's RSA cipher reports a padding error there, and SI reads an empty string)."""
        if self.private_key is None:
            return None
        try:
            raw = base64.b64decode(''.join(b64.split()), validate=True)
        except (binascii.Error, ValueError):
            return None
        data = self._unpad(raw)
        if data is None:
            return None
        try:
            return data.decode('utf-8')
        except UnicodeDecodeError:
            return None

    def _unpad(self, raw):
        """RSA PKCS#1 v1.5 decryption with the padding checked as Java checks it.

        OpenSSL 3.2 and later answer a ciphertext made for another key with a random
        "implicit rejection" plaintext instead of an error, so cryptography's
        ``decrypt`` cannot tell whether this key made the ciphertext; some of those
        plaintexts are even valid UTF-8. The padding is therefore checked here:
        0x00 0x02, at least eight nonzero bytes, 0x00, the message.
        """
        size = (self.key_size + 7) // 8
        if len(raw) != size:
            return None
        if self._numbers is None:
            self._numbers = self.private_key.private_numbers()
        nums = self._numbers
        c = int.from_bytes(raw, 'big')
        if c >= nums.public_numbers.n:
            return None
        m1 = pow(c, nums.dmp1, nums.p)  # CRT: four times faster than pow(c, d, n)
        m2 = pow(c, nums.dmq1, nums.q)
        m = m2 + ((nums.iqmp * (m1 - m2)) % nums.p) * nums.q
        em = m.to_bytes(size, 'big')
        if em[0:2] != b'\x00\x02':
            return None
        separator = em.find(b'\x00', 2)
        if separator < 10:  # no separator, or fewer than eight padding bytes
            return None
        return em[separator + 1:]


def open_vault(path, password, alias, key_password=None, need_private=True, what=None):
    what = what or 'the vault keystore %s' % path
    data = read_file(path, what=what)
    if data is None:
        raise ConfigError('%s does not exist' % what)
    store = Keystore.loads(data, password, what=what)
    return VaultKey.from_store(store, alias, [key_password if key_password is not None else password], what,
                               need_private=need_private)


# ---------------------------------------------------------------- secrets.properties

def _unescape(text):
    """java.util.Properties escapes: \\t \\n \\r \\f \\uXXXX, and \\x for anything else."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == '\\' and i + 1 < len(text):
            n = text[i + 1]
            if n == 'u' and re.match(r'[0-9a-fA-F]{4}', text[i + 2:i + 6]):
                out.append(chr(int(text[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append({'t': '\t', 'n': '\n', 'r': '\r', 'f': '\f'}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return ''.join(out)


def _split_entry(logical):
    """(key, value) of a logical properties line, both unescaped, split the way
    java.util.Properties.load splits them."""
    text = logical.lstrip(' \t\f')
    limit = len(text)
    key_len, value_start, has_sep, backslash = 0, limit, False, False
    while key_len < limit:
        c = text[key_len]
        if c in '=:' and not backslash:
            value_start, has_sep = key_len + 1, True
            break
        if c in ' \t\f' and not backslash:
            value_start = key_len + 1
            break
        backslash = (not backslash) if c == '\\' else False
        key_len += 1
    while value_start < limit:
        c = text[value_start]
        if c not in ' \t\f':
            if not has_sep and c in '=:':
                has_sep = True
            else:
                break
        value_start += 1
    return _unescape(text[:key_len]), _unescape(text[value_start:])


class SecretsFile(object):
    """secrets.properties: a list of entries, each the physical lines of one logical
    line and, for key/value lines, the alias and value as Java reads them."""

    def __init__(self, text=''):
        self.entries = []  # dicts: lines (list of physical lines with endings), key, value
        physical = text.splitlines(True)
        i = 0
        while i < len(physical):
            lines = [physical[i]]
            stripped = physical[i].rstrip('\r\n').lstrip(' \t\f')
            if stripped and stripped[0] not in '#!':
                logical = physical[i].rstrip('\r\n')
                while _continues(logical) and i + 1 < len(physical):
                    i += 1
                    lines.append(physical[i])
                    logical = logical[:-1] + physical[i].rstrip('\r\n').lstrip(' \t\f')
                key, value = _split_entry(logical)
                self.entries.append({'lines': lines, 'key': key, 'value': value})
            else:
                self.entries.append({'lines': lines, 'key': None, 'value': None})
            i += 1
        self.newline = '\r\n' if text.endswith('\r\n') else '\n'

    def dumps(self):
        out = ''.join(''.join(e['lines']) for e in self.entries)
        return out

    def _indexes(self, alias):
        return [n for n, e in enumerate(self.entries) if e['key'] == alias]

    def aliases(self):
        return [e['key'] for e in self.entries if e['key'] is not None]

    def get(self, alias):
        """(kind, payload) of the entry Java would use (the last one), or None."""
        found = self._indexes(alias)
        if not found:
            return None
        value = self.entries[found[-1]]['value']
        parts = value.split(' ')
        if len(parts) != 2:
            return ('invalid', value)
        return (parts[0], parts[1])

    def duplicates(self):
        keys = self.aliases()
        return sorted(set(k for k in keys if keys.count(k) > 1))

    def set_cipher(self, alias, b64):
        """Write ``alias=cipherText B64`` in place of the alias's last entry (earlier
        duplicates are removed) or at the end."""
        line = '%s=%s %s' % (alias, CIPHER_TEXT, b64.replace('=', '\\='))
        found = self._indexes(alias)
        if found:
            last = self.entries[found[-1]]
            ending = last['lines'][-1][len(last['lines'][-1].rstrip('\r\n')):] or self.newline
            self.entries[found[-1]] = {'lines': [line + ending], 'key': alias,
                                       'value': '%s %s' % (CIPHER_TEXT, b64)}
            for n in reversed(found[:-1]):
                del self.entries[n]
            return
        if self.entries and not self.entries[-1]['lines'][-1].endswith(('\n', '\r')):
            self.entries[-1]['lines'][-1] += self.newline
        self.entries.append({'lines': [line + self.newline], 'key': alias, 'value': '%s %s' % (CIPHER_TEXT, b64)})

    def remove(self, alias):
        found = self._indexes(alias)
        for n in reversed(found):
            del self.entries[n]
        return bool(found)


def _continues(line):
    trailing = len(line) - len(line.rstrip('\\'))
    return trailing % 2 == 1


def plaintext_of(secrets, alias, vault):
    """The secret's plaintext: plainText entries as they are, cipherText entries
    decrypted with ``vault`` (None when it cannot)."""
    entry = secrets.get(alias)
    if entry is None:
        return None
    kind, payload = entry
    if kind == PLAIN_TEXT:
        return payload
    if kind == CIPHER_TEXT and vault is not None:
        return vault.decrypt(payload)
    return None


def ensure_secrets(secrets, vault, wanted):
    """Make every alias in ``wanted`` ({alias: value}) a cipherText entry that decrypts
    to its value. Values already right are never re-encrypted. Returns the aliases
    changed, in ``wanted``'s order."""
    changed = []
    for alias, value in wanted.items():
        check_alias(alias)
        check_secret_value(alias, value, vault.key_size)
        entry = secrets.get(alias)
        if entry is not None and entry[0] == CIPHER_TEXT and vault.decrypt(entry[1]) == value \
                and len(secrets._indexes(alias)) == 1:
            continue
        secrets.set_cipher(alias, vault.encrypt(value))
        changed.append(alias)
    return changed


def cipher_aliases(secrets):
    """The aliases whose entry (the last one, as Java reads it) is a cipherText entry."""
    out = []
    for alias in secrets.aliases():
        entry = secrets.get(alias)
        if alias not in out and entry is not None and entry[0] == CIPHER_TEXT:
            out.append(alias)
    return out


def foreign_entries(secrets, vault, skip=()):
    """The cipherText aliases ``vault`` does not decrypt: entries of another key, which
    SI would read as empty strings under this one (``skip``: aliases about to be written)."""
    return [a for a in cipher_aliases(secrets) if a not in skip and vault.decrypt(secrets.get(a)[1]) is None]


def reencrypt(secrets, new_vault, old_vault, skip=()):
    """Move every cipherText entry to ``new_vault``: entries the new key already decrypts
    are kept, entries ``old_vault`` (None: unknown) decrypts are encrypted again with the
    new key. Returns (re-encrypted aliases, aliases neither key decrypts); ``skip``:
    aliases the caller writes itself."""
    moved, lost = [], []
    for alias in cipher_aliases(secrets):
        if alias in skip:
            continue
        payload = secrets.get(alias)[1]
        if new_vault.decrypt(payload) is not None:
            continue
        plain = old_vault.decrypt(payload) if old_vault is not None else None
        if plain is None:
            lost.append(alias)
            continue
        if len(plain.encode('utf-8')) > max_secret_bytes(new_vault.key_size):
            raise InvalidInputError('the secret %r is too long for the new RSA %d vault key; nothing was changed'
                                    % (alias, new_vault.key_size))
        secrets.set_cipher(alias, new_vault.encrypt(plain))
        moved.append(alias)
    return moved, lost


def open_previous_vault(path, alias, store_passwords, key_passwords, what=None):
    """The vault key at ``path``/``alias`` with its private key, trying each candidate
    password (the master keys file's, the shipped one, ...); None when the file is
    missing or no candidate opens it."""
    what = what or 'the previous vault keystore %s' % path
    try:
        data = read_file(path, what=what)
    except KeystoreError:
        return None
    if data is None:
        return None
    seen = []
    for password in store_passwords:
        if not password or password in seen:
            continue
        seen.append(password)
        try:
            store = Keystore.loads(data, password, what=what)
        except KeystoreError:
            continue
        try:
            key = VaultKey.from_store(store, alias, [k for k in key_passwords if k] + [password], what,
                                      need_private=False)
        except ConfigError:
            return None
        return key if key.private_key is not None else None
    return None


def read_secrets_file(path):
    data = read_file(path, what='the secrets file %s' % path)
    if data is None:
        return None
    try:
        return SecretsFile(data.decode('utf-8'))
    except UnicodeDecodeError as exc:
        raise ConfigError('the secrets file %s is not UTF-8 text' % path) from exc


def read_secret_values(path, vault):
    """{alias: plaintext or None} of a secrets file ({} when it does not exist)."""
    secrets = read_secrets_file(path)
    if secrets is None:
        return {}
    return dict((alias, plaintext_of(secrets, alias, vault)) for alias in secrets.aliases())


# ---------------------------------------------------------------- master-keys.yaml

def master_keys_text(keystore_password, key_password):
    """master-keys.yaml as SI reads it: permanent (SI keeps the file), each password
    as !!binary base64 of its UTF-8 bytes."""
    check_vault_password(keystore_password, 'the vault keystore password')
    check_vault_password(key_password, 'the vault key password')

    def b64(text):
        return base64.b64encode(text.encode('utf-8')).decode('ascii')
    return ('# Written by wso2si.keystores. The secure vault\'s passwords as !!binary base64;\n'
            '# permanent: true keeps SI from deleting this file after reading it.\n'
            'permanent: true\n'
            'masterKeys:\n'
            '  keyStorePassword: !!binary %s\n'
            '  privateKeyPassword: !!binary %s\n') % (b64(keystore_password), b64(key_password))


def parse_master_keys(data, what):
    """{'permanent': bool, 'keyStorePassword': str|None, 'privateKeyPassword': str|None}."""
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise ConfigError('%s is not valid YAML' % what) from exc
    if not isinstance(doc, dict):
        raise ConfigError('%s does not hold a mapping' % what)
    keys = doc.get('masterKeys') or {}
    if not isinstance(keys, dict):
        raise ConfigError('%s: masterKeys is not a mapping' % what)
    out = {'permanent': doc.get('permanent') is True}
    for name in ('keyStorePassword', 'privateKeyPassword'):
        value = keys.get(name)
        if value is not None and not isinstance(value, (bytes, str, int, float)):
            # a list or mapping (a YAML alias bomb among them) is never a password: never expand it
            raise ConfigError('%s: %s is not a single value' % (what, name))
        if isinstance(value, bytes):
            try:
                value = value.decode('utf-8')
            except UnicodeDecodeError as exc:
                raise ConfigError('%s: %s is not UTF-8 text' % (what, name)) from exc
        out[name] = None if value is None else str(value)
    return out


def read_master_keys(path):
    """The master keys file's content, or None when it is missing or unreadable."""
    try:
        data = read_file(path, what='the master keys file %s' % path)
        if data is None:
            return None
        return parse_master_keys(data, 'the master keys file %s' % path)
    except KeystoreError:
        return None
