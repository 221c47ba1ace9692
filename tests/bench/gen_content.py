#!/usr/bin/env python3
"""Generate a synthetic Cortex XSOAR content repository for benchmarks and end-to-end tests.

    gen_content.py OUT_DIR [--packs N] [--items N] [--seed S] [--small] [--git]
                   [--manifest FILE] [--set KNOB=VALUE ...]
    gen_content.py OUT_DIR --check --manifest FILE
    gen_content.py --print-knobs

The repository follows SPEC.md section 1 (Packs/<Pack>/Integrations|Scripts, split and legacy
unified items, pack_metadata.json, ReleaseNotes/) and carries every shape the YAML editor of
section 2 must handle or refuse.  The manifest (--manifest) records, for every item, what a
correct tool must find in it and the exact byte range of the image tag, so tests can prove that
only those bytes change.  See tests/bench/README.md.

Python 3 standard library only.  Output depends only on the seed, the sizes and the knobs:
every random choice comes from random.Random seeded with a string (stable across Python 3
versions), no set or hash order ever reaches the output, and --git writes one commit with a
fixed author and date, so the commit id is reproducible.
"""

import argparse
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import time

# --------------------------------------------------------------------------------------------
# Knobs: proportions of every variant.  Fractions are of all items unless the comment says
# otherwise.  Override with --set KNOB=VALUE (VALUE is JSON, e.g. --set python2=0.1).

KNOBS = {
    # repository shape
    'integration': 0.42,        # items that are integrations (the rest are scripts)
    'unified': 0.06,            # legacy unified files, code inline under `script: |`
    'pack_skew': 1.1,           # Pareto shape of items per pack (smaller: a few huge packs)
    'hidden_packs': 0.03,       # of packs: "hidden": true
    'release_notes': 0.4,       # of packs: has a ReleaseNotes/ folder
    'pack_final_newline': 0.2,  # of packs: pack_metadata.json ends with a newline
    # languages and images
    'javascript': 0.025,        # type: javascript, no image
    'powershell': 0.008,        # type: powershell on demisto/ or devdemisto/powershell
    'no_image': 0.01,           # python items without any dockerimage key
    'python2': 0.05,            # demisto/python:2.7.18.<build>
    'other_image': 0.065,       # non-default images (crypto, taxii2, boto3py3, devdemisto/...)
    'new_builds': 0.35,         # of demisto/python3 items: 7-8 digit builds (else 4-6 digits)
    'latest_tag': 0.002,        # demisto/python3:latest
    'alpine_tag': 0.002,        # demisto/python:1.3-alpine
    'no_tag': 0.12,             # of non-default items without the flag: image without a tag
    # the autoUpdateDockerImage flag, deprecation
    'flag_false': 0.03,         # of default-image items
    'flag_true_default': 0.02,  # of default-image items
    'flag_true_other': 0.35,    # of non-default-image items
    'flag_misplaced': 0.05,     # of integrations with a flag: the flag sits under script:
    'deprecated': 0.05,
    # fromversion (weights) and the other image keys
    'fromversion': {'absent': 12, '4.5.0': 3, '5.0.0': 45, '5.5.0': 10, '6.0.0': 10,
                    '6.5.0': 10, '6.8.0': 5, '6.10.0': 5},
    'dockerimage45': 0.01,      # an existing dockerimage45 (mostly where fromversion < 5)
    'alt_dockerimages': 0.005,
    # formatting of the YAML files
    'crlf': 0.003,
    'quoted': 0.02,             # 'demisto/python3:...' or "demisto/python3:..."
    'comment': 0.005,           # dockerimage: demisto/python3:3.10.1.1 # pinned
    'trailing_spaces': 0.005,
    'no_final_newline': 0.08,
    'indent4': 0.01,            # of integrations: 4-space mapping indentation
    'seq_indent': 0.02,         # sequences indented under their key (`  - x`)
    'doc_start': 0.003,         # a leading `---` (still one document)
    'decoys': 0.01,             # dockerimage-looking text that is not the item's image
    'refusals_each': 2,         # count (not a fraction) of files per refusal variant
    'bom_files': 1,             # count of files with a UTF-8 BOM
    # code
    'imports_yaml': 0.03,       # of python items: `import yaml` at top level
    'nameerror': 0.01,          # of python items: fails with NameError in any image
    'error_entry': 0.02,        # of python items: reports an error entry (return_error)
    'test_files': 0.5,          # of split python items: <Name>_test.py
    'readmes': 0.6,             # of split integrations: README.md
    'test_data_decoys': 0.01,   # of split items: test_data/*.yml with a dockerimage (not an item)
}

DEFAULT_IMAGES = ('demisto/python', 'demisto/python3')
ALLOWED_NAMESPACES = ('demisto',)
REFUSALS = ('anchor', 'alias', 'block_scalar', 'multi_document', 'duplicate_key',
            'invalid_utf8', 'syntax_error')
FLAG_FALSE_SPELLINGS = ('false', 'False', 'no', 'off', '"false"')
FLAG_VALUES = {'false': False, 'False': False, 'no': False, 'off': False, '"false"': False,
               'true': True, 'True': True, 'yes': True}
DECOY_IMAGE = 'demisto/python3:3.8.0.1'
BOM = b'\xef\xbb\xbf'
AUTHOR = 'Synthetic Content <synthetic-content@example.invalid> 1704067200 +0000'

# --------------------------------------------------------------------------------------------
# Vocabulary.  Invented names only; none of this is copied from the real repository.

VENDORS = (
    'Acme', 'Aegis', 'Albatross', 'Altair', 'Amber', 'Anvil', 'Apex', 'Arbor', 'Argus',
    'Atlas', 'Aurora', 'Basalt', 'Bastion', 'Beacon', 'Birch', 'Bluefin', 'Boreal', 'Brisk',
    'Cairn', 'Caldera', 'Canopy', 'Cascade', 'Cedar', 'Cinder', 'Cirrus', 'Cobalt', 'Comet',
    'Condor', 'Coral', 'Corvid', 'Crescent', 'Cypher', 'Dune', 'Echo', 'Ember', 'Falcon',
    'Fathom', 'Fjord', 'Flint', 'Foxglove', 'Gale', 'Garnet', 'Glacier', 'Granite', 'Harbor',
    'Hawthorn', 'Helix', 'Heron', 'Horizon', 'Indigo', 'Iris', 'Jade', 'Juniper', 'Kestrel',
    'Keystone', 'Lagoon', 'Lantern', 'Larch', 'Lumen', 'Magnet', 'Maple', 'Meridian', 'Mesa',
    'Mistral', 'Monarch', 'Nebula', 'Nimbus', 'Nova', 'Oak', 'Obsidian', 'Onyx', 'Orbit',
    'Osprey', 'Pebble', 'Pinnacle', 'Polar', 'Prism', 'Quartz', 'Quill', 'Raven', 'Reef',
    'Ridge', 'Sable', 'Sentinel', 'Sierra', 'Slate', 'Solstice', 'Sparrow', 'Spruce',
    'Summit', 'Talon', 'Tundra', 'Umber', 'Vale', 'Vertex', 'Willow', 'Zephyr', 'Zenith')
PRODUCTS = (
    'ThreatIntel', 'EDR', 'Firewall', 'SIEM', 'Mail', 'Identity', 'CloudSecurity', 'Vault',
    'Sandbox', 'Feed', 'DLP', 'CASB', 'WAF', 'NDR', 'Ticketing', 'VulnManager', 'Scanner',
    'IAM', 'Queue', 'Storage', 'DNS', 'Proxy', 'MDM', 'XDR', 'AssetInventory', 'CertManager',
    'Phishing', 'Reputation', 'Whois', 'Gateway', 'Analytics', 'Logs', 'Detect', 'Protect',
    'Insight', 'Sentry', 'Guard', 'Watch', 'Hunt', 'Graph')
ACRONYMS = ('SQS', 'AIM', 'IAM', 'EDR', 'NGFW', 'DLP', 'SSO', 'PAM', 'MSSP', 'SASE', 'ZTNA',
            'KMS', 'SNS', 'ECS', 'GKE', 'WAF')
CATEGORIES = (
    'Data Enrichment & Threat Intelligence', 'Endpoint', 'Network Security', 'Email',
    'Authentication & Identity Management', 'Case Management', 'Cloud Services',
    'Vulnerability Management', 'Analytics & SIEM', 'Utilities', 'Forensics & Malware Analysis',
    'IT Services', 'Messaging and Conferencing')
NOUNS = ('alert', 'incident', 'indicator', 'host', 'user', 'file', 'url', 'domain', 'ip',
         'ticket', 'policy', 'rule', 'group', 'device', 'scan', 'report', 'event', 'case',
         'asset', 'vulnerability', 'certificate', 'bucket', 'queue', 'message', 'session',
         'token', 'tag', 'comment', 'note', 'watchlist', 'sample', 'endpoint', 'artifact')
VERBS = ('get', 'list', 'search', 'create', 'update', 'delete', 'block', 'unblock', 'isolate',
         'release', 'enrich', 'fetch', 'run', 'submit', 'quarantine', 'assign', 'close', 'add',
         'remove')
SCRIPT_VERBS = ('Extract', 'Parse', 'Convert', 'Format', 'Check', 'Get', 'Set', 'Find',
                'Filter', 'Count', 'Compare', 'Build', 'Calculate', 'Normalize', 'Validate',
                'Map', 'Sort', 'Group', 'Export', 'Generate')
SCRIPT_NOUNS = ('Domain', 'Email', 'Indicator', 'Url', 'IP', 'Hash', 'Date', 'Incident', 'List',
                'Table', 'Json', 'Csv', 'Field', 'Context', 'Entry', 'Owner', 'Severity',
                'Timestamp', 'Header', 'Attachment', 'Cidr', 'Port', 'Score', 'Tag')
FIELDS = ('ID', 'Name', 'Status', 'Severity', 'CreatedTime', 'UpdatedTime', 'Description',
          'Owner', 'Type', 'Score', 'Tags', 'URL', 'Hash', 'IP', 'Hostname', 'Count', 'Source',
          'Destination', 'Action', 'Result', 'Category', 'Reason', 'Labels', 'Version')
OUT_TYPES = ('String', 'String', 'String', 'Number', 'Boolean', 'Date', 'Unknown')
NON_ASCII = ('café', 'Zürich', 'naïve', 'São Paulo', 'Größe', 'Kraków', 'résumé', 'façade',
             '— see the vendor’s guide', '“as is”', 'ATT&CK®', 'Name™', 'Ελληνικά', '日本語',
             'Ünïcödé', 'señal')
ARG_DESCS = ('The {n} ID.', 'A comma-separated list of {n} IDs.',
             'The maximum number of {n}s to return. Default is 50.', 'Filter by {n} status.',
             'The {n} name to search for.', 'The time range to search, e.g. 3 days.',
             'Whether to include closed {n}s.', 'The page number of the results to retrieve.',
             'A free-text query, for example "type:{n} and severity:high".',
             'The reason to attach to the {n}.')
OUT_DESCS = ('The {f} of the {n}.', 'The {n} {f}.', 'The {f} reported for the {n}.',
             'The {n} {f}, as returned by the API.', 'The {f} of the {n} in the vendor console.')
CMD_DESCS = ('Returns a list of {n}s.', 'Gets the details of a {n} by its ID.',
             'Creates a new {n}.', 'Updates an existing {n}.', 'Deletes a {n}. This cannot be undone.',
             'Searches {n}s that match the given query.',
             'Runs the {v} action on the given {n} and returns the result.')
INT_DESCS = (
    'Use the {d} integration to manage {n}s and fetch them as incidents.',
    '{d} enriches indicators with reputation data and returns {n} details.',
    'Collects {n}s from {d} and maps them to XSOAR incidents.',
    'Integrates with {d} to search, create and update {n}s.')


def camel_words(word):
    return re.sub(r'(?<=[a-z])(?=[A-Z])', ' ', word)


# --------------------------------------------------------------------------------------------
# A small YAML emitter.  Mappings are lists of (key, value) pairs so that duplicate keys and
# comment lines can be written on purpose; scalars are either Python values or pre-formatted
# text (Raw).  The node that carries the item's image (Img) records where its text lands.

class Map(list):
    """A mapping: a list of (key, value) pairs; (None, Comment(text)) is a line as is."""


class Seq(list):
    """A sequence; `comment` is written after its key (`key: # comment`)."""
    comment = ''


class Raw(str):
    """A scalar already in YAML form: written as is."""


class Flat(tuple):
    """A sequence entry that is a mapping of scalars, pre-formatted as `key: value` lines."""


class Comment(str):
    """A line of its own inside a mapping (a comment, or deliberately broken text)."""


class Block(object):
    """A block scalar: `key: |`, `|-`, `>-`...; lines hold the content without indentation."""

    def __init__(self, header, lines):
        self.header = header
        self.lines = lines


class Wrapped(object):
    """A plain scalar folded over several lines, continuation lines indented one level."""

    def __init__(self, lines):
        self.lines = lines


class Img(object):
    """The image value: `pre` (an anchor), quotes, the image text, `post` (spaces, comment)."""

    def __init__(self, text, quote='', pre='', post='', block=False, gap=' '):
        self.text = text
        self.quote = quote
        self.pre = pre
        self.post = post
        self.block = block
        self.gap = gap


_PLAIN_BAD_FIRST = frozenset('-?:,[]{}#&*!|>\'"%@` ')
_YAML_WORDS = frozenset(('y', 'yes', 'n', 'no', 'true', 'false', 'on', 'off', 'null', '~', ''))
_NUMBER_LIKE = re.compile(r'^[-+.]?[0-9][0-9_:.,eExXoObB+-]*$|^[-+]?\.(inf|nan)$', re.I)


def scalar(value):
    """Format a Python value as a YAML scalar, plain when that is safe, else single-quoted."""
    t = type(value)
    if t is str:
        return _plain_or_quoted(value)
    if t is Raw:
        return value
    if t is bool:
        return 'true' if value else 'false'
    if t is int:
        return str(value)
    raise TypeError('no YAML form for %r' % (value,))


_SCALARS = {}


def _plain_or_quoted(s):
    out = _SCALARS.get(s)
    if out is None:
        if (s and s[0] not in _PLAIN_BAD_FIRST and s[-1] not in ' :' and ': ' not in s
                and ' #' not in s and '\n' not in s and '\t' not in s
                and s.lower() not in _YAML_WORDS and not _NUMBER_LIKE.match(s)):
            out = s
        else:
            out = "'" + s.replace("'", "''") + "'"
        if len(_SCALARS) < 200000:
            _SCALARS[s] = out
    return out


class Emitter(object):
    """Writes nodes as block-style YAML lines; remembers where the first Img text landed."""

    def __init__(self, lines, unit=2, seq_indent=False):
        self.out = lines
        self.unit = unit
        self.seq_step = 2 if seq_indent else 0
        self.mark = None        # (line index, column of the image text)

    def mapping(self, m, ind, first=None):
        out = self.out
        pad = ' ' * ind
        for i, (k, v) in enumerate(m):
            lead = first if (i == 0 and first is not None) else pad
            t = type(v)
            if t is str:
                out.append(lead + k + ': ' + _plain_or_quoted(v))
            elif t is Raw:
                out.append(lead + k + ': ' + v)
            elif t is Comment:
                out.append(lead + v)
            elif t is Map:
                if v:
                    out.append(lead + k + ':')
                    self.mapping(v, ind + self.unit)
                else:
                    out.append(lead + k + ': {}')
            elif t is Seq:
                if v:
                    out.append(lead + k + ':' + (' ' + v.comment if v.comment else ''))
                    self.sequence(v, ind + self.seq_step)
                else:
                    out.append(lead + k + ': []')
            elif t is Img:
                self.image(lead + k + ':', v, ind)
            elif t is Block:
                out.append(lead + k + ': ' + v.header)
                inner = ' ' * (ind + self.unit)
                for line in v.lines:
                    out.append(inner + line if line else '')
            elif t is Wrapped:
                out.append(lead + k + ': ' + v.lines[0])
                inner = ' ' * (ind + self.unit)
                for line in v.lines[1:]:
                    out.append(inner + line)
            else:
                out.append(lead + k + ': ' + scalar(v))

    def sequence(self, s, ind):
        out = self.out
        dash = ' ' * ind + '- '
        for v in s:
            t = type(v)
            if t is Flat:
                out.append(dash + v[0])
                pad = ' ' * (ind + 2)
                for line in v[1:]:
                    out.append(pad + line)
            elif t is Map:
                self.mapping(v, ind + 2, first=dash)
            elif t is Img:
                self.image(dash[:-1], v, ind + 2)
            else:
                out.append(dash + scalar(v))

    def image(self, head, v, ind):
        if v.block:
            self.out.append(head + ' ' + v.pre + '>-')
            line = ' ' * (ind + self.unit)
        else:
            line = head + v.gap + v.pre + v.quote
        if self.mark is None:
            self.mark = (len(self.out), len(line))
        self.out.append(line + v.text + (v.quote if not v.block else '') + v.post)


# --------------------------------------------------------------------------------------------
# Images and tags.

PY3_OLD = (  # (python versions, build range): builds grew with time, 4-6 digits
    (('3.7.4', '3.7.5', '3.7.9'), (2100, 9999)),
    (('3.8.2', '3.8.5', '3.8.6', '3.8.10'), (6000, 36000)),
    (('3.9.1', '3.9.6', '3.9.7', '3.9.8', '3.9.12', '3.9.16'), (14000, 84000)),
    (('3.10.1', '3.10.4', '3.10.5', '3.10.8', '3.10.10', '3.10.11', '3.10.12', '3.10.13',
      '3.10.14'), (25000, 118000)),
    (('3.11.4', '3.11.5', '3.11.8', '3.11.9', '3.11.10'), (60000, 129000)),
    (('3.12.5', '3.12.7', '3.12.8'), (110000, 129999)),
)
PY3_NEW = (  # 7-8 digit builds
    (('3.11.10', '3.11.11', '3.11.13'), (1000000, 4500000)),
    (('3.12.8', '3.12.10', '3.12.11', '3.12.12', '3.12.13'), (1200000, 12500000)),
)
# Non-default images: (repository, tag base versions, may appear without a tag).
OTHER_IMAGES = (
    ('demisto/crypto', ('1.0.0',), False), ('demisto/taxii2', ('1.0.0',), False),
    ('demisto/boto3py3', ('1.0.0',), True), ('demisto/py3-tools', ('1.0.0',), False),
    ('demisto/ntlm', ('1.0.0',), False), ('demisto/netutils', ('1.0.0',), False),
    ('demisto/auth-utils', ('1.0.0',), False), ('demisto/pandas', ('1.0.0',), False),
    ('demisto/tld', ('1.0.0',), True), ('devdemisto/python3', ('3.10.13', '3.11.9'), False),
    ('devdemisto/chromium', ('1.0.0',), False))
UNTAGGED_OK = tuple(repo for repo, _, untagged in OTHER_IMAGES if untagged)
POWERSHELL_IMAGES = ('demisto/powershell', 'devdemisto/powershell')


class TagPools(object):
    """The tags items are pinned to, drawn once per repository so that many items share one."""

    def __init__(self, rng):
        self.py3_old = self._pool(rng, PY3_OLD, 90)
        self.py3_new = self._pool(rng, PY3_NEW, 50)
        self.py2 = ['2.7.18.%d' % b for b in sorted(set(
            [rng.randint(10000, 130000) for _ in range(12)]
            + [rng.randint(1000000, 9000000) for _ in range(6)]))]
        self.other = {}
        for repo, bases, _ in OTHER_IMAGES + tuple((r, ('7.4.6', '7.5.0'), False)
                                                    for r in POWERSHELL_IMAGES):
            tags = []
            for _ in range(rng.randint(2, 6)):
                build = rng.randint(10000, 130000) if rng.random() < 0.5 else \
                    rng.randint(1000000, 9999999)
                tags.append('%s.%d' % (rng.choice(bases), build))
            self.other[repo] = sorted(set(tags))

    @staticmethod
    def _pool(rng, eras, n):
        tags = []
        for _ in range(n):
            versions, (lo, hi) = rng.choice(eras)
            tags.append('%s.%d' % (rng.choice(versions), rng.randint(lo, hi)))
        return sorted(set(tags))

    @staticmethod
    def pick(rng, pool):
        # Skewed: a few tags are shared by many items, as in the real repository.
        return pool[min(len(pool) - 1, int(len(pool) * rng.random() ** 2.2))]


# --------------------------------------------------------------------------------------------
# Planning: packs, items and the variant of every item.

class Obj(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)


def plain_item(kind):
    """An item with no special variant: the baseline for forced features."""
    return Obj(kind=kind, layout='split', lang='python', role='python3', build='old',
               tag=None, flag=None, misplaced=False, deprecated=False,
               fromversion='5.0.0', d45=False, alt=False, refuse=None, newline='lf', bom=False,
               quote='', comment='', trailing_spaces=0, final_newline=True, indent=2,
               seq_indent=False, doc_start=False, last=False, code='ok', test=None, readme=None,
               decoys=[], hidden=False, repo=None)


# Every variant the tool must handle, one item each; --small is exactly this list (plus the
# Base pack), the default size includes it too.  Keep features on otherwise plain items so
# that the expected outcome of each stays unambiguous.
FEATURES = (
    dict(kind='integration'),
    dict(kind='script', fromversion=None, quote='"'),
    dict(kind='integration', build='new', newline='crlf'),
    dict(kind='script', build='new', fromversion='6.5.0'),
    dict(kind='script', role='python2', fromversion='4.5.0'),
    dict(kind='integration', role='python2', fromversion='6.10.0'),
    dict(kind='script', tag='latest'),
    dict(kind='script', role='alpine'),
    dict(kind='integration', role='other', repo='demisto/crypto'),
    dict(kind='script', role='other', repo='demisto/taxii2', flag='false'),
    dict(kind='integration', role='other', repo='demisto/boto3py3', flag='true'),
    dict(kind='script', role='other-untagged', repo='demisto/boto3py3'),
    dict(kind='script', lang='powershell', role=None, repo='devdemisto/powershell'),
    dict(kind='integration', role='other', repo='devdemisto/python3', flag='true'),
    dict(kind='script', lang='javascript', role=None),
    dict(kind='integration', lang='javascript', role=None, layout='unified'),
    dict(kind='script', role='none'),
    dict(kind='integration', flag='false'),
    dict(kind='script', flag='False'),
    dict(kind='integration', flag='no', indent=4, seq_indent=True),
    dict(kind='script', flag='off'),
    dict(kind='integration', flag='"false"'),
    dict(kind='script', flag='true', trailing_spaces=3),
    dict(kind='integration', flag='false', misplaced=True),
    dict(kind='integration', role='other', repo='demisto/crypto', flag='true', misplaced=True),
    dict(kind='integration', deprecated=True),
    dict(kind='script', hidden=True),
    dict(kind='integration', hidden=True, fromversion=None),
    dict(kind='script', fromversion=None, d45=True),
    dict(kind='integration', fromversion='4.5.0', d45=True, alt=True),
    dict(kind='script', alt=True, comment='  # keep in sync', quote='"'),
    dict(kind='integration', layout='unified', fromversion=None, decoys=['block_text']),
    dict(kind='script', layout='unified', decoys=['block_text'], quote="'"),
    dict(kind='script', layout='unified', role='python2', fromversion=None, last=True,
         final_newline=False),
    dict(kind='integration', newline='crlf', fromversion=None, comment=' # pinned'),
    dict(kind='script', bom=True, fromversion=None),
    dict(kind='integration', quote="'", trailing_spaces=1, fromversion=None),
    dict(kind='integration', final_newline=False, doc_start=True),
    dict(kind='script', decoys=['comment_line', 'quoted_text', 'nested_key', 'test_data']),
    dict(kind='integration', decoys=['comment_line', 'quoted_text', 'nested_key']),
    dict(kind='script', refuse='anchor'),
    dict(kind='integration', refuse='alias'),
    dict(kind='script', refuse='block_scalar'),
    dict(kind='integration', refuse='multi_document'),
    dict(kind='script', refuse='duplicate_key'),
    dict(kind='integration', refuse='invalid_utf8'),
    dict(kind='script', refuse='syntax_error'),
    dict(kind='integration', code='imports_yaml', test=True),
    dict(kind='script', code='imports_yaml'),
    dict(kind='integration', code='nameerror'),
    dict(kind='script', code='nameerror', test=True),
    dict(kind='script', code='error_entry'),
)


def pick_weighted(rng, weights):
    total = sum(weights.values())
    x = rng.random() * total
    for key, w in weights.items():
        x -= w
        if x < 0:
            return key
    return key


def random_item(rng, k, kind, hidden):
    """Draw one item's variant from the knobs.  Deprecated items and items of hidden packs
    stay on default images with no flag, so their expected status is plainly `skipped`."""
    it = plain_item(kind)
    it.hidden = hidden
    it.deprecated = not hidden and rng.random() < k['deprecated']
    skip = hidden or it.deprecated
    if rng.random() < k['unified']:
        it.layout = 'unified'
    x = rng.random()
    if not skip and x < k['javascript']:
        it.lang, it.role = 'javascript', None
    elif not skip and x < k['javascript'] + k['powershell']:
        it.lang, it.role = 'powershell', None
        it.repo = rng.choice(POWERSHELL_IMAGES)
    else:
        x = rng.random()
        if not skip and x < k['no_image']:
            it.role = 'none'
        elif x < k['no_image'] + k['python2']:
            it.role = 'python2'
        elif not skip and x < k['no_image'] + k['python2'] + k['other_image']:
            it.role = 'other'
            it.repo = OTHER_IMAGES[int(len(OTHER_IMAGES) * rng.random() ** 1.5)][0]
        elif x < k['no_image'] + k['python2'] + k['other_image'] + k['alpine_tag']:
            it.role = 'alpine'
        else:
            it.build = 'new' if rng.random() < k['new_builds'] else 'old'
            if rng.random() < k['latest_tag']:
                it.tag = 'latest'
    has_image = it.role not in (None, 'none') or it.lang == 'powershell'
    default = it.role in ('python3', 'python2', 'alpine')
    if not skip and has_image:
        if default:
            y = rng.random()
            if y < k['flag_false']:
                it.flag = rng.choice(FLAG_FALSE_SPELLINGS)
            elif y < k['flag_false'] + k['flag_true_default']:
                it.flag = 'true'
        elif rng.random() < k['flag_true_other']:
            it.flag = 'true'
        elif it.repo in UNTAGGED_OK and rng.random() < k['no_tag']:
            it.tag = None
            it.role = 'other-untagged'
        if it.flag and kind == 'integration' and rng.random() < k['flag_misplaced']:
            it.misplaced = True
    it.fromversion = pick_weighted(rng, k['fromversion'])
    if it.fromversion == 'absent':
        it.fromversion = None
    if has_image:
        old = it.fromversion is None or vtuple(it.fromversion) < (5, 0, 0)
        it.d45 = rng.random() < k['dockerimage45'] * (8 if old else 0.2)
        it.alt = rng.random() < k['alt_dockerimages']
    if rng.random() < k['crlf']:
        it.newline = 'crlf'
    if has_image:
        if rng.random() < k['quoted']:
            it.quote = rng.choice(("'", '"'))
        if rng.random() < k['comment']:
            it.comment = rng.choice((' # pinned', '  # do not change', ' # see README'))
        if rng.random() < k['trailing_spaces']:
            it.trailing_spaces = rng.randint(1, 4)
    it.final_newline = rng.random() >= k['no_final_newline']
    if kind == 'integration' and rng.random() < k['indent4']:
        it.indent = 4
    it.seq_indent = rng.random() < k['seq_indent']
    it.doc_start = rng.random() < k['doc_start']
    if rng.random() < k['decoys']:
        it.decoys = [rng.choice(('comment_line', 'quoted_text', 'nested_key'))]
        if it.layout == 'unified':
            it.decoys.append('block_text')
    if it.lang == 'python' and it.role != 'none':
        y = rng.random()
        if y < k['imports_yaml']:
            it.code = 'imports_yaml'
        elif y < k['imports_yaml'] + k['nameerror']:
            it.code = 'nameerror'
        elif y < k['imports_yaml'] + k['nameerror'] + k['error_entry']:
            it.code = 'error_entry'
    if it.layout == 'split' and rng.random() < k['test_data_decoys']:
        it.decoys = it.decoys + ['test_data']
    return it


def vtuple(v):
    return tuple(int(x) for x in v.split('.'))


def make_names(rng, n, fixed):
    """Unique pack directory names and display names."""
    out = list(fixed)
    seen = set(d for d, _ in fixed)
    tries = 0
    while len(out) < n:
        tries += 1
        v = rng.choice(VENDORS)
        x = rng.random()
        if x < 0.8:
            p = rng.choice(PRODUCTS)
            d, disp = v + p, v + ' ' + camel_words(p)
        elif x < 0.9:
            a = rng.choice(ACRONYMS)
            d, disp = v + '-' + a, v + ' - ' + a
        elif x < 0.95:
            a = rng.choice(ACRONYMS)
            d, disp = v.lower() + '_' + a, v + ' ' + a
        else:
            d, disp = v, v
        if tries > 20 * n:
            d, disp = '%s%d' % (d, tries), '%s %d' % (disp, tries)
        if d not in seen:
            seen.add(d)
            out.append((d, disp))
    return out


SCRIPT_PACKS = ('CommonScripts', 'ApiModules')     # packs without integrations


def plan(opts, k):
    """Decide every pack and item: names, variants, paths.  Rendering comes later."""
    rng = random.Random('%s/plan' % opts.seed)
    tags = TagPools(random.Random('%s/tags' % opts.seed))
    fixed = [('Base', 'Base'), ('CommonScripts', 'Common Scripts'),
             ('DeprecatedContent', 'Deprecated Content'), ('ApiModules', 'ApiModules')]
    names = make_names(rng, max(opts.packs, len(fixed) + 2), fixed)
    packs = []
    for i, (d, disp) in enumerate(names):
        hidden = d in ('DeprecatedContent', 'ApiModules') or (
            i >= len(fixed) and rng.random() < k['hidden_packs'])
        packs.append(Obj(dir=d, display=disp, hidden=hidden, items=[],
                         weight=rng.paretovariate(k['pack_skew'])))
    packs[1].weight *= 40    # CommonScripts is big
    visible = [p for p in packs if not p.hidden and p.dir != 'Base']
    hidden = [p for p in packs if p.hidden]

    features = [dict(f) for f in FEATURES]
    n_items = max(opts.items, len(features) + 2)
    n_random = n_items - len(features) - 2
    specs = []
    for f in features:
        it = plain_item(f.pop('kind'))
        for key, val in f.items():
            setattr(it, key, val)
        specs.append(it)
    # Random items: in small mode none; first fill every pack once, then skewed.
    pool_all = [p for p in packs if p.dir != 'Base']
    cum = []
    total = 0.0
    for p in pool_all:
        total += p.weight
        cum.append(total)
    chosen = []
    for i in range(n_random):
        if i < len(pool_all) and not opts.small:
            chosen.append(pool_all[i])
        else:
            chosen.append(rng.choices(pool_all, cum_weights=cum)[0])
    for p in chosen:
        kind = 'integration' if rng.random() < k['integration'] else 'script'
        if p.dir in SCRIPT_PACKS:
            kind = 'script'
        it = random_item(rng, k, kind, p.hidden)
        it.pack = p
        specs.append(it)
    # Counted variants (refusals, BOM) go to plain random items of visible packs.
    plain = [it for it in specs[len(features):] if is_plain_candidate(it)]
    rng.shuffle(plain)
    want = [] if opts.small else [r for r in REFUSALS for _ in range(k['refusals_each'] - 1)]
    want += [] if opts.small else ['bom'] * (k['bom_files'] - 1)
    for it, what in zip(plain, want):
        if what == 'bom':
            it.bom = True
        else:
            it.refuse = what
    # Feature items go to packs of the right visibility, spread over the first packs.
    for i, it in enumerate(specs[:len(features)]):
        choices = hidden if it.hidden else visible
        if it.kind == 'integration':
            choices = [p for p in choices if p.dir not in SCRIPT_PACKS]
        it.pack = choices[i % len(choices)] if opts.small else rng.choice(choices)
    items = []
    used = set()
    for it in specs:
        it.hidden = it.pack.hidden
        items.append(finish_item(rng, tags, it, used))
    items.extend(base_items(packs[0]))
    for it in items:
        it.pack.items.append(it)
    return packs, items, tags


def is_plain_candidate(it):
    """Whether a random item has no variant at all, so a counted variant can go there."""
    return (it.lang == 'python' and it.role == 'python3' and it.tag is None and not it.flag
            and not it.hidden and not it.deprecated and not it.decoys and it.refuse is None
            and not it.bom and it.newline == 'lf' and not it.doc_start and not it.quote
            and not it.comment and not it.trailing_spaces and not it.d45 and not it.alt)


def finish_item(rng, tags, it, used):
    """Fill in the item's names, subtype, image and tag."""
    vendor = re.match(r'[A-Za-z][a-z]*', it.pack.dir).group(0).capitalize()
    for attempt in range(1000):
        if it.kind == 'integration':
            suffix = rng.choice(('', '', 'V2', '_v2', 'Feed', 'EventCollector', 'v3', 'IAM',
                                 'Enrichment', 'Cloud'))
            name = it.pack.dir.replace('-', '').replace('_', '') + suffix
            if attempt:
                name = vendor + rng.choice(PRODUCTS) + suffix
        else:
            name = rng.choice(SCRIPT_VERBS) + rng.choice(SCRIPT_NOUNS)
            if rng.random() < 0.4:
                name += rng.choice(('From', 'To', 'By', 'In')) + rng.choice(SCRIPT_NOUNS)
            if rng.random() < 0.3:
                name = vendor + name
        if attempt > 50:
            name += str(attempt)
        if name.lower() not in used:
            used.add(name.lower())
            break
    it.name = name
    it.display = None
    if it.kind == 'integration':
        it.display = camel_words(name.replace('_', ' '))
        if rng.random() < 0.02:
            it.display += ' (Beta)'
    it.prefix = (vendor.lower() + ('-' + rng.choice(ACRONYMS).lower() if rng.random() < 0.3 else ''))
    it.vendor = vendor
    # image
    if it.lang == 'python':
        it.subtype = 'python2' if it.role in ('python2', 'alpine') else 'python3'
    else:
        it.subtype = None
    if it.lang == 'javascript':
        it.repo = it.tag = None
    elif it.lang == 'powershell':
        it.repo = it.repo or rng.choice(POWERSHELL_IMAGES)
        it.tag = TagPools.pick(rng, tags.other[it.repo])
    elif it.role == 'python3':
        it.repo = 'demisto/python3'
        if it.tag is None:
            it.tag = tags.pick(rng, tags.py3_new if it.build == 'new' else tags.py3_old)
    elif it.role == 'python2':
        it.repo, it.tag = 'demisto/python', tags.pick(rng, tags.py2)
    elif it.role == 'alpine':
        it.repo, it.tag = 'demisto/python', '1.3-alpine'
    elif it.role == 'other':
        it.tag = TagPools.pick(rng, tags.other[it.repo])
    elif it.role == 'other-untagged':
        it.tag = None
    else:
        it.repo = it.tag = None
    return it


def base_items(pack):
    """Packs/Base: CommonServerPython and CommonServerUserPython (script items, no image)."""
    out = []
    for name in ('CommonServerPython', 'CommonServerUserPython'):
        it = plain_item('script')
        it.__dict__.update(name=name, display=None, role='none', repo=None, tag=None,
                           fromversion=None, code='library', subtype='python3',
                           seq_indent=True, test=False, prefix='base', vendor='Base',
                           pack=pack)
        out.append(it)
    return out


# --------------------------------------------------------------------------------------------
# Text helpers.

def sentence(rng, templates, **kw):
    s = templates[int(rng.random() * len(templates))].format(**kw)
    if rng.random() < 0.03:
        s = s[:-1] + ' (' + rng.choice(NON_ASCII) + ').'
    return s


def long_text(rng, d, n, sentences):
    words = []
    for _ in range(sentences):
        words.append(sentence(rng, INT_DESCS, d=d, n=n))
    return ' '.join(words)


def wrap(text, width=88):
    """Split text into lines for a folded plain scalar (never splitting a word)."""
    lines, cur = [], ''
    for w in text.split(' '):
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = cur + ' ' + w if cur else w
    lines.append(cur)
    return lines


def multi_line(rng, text):
    """A description as a plain line, a folded plain scalar, or a literal block."""
    x = rng.random()
    if x < 0.75 or len(text) < 100 or scalar(text) != text:
        return text
    if x < 0.9:
        return Wrapped(wrap(text))
    return Block('|-', wrap(text, 70))


# --------------------------------------------------------------------------------------------
# YAML trees of integrations and scripts.

def config_entries(rng, it, feed, fetch):
    v = it.vendor.lower()
    e = Seq()
    e.append(Map([('display', 'Server URL (e.g., https://api.%s.example)' % v), ('name', 'url'),
                  ('defaultvalue', 'https://api.%s.example' % v), ('type', 0),
                  ('required', True), ('section', 'Connect')]))
    if rng.random() < 0.5:
        e.append(Map([('display', 'Username'), ('name', 'credentials'), ('type', 9),
                      ('required', True), ('displaypassword', 'Password'),
                      ('section', 'Connect')]))
    else:
        e.append(Map([('display', 'API Key'), ('name', 'apikey'), ('type', 4),
                      ('required', True), ('section', 'Connect')]))
    e.append(Map([('display', 'Trust any certificate (not secure)'), ('name', 'insecure'),
                  ('type', 8), ('required', False), ('section', 'Connect'), ('advanced', True)]))
    e.append(Map([('display', 'Use system proxy settings'), ('name', 'proxy'), ('type', 8),
                  ('required', False), ('section', 'Connect'), ('advanced', True)]))
    if fetch:
        e.append(Map([('display', 'Fetch incidents'), ('name', 'isFetch'), ('type', 8),
                      ('required', False), ('section', 'Collect')]))
        e.append(Map([('display', 'Incident type'), ('name', 'incidentType'), ('type', 13),
                      ('required', False), ('section', 'Collect')]))
        e.append(Map([('display', 'Maximum number of incidents per fetch'), ('name', 'max_fetch'),
                      ('defaultvalue', Raw("'50'")), ('type', 0), ('required', False),
                      ('section', 'Collect')]))
        e.append(Map([('display', 'First fetch time'), ('name', 'first_fetch'),
                      ('defaultvalue', '3 days'), ('type', 0), ('required', False),
                      ('additionalinfo', 'For example: 12 hours, 7 days, 3 months, 1 year.'),
                      ('section', 'Collect')]))
    if feed:
        e.append(Map([('display', 'Fetch indicators'), ('name', 'feed'),
                      ('defaultvalue', Raw("'true'")), ('type', 8), ('required', False),
                      ('section', 'Collect')]))
        e.append(Map([('additionalinfo', 'Indicators from this integration instance will be marked with this reputation.'),
                      ('display', 'Indicator Reputation'), ('name', 'feedReputation'),
                      ('options', Seq(['None', 'Good', 'Suspicious', 'Bad'])), ('type', 18),
                      ('required', False), ('section', 'Collect')]))
        e.append(Map([('additionalinfo', 'Reliability of the source providing the intelligence data.'),
                      ('defaultvalue', 'F - Reliability cannot be judged'),
                      ('display', 'Source Reliability'), ('name', 'feedReliability'),
                      ('options', Seq(['A - Completely reliable', 'B - Usually reliable',
                                       'C - Fairly reliable', 'D - Not usually reliable',
                                       'E - Unreliable', 'F - Reliability cannot be judged'])),
                      ('required', True), ('type', 15), ('section', 'Collect')]))
        e.append(Map([('display', 'Traffic Light Protocol Color'), ('name', 'tlp_color'),
                      ('options', Seq(['RED', 'AMBER', 'GREEN', 'WHITE'])), ('type', 15),
                      ('required', False), ('section', 'Collect')]))
        e.append(Map([('defaultvalue', Raw("'240'")), ('display', 'Feed Fetch Interval'),
                      ('name', 'feedFetchInterval'), ('type', 19), ('required', False),
                      ('section', 'Collect'), ('advanced', True)]))
    for _ in range(rng.randint(0, 22)):
        noun, field = rng.choice(NOUNS), rng.choice(FIELDS)
        m = Map([('display', '%s %s' % (noun.capitalize(), camel_words(field).lower())),
                 ('name', '%s_%s' % (noun, field.lower()))])
        x = rng.random()
        if x < 0.3:
            m.append(('options', Seq(rng.sample(('Low', 'Medium', 'High', 'Critical',
                                                  'Informational', 'Unknown'), 4))))
            m.append(('type', 15))
        elif x < 0.5:
            m.append(('defaultvalue', Raw(rng.choice(("''", '""', "'10'", 'all')))))
            m.append(('type', 0))
        else:
            m.append(('type', rng.choice((0, 8, 12))))
        m.append(('required', False))
        if rng.random() < 0.4:
            text = sentence(rng, OUT_DESCS, n=noun, f=camel_words(field).lower())
            if rng.random() < 0.3:
                text = text + ' ' + long_text(rng, it.display or it.name, noun, 2)
            m.insert(0, ('additionalinfo', multi_line(rng, text)))
        if rng.random() < 0.5:
            m.append(('section', 'Collect'))
            m.append(('advanced', True))
        e.append(m)
    if rng.random() < 0.5:
        for i, m in enumerate(e):
            e[i] = Map(sorted(m, key=lambda kv: kv[0]))
    return e


ARG_SUFFIXES = ('id', 'name', 'ids', 'query', 'limit', 'status', 'reason', 'page', 'time')
FIELD_WORDS = dict((f, camel_words(f).lower()) for f in FIELDS)
_OUT_LINES = {}     # (template, noun, field) -> the formatted description line


def command_entry(rng, it, name, noun, verb):
    """One command: its Map, argument names, approximate size in bytes.  Most entries are
    Flat (pre-formatted) because commands are the bulk of every integration."""
    r = rng.random
    ctx = it.vendor + '.' + noun.capitalize()
    size = 80
    args = Seq()
    argnames = []
    for j in range(int(r() * 8)):
        an = noun + '_' + ARG_SUFFIXES[int(r() * len(ARG_SUFFIXES))]
        if an in argnames:
            continue
        argnames.append(an)
        d = sentence(rng, ARG_DESCS, n=noun)
        a = ['name: ' + an, 'description: ' + _plain_or_quoted(d)]
        if j == 0 and r() < 0.3:
            a.append('default: true')
        if r() < 0.3:
            a.append('required: true')
        if r() < 0.15:
            a.append('isArray: true')
        size += sum(map(len, a)) + 9 * len(a)
        if r() < 0.2:
            m = Map((line.split(': ', 1)[0], Raw(line.split(': ', 1)[1])) for line in a)
            m.append(('auto', 'PREDEFINED'))
            m.append(('predefined', Seq(rng.sample(('true', 'false', 'low', 'medium', 'high',
                                                     'open', 'closed'), 3))))
            args.append(m)
            size += 60
            continue
        if r() < 0.2:
            a.append("defaultValue: '50'")
            size += 26
        args.append(Flat(a))
    outputs = Seq()
    for f in rng.sample(FIELDS, int(r() * 21)):
        # The cache only saves formatting; the random draws are the same either way, so
        # the output does not depend on what this process rendered before.
        key = (int(r() * len(OUT_DESCS)), noun, f)
        if r() < 0.03:
            d = 'description: ' + _plain_or_quoted(
                OUT_DESCS[key[0]].format(n=noun, f=FIELD_WORDS[f])[:-1]
                + ' (' + rng.choice(NON_ASCII) + ').')
        else:
            d = _OUT_LINES.get(key)
            if d is None:
                d = _OUT_LINES[key] = 'description: ' + _plain_or_quoted(
                    OUT_DESCS[key[0]].format(n=noun, f=FIELD_WORDS[f]))
        outputs.append(Flat(('contextPath: ' + ctx + '.' + f, d,
                             'type: ' + OUT_TYPES[int(r() * len(OUT_TYPES))])))
        size += 36 + len(ctx) + len(f) + len(d)
    desc = sentence(rng, CMD_DESCS, n=noun, v=verb)
    size += len(desc)
    if r() < 0.5:
        m = Map([('name', name), ('arguments', args), ('outputs', outputs), ('description', desc)])
    else:
        m = Map([('arguments', args), ('description', desc), ('name', name), ('outputs', outputs)])
    if not outputs and r() < 0.5:
        m = Map(kv for kv in m if kv[0] != 'outputs')
    if r() < 0.05:
        m.append(('execution', True))
    return m, argnames, size


def image_text(it):
    return it.repo + (':' + it.tag if it.tag else '')


def image_node(it):
    post = it.comment + ' ' * it.trailing_spaces
    return Img(image_text(it), quote=it.quote, post=post)


def d45_value(it, rng):
    if it.repo == 'demisto/python3':
        return 'demisto/python:2.7.18.%d' % rng.randint(10000, 99999)
    return '%s:1.0.0.%d' % (it.repo, rng.randint(1000, 99999))


def alt_value(rng):
    return Seq(['demisto/python3:3.%d.%d.%d' % (rng.randint(7, 9), rng.randint(1, 12),
                                                  rng.randint(200, 9000))])


def image_keys(it, rng):
    """The (key, value) pairs that carry the image, in file order, plus decoy comment lines."""
    pairs = []
    if 'comment_line' in it.decoys:
        pairs.append((None, Comment('# dockerimage: %s (the previous image, kept for reference)'
                                    % DECOY_IMAGE)))
    if it.repo is not None:
        pairs.append(('dockerimage', image_node(it)))
        if it.refuse == 'duplicate_key':
            pairs.append(('dockerimage', Raw('demisto/python3:3.9.8.24399')))
        if it.d45:
            it.d45_value = d45_value(it, rng)
            pairs.append(('dockerimage45', Raw(it.d45_value)))
    if it.alt:
        alt = alt_value(rng)
        it.alt_values = list(alt)
        pairs.append(('alt_dockerimages', alt))
    return pairs


def integration_tree(it, rng, code_lines):
    """The integration's top-level Map and the code's command names."""
    feed = rng.random() < 0.2
    fetch = not feed and rng.random() < 0.4
    # The file size is log-uniform in 5-50 KB; commands are added while the estimate (the
    # text of the entries plus indentation) stays below the target.
    target = int(5000 * 10 ** rng.random())
    config = config_entries(rng, it, feed, fetch)
    inline = it.layout == 'unified' and it.lang == 'python'   # the code is in this file
    size = 500 + 4000 * (it.layout == 'unified') + 1500 * inline + sum(
        25 + sum(len(k) + (len(v) if isinstance(v, str) else 60) for k, v in m)
        for m in config)
    commands = Seq()
    cmd_info = []
    names = set()
    misses = 0
    while not commands or (len(names) < 200 and size < 0.9 * target and misses < 10):
        noun, verb = rng.choice(NOUNS), rng.choice(VERBS)
        name = '%s-%s-%s' % (it.prefix, noun, verb) if rng.random() < 0.3 else \
            '%s-%s-%s' % (it.prefix, verb, noun)
        if name in names:
            continue
        names.add(name)
        m, argnames, n = command_entry(rng, it, name, noun, verb)
        n += 640 * inline
        if commands and size + n > target:
            misses += 1     # too big: try a smaller command
            continue
        size += n
        commands.append(m)
        cmd_info.append((name, noun, verb, argnames))
    if 'quoted_text' in it.decoys:
        for i, (k, v) in enumerate(commands[0]):
            if k == 'description':
                commands[0][i] = (k, 'Pins the image. Set dockerimage: %s in the YAML to roll back.'
                                  % DECOY_IMAGE)
    if 'nested_key' in it.decoys:
        commands[0].append(('dockerimage', Raw(DECOY_IMAGE)))
    display = it.display
    desc = sentence(rng, INT_DESCS, d=display, n=rng.choice(NOUNS))
    if it.deprecated:
        desc = 'Deprecated. Use %s v2 instead. ' % display + desc
    if it.refuse == 'invalid_utf8':
        desc = desc + ' Caf\udce9 edition.'
    s = {}
    if code_lines is None:
        s['script'] = Raw("'-'") if rng.random() < 0.95 else Raw("''")
    else:
        s['script'] = Block(rng.choice(('|', '|-')), code_lines)
    s['type'] = it.lang
    if it.subtype:
        s['subtype'] = it.subtype
    s['commands'] = commands
    if feed:
        s['feed'] = True
    s['isfetch'] = fetch
    s['runonce'] = False
    order = rng.choice((('commands', 'IMAGE', 'feed', 'isfetch', 'runonce', 'script', 'subtype',
                         'type'),
                        ('IMAGE', 'commands', 'feed', 'isfetch', 'runonce', 'script', 'subtype',
                         'type'),
                        ('script', 'type', 'subtype', 'IMAGE', 'isfetch', 'feed', 'runonce',
                         'commands')))
    smap = Map()
    for key in order:
        if key == 'IMAGE':
            smap.extend(image_keys(it, rng))
        elif key in s:
            smap.append((key, s[key]))
    if it.flag and it.misplaced:
        smap.append(('autoUpdateDockerImage', Raw(it.flag)))
    top = {
        'category': rng.choice(CATEGORIES),
        'sectionOrder': Seq(['Connect', 'Collect']),
        'commonfields': Map([('id', display if rng.random() < 0.2 else it.name),
                             ('version', -1)]),
        'configuration': config,
        'description': desc if it.refuse == 'syntax_error' else multi_line(rng, desc),
        'display': display,
        'name': it.name,
        'script': smap,
        'tests': Seq(['No tests (auto formatted)' if rng.random() < 0.5 else it.name + '-Test']),
    }
    if it.fromversion:
        top['fromversion'] = Raw(it.fromversion)
    if it.deprecated:
        top['deprecated'] = True
    if it.layout == 'unified':
        top['image'] = 'data:image/png;base64,' + fake_base64(rng, rng.randint(1500, 6000))
        top['detaileddescription'] = Block('|-', wrap(long_text(rng, display, 'alert', 4), 80)
                                           + ['', '## Authentication',
                                              'Create an API key in the %s console.' % display])
    if it.flag and not it.misplaced:
        top['autoUpdateDockerImage'] = Raw(it.flag)
    if rng.random() < 0.6:
        order = ('category', 'sectionOrder', 'commonfields', 'configuration', 'description',
                 'detaileddescription', 'display', 'image', 'name', 'script', 'deprecated',
                 'fromversion', 'tests', 'autoUpdateDockerImage')
    else:
        order = ('commonfields', 'name', 'display', 'autoUpdateDockerImage', 'category',
                 'image', 'description', 'detaileddescription', 'deprecated', 'configuration',
                 'script', 'fromversion', 'tests', 'sectionOrder')
    root = Map((key, top[key]) for key in order if key in top)
    root.extend((key, top[key]) for key in top if key not in order)
    return root, cmd_info


def script_tree(it, rng, code_lines):
    args = Seq()
    argnames = []
    for j in range(rng.randint(0, 9) if it.name not in ('CommonServerPython',
                                                      'CommonServerUserPython') else 0):
        noun = rng.choice(SCRIPT_NOUNS).lower()
        an = noun if j == 0 else '%s_%s' % (noun, rng.choice(('list', 'field', 'limit', 'key')))
        if an in argnames:
            continue
        argnames.append(an)
        a = Map([('name', an), ('description', sentence(rng, ARG_DESCS, n=noun))])
        if j == 0 and rng.random() < 0.5:
            a.append(('default', True))
        if rng.random() < 0.2:
            a.append(('isArray', True))
        if rng.random() < 0.15:
            a.append(('auto', 'PREDEFINED'))
            a.append(('predefined', Seq(['true', 'false'])))
        args.append(a)
    if 'nested_key' in it.decoys:
        if not args:
            args.append(Map([('name', 'value'), ('description', 'The value.')]))
        args[0].append(('dockerimage', Raw(DECOY_IMAGE)))
    outputs = Seq()
    for f in rng.sample(FIELDS, rng.randint(0, 8 if rng.random() < 0.9 else 24)):
        outputs.append(Map([('contextPath', '%s.%s' % (it.name, f)),
                            ('description', sentence(rng, OUT_DESCS, n='value',
                                                     f=camel_words(f).lower())),
                            ('type', rng.choice(OUT_TYPES))]))
    comment = sentence(rng, ('Extracts the {n} from the given text.',
                             'Formats a {n} table for the war room.',
                             'Checks whether the {n} appears in the list.',
                             'Returns the {n} details as context.'), n=rng.choice(NOUNS))
    if it.deprecated:
        comment = 'Deprecated. ' + comment
    if 'quoted_text' in it.decoys:
        comment = 'Runs in the old image (dockerimage: %s) until the migration.' % DECOY_IMAGE
    if it.refuse == 'invalid_utf8':
        comment += ' Caf\udce9 edition.'
    s = {
        'args': args,
        'comment': comment,
        'commonfields': Map([('id', it.name), ('version', -1)]),
        'enabled': True,
        'name': it.name,
        'outputs': outputs,
        'script': Raw("'-'") if code_lines is None else Block(rng.choice(('|', '|-')), code_lines),
        'tags': Seq(rng.sample(('Utility', 'transformer', 'enrichment', 'email', 'phishing',
                                'infra', 'server'), rng.randint(0, 3))),
        'timeout': Raw(rng.choice(("'0'", '0s', '300ns'))),
        'type': it.lang,
        'runas': 'DBotWeakRole',
        'scripttarget': 0,
        'tests': Seq(['No tests (auto formatted)']),
    }
    if it.subtype:
        s['subtype'] = it.subtype
    if it.lang == 'javascript' and code_lines is not None:
        s['script'] = Block(rng.choice(('>', '>-')), code_lines)
    if it.fromversion:
        s['fromversion'] = Raw(it.fromversion)
    if it.deprecated:
        s['deprecated'] = True
    if it.flag:
        s['autoUpdateDockerImage'] = Raw(it.flag)
    if not outputs:
        del s['outputs']
    orders = (
        ('args', 'comment', 'commonfields', 'enabled', 'name', 'outputs', 'script', 'tags',
         'timeout', 'type', 'subtype', 'IMAGE', 'runas', 'deprecated', 'fromversion', 'tests',
         'autoUpdateDockerImage'),
        ('commonfields', 'name', 'script', 'type', 'subtype', 'tags', 'comment', 'enabled',
         'args', 'outputs', 'scripttarget', 'IMAGE', 'runas', 'autoUpdateDockerImage',
         'deprecated', 'fromversion', 'tests'),
        ('commonfields', 'name', 'autoUpdateDockerImage', 'IMAGE', 'script', 'type', 'subtype',
         'tags', 'comment', 'enabled', 'args', 'outputs', 'scripttarget', 'timeout',
         'fromversion', 'tests'),
    )
    order = rng.choice(orders)
    if it.last:
        order = tuple(k for k in orders[1] if k != 'IMAGE') + ('IMAGE',)
    root = Map()
    for key in order:
        if key == 'IMAGE':
            root.extend(image_keys(it, rng))
        elif key in s:
            root.append((key, s[key]))
    root.extend((key, s[key]) for key in s if key not in order)
    return root, argnames


def apply_refusal(it, root):
    """Turn a sound tree into one the editor must refuse; returns lines to add after it."""
    where = root
    if it.kind == 'integration':
        where = dict(root)['script']
    idx = [i for i, (k, _) in enumerate(where) if k == 'dockerimage'][0]
    img = where[idx][1]
    if it.refuse == 'anchor':
        img.pre = '&img '
    elif it.refuse == 'alias':
        where[idx] = ('dockerimage', Raw('*pyimg'))
        img.pre = '&pyimg '
        root.insert(0, ('x-default-image', img))
    elif it.refuse == 'block_scalar':
        img.block = True
    elif it.refuse == 'syntax_error':
        key = 'description' if it.kind == 'integration' else 'comment'
        i = [i for i, (k, _) in enumerate(root) if k == key][0]
        root.insert(i + 1, (None, Comment('  bad: indentation')))
    elif it.refuse == 'multi_document':
        return ['---', 'name: %s-second-document' % it.name, 'tests:', '- No tests']
    return []


# --------------------------------------------------------------------------------------------
# Code of the items.  Python code stays ASCII and valid under Python 2.7 and 3.x, because
# demisto/python items run it under Python 2.

PY_HEADER = ['import demistomock as demisto  # noqa: F401',
             'from CommonServerPython import *  # noqa: F401']

PY_HELPERS = (
    ('normalize_{n}', "    return str(value).strip().lower()",
     ((" Foo ", 'foo'), ('BAR', 'bar'))),
    ('split_{n}_list', "    return [v.strip() for v in str(value).split(',') if v.strip()]",
     (('a, b', ['a', 'b']), ('', []))),
    ('{n}_is_valid', "    return bool(value) and len(str(value)) <= 256",
     (('x', True), ('', False))),
)


def py_decoy_block():
    return ['', '# Example of an item definition, used by the docs command:',
            'SAMPLE_ITEM_YML = """',
            'dockerimage: %s' % DECOY_IMAGE,
            'autoUpdateDockerImage: false',
            '"""']


def py_helper(rng, it, noun):
    name, body, cases = rng.choice(PY_HELPERS)
    return name.format(n=noun), body, cases


def py_integration_code(it, rng, cmd_info):
    noun = cmd_info[0][1]
    helper, hbody, _ = it.helper = py_helper(rng, it, noun)
    out = list(PY_HEADER)
    if it.code == 'imports_yaml':
        out.append('import yaml  # the image must ship PyYAML')
    out += ['', "''' CONSTANTS '''", '', "DATE_FORMAT = '%Y-%m-%dT%H:%M:%SZ'",
            "VENDOR = '%s'" % it.vendor, "PAGE_SIZE = %d" % rng.choice((50, 100, 200))]
    if 'block_text' in it.decoys:
        out += py_decoy_block()
    out += ['', '', "''' CLIENT CLASS '''", '', '',
            'class Client(object):',
            '    """Client for the %s API. No request is sent by test-module."""' % it.vendor,
            '',
            '    def __init__(self, base_url, verify=True, proxy=False, headers=None):',
            "        self.base_url = (base_url or '').rstrip('/')",
            '        self.verify = verify',
            '        self.proxy = proxy',
            '        self.headers = headers or {}',
            '',
            '    def call(self, method, path, params=None):',
            "        return {'method': method, 'url': self.base_url + path, 'params': params or {}}",
            '', '', "''' HELPER FUNCTIONS '''", '', '',
            'def %s(value):' % helper, hbody, '']
    if it.code == 'imports_yaml':
        out += ['', 'def to_yaml(data):', '    return yaml.safe_dump(data, default_flow_style=False)', '']
    out += ['', "''' COMMAND FUNCTIONS '''", '', '', 'def test_module(client):']
    if it.code == 'error_entry':
        out += ['    if not client.base_url:',
                "        return_error('Server URL is not configured.')"]
    out += ["    return 'ok'", '']
    funcs = []
    for name, n, verb, argnames in cmd_info:
        fn = '%s_%s_command' % (verb, n)
        if fn in [f for _, f in funcs]:
            fn = '%s_%d' % (fn, len(funcs))
        funcs.append((name, fn))
        arg = argnames[0] if argnames else '%s_id' % n
        out += ['', 'def %s(client, args):' % fn,
                "    %s = args.get('%s')" % (n + '_value', arg),
                "    raw = client.call('%s', '/%ss', params={'%s': %s_value})"
                % ('GET' if verb in ('get', 'list', 'search', 'fetch') else 'POST', n, arg, n),
                "    outputs = {'id': %s_value, 'request': raw}" % n,
                '    return CommandResults(',
                "        outputs_prefix='%s.%s'," % (it.vendor, n.capitalize()),
                "        outputs_key_field='id',",
                '        outputs=outputs,',
                "        readable_output=tableToMarkdown('%s %s', outputs)," % (verb.capitalize(), n),
                '        raw_response=raw,',
                '    )', '']
    out += ['', "''' MAIN FUNCTION '''", '', '', 'def main():',
            '    params = demisto.params()',
            '    command = demisto.command()']
    if it.code == 'nameerror':
        out.append("    timeout = int(params.get('timeout') or DEFAULT_TIMEOUT)")
    out += ["    demisto.debug('Command being called is {}'.format(command))",
            '    commands = {']
    out += ["        '%s': %s," % (name, fn) for name, fn in funcs]
    out += ['    }',
            '    try:',
            "        client = Client(base_url=params.get('url'),",
            "                        verify=not params.get('insecure', False),",
            "                        proxy=params.get('proxy', False))",
            "        if command == 'test-module':",
            '            return_results(test_module(client))',
            '        elif command in commands:',
            '            return_results(commands[command](client, demisto.args()))',
            '        else:',
            "            raise NotImplementedError('Command {} is not implemented'.format(command))",
            '    except Exception as e:',
            "        return_error('Failed to execute {} command.\\nError:\\n{}'.format(command, str(e)))",
            '', '', "''' ENTRY POINT '''", '', '',
            "if __name__ in ('__main__', '__builtin__', 'builtins'):",
            '    main()']
    return out


def py_script_code(it, rng, argnames):
    noun = argnames[0] if argnames else 'value'
    helper, hbody, _ = it.helper = py_helper(rng, it, noun)
    func = re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', it.name).lower() + '_command'
    out = list(PY_HEADER)
    if it.code == 'imports_yaml':
        out.append('import yaml  # the image must ship PyYAML')
    if 'block_text' in it.decoys:
        out += py_decoy_block()
    out += ['', '', 'def %s(value):' % helper, hbody, '', '', 'def %s(args):' % func]
    if it.code == 'error_entry':
        out += ["    value = args.get('%s')" % noun,
                '    if not value:',
                "        return_error('Missing required argument: %s')" % noun]
    else:
        out.append("    value = args.get('%s') or 'example'" % noun)
    out += ["    limit = int(args.get('limit') or 10)",
            '    values = argToList(value)[:limit]',
            "    rows = [{'value': v, 'normalized': %s(v)} for v in values]" % helper]
    if it.code == 'imports_yaml':
        out.append("    rows.append({'value': 'yaml', 'normalized': yaml.safe_dump(values)})")
    out += ['    return CommandResults(',
            "        outputs_prefix='%s'," % it.name,
            "        outputs_key_field='value',",
            '        outputs=rows,',
            "        readable_output=tableToMarkdown('%s', rows)," % it.name,
            '    )', '', '', 'def main():']
    if it.code == 'nameerror':
        out.append("    limit = int(demisto.args().get('limit') or DEFAULT_LIMIT)")
    out += ['    try:',
            '        return_results(%s(demisto.args()))' % func,
            '    except Exception as ex:',
            "        return_error('Failed to execute %s. Error: {}'.format(str(ex)))" % it.name,
            '', '',
            "if __name__ in ('__main__', '__builtin__', 'builtins'):",
            '    main()']
    return out


def py_test_code(it):
    name, _, cases = it.helper
    lines = ['import pytest', '', 'from %s import %s' % (it.name, name), '', '',
             "@pytest.mark.parametrize('value, expected', ["]
    lines += ['    (%r, %r),' % c for c in cases]
    lines += ['])', 'def test_%s(value, expected):' % name,
              '    assert %s(value) == expected' % name]
    return '\n'.join(lines) + '\n'


def js_code(it):
    return ['var value = args.value || "";',
            'var items = value.split(",");',
            'var out = [];',
            'for (var i = 0; i < items.length; i++) {',
            '    out.push(items[i].trim());',
            '}',
            'return {Type: entryTypes.note, ContentsFormat: formats.json, Contents: out,'
            ' EntryContext: {"%s": out}};' % it.name]


def ps_code(it):
    return ['. $PSScriptRoot\\CommonServerPowerShell.ps1', '',
            'function Main {',
            '    $value = $demisto.Args().value',
            '    $demisto.Results(@{Type = 1; ContentsFormat = "text"; Contents = "ok: $value"})',
            '}', '',
            'if ($MyInvocation.ScriptName -notlike "*.tests.ps1" -AND -NOT $Test) {',
            '    Main',
            '}']


def fake_base64(rng, n):
    alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
    return ''.join(alphabet[int(rng.random() * 64)] for _ in range(n - n % 4))


def tiny_png():
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 1, 1, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(b'\x00\xfa\x58\x30')) + chunk(b'IEND', b''))


PNG = tiny_png()


# Packs/Base/Scripts/CommonServerPython/CommonServerPython.py is a copy of this small stand-in
# for the real module (Python 2.7 and 3.x), shared with other tests.
CSP_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'gen',
                          'CommonServerPython.py')


# --------------------------------------------------------------------------------------------
# Rendering: item files, pack files, and the manifest entries.

def encode_lines(lines, nl, final_newline, bom):
    text = nl.join(lines) + (nl if final_newline else '')
    return (BOM if bom else b'') + text.encode('utf-8', 'surrogateescape')


def locate(it, lines, mark, nl, bom):
    """Byte offsets of the image line, the image text and the tag in the encoded file."""
    loc = dict(line_offset=None, line_length=None, image_offset=None, image_length=None,
               tag_offset=None, tag_length=None)
    if mark is None:
        return loc
    li, col = mark
    enc = lambda s: len(s.encode('utf-8', 'surrogateescape'))
    line_off = (3 if bom else 0) + (enc(nl.join(lines[:li])) + len(nl) if li else 0)
    line = lines[li]
    text = image_text(it)
    assert line[col:col + len(text)] == text, (it.name, line, text)
    loc.update(line_offset=line_off, line_length=enc(line),
               image_offset=line_off + enc(line[:col]), image_length=enc(text))
    if it.tag:
        loc.update(tag_offset=loc['image_offset'] + enc(it.repo) + 1, tag_length=enc(it.tag))
    return loc


def expected_status(it):
    """The report status under built-in defaults when the registry has a newer tag."""
    if it.refuse:
        return 'unparseable'
    if it.repo is None:
        return 'no-image'
    if it.deprecated or it.hidden:
        return 'skipped'
    flag = FLAG_VALUES[it.flag] if it.flag else None
    if flag is False:
        return 'opted-out'
    if it.repo in DEFAULT_IMAGES:
        return 'bump'
    if flag is not True:
        return 'not-opted-in'
    if it.repo.split('/')[0] not in ALLOWED_NAMESPACES:
        return 'not-allowed'
    return 'bump'


def expected_d45(it, status):
    if it.d45:
        return 'kept'
    if status == 'bump' and (it.fromversion is None or vtuple(it.fromversion) < (5, 0, 0)):
        return 'added'
    return 'none'


def render_item(it, seed, k):
    """Files of one item, as (path, bytes) pairs, and its manifest entry."""
    rng = random.Random('%s/item/%s' % (seed, it.name))
    it.d45_value, it.alt_values = None, []
    integ = it.kind == 'integration'
    kind_dir = 'Integrations' if integ else 'Scripts'
    base = 'Packs/%s/%s' % (it.pack.dir, kind_dir)
    if it.layout == 'unified':
        ydir = None
        path = '%s/%s-%s.yml' % (base, 'integration' if integ else 'script', it.name)
        code_lines = []
    else:
        ydir = '%s/%s' % (base, it.name)
        path = '%s/%s.yml' % (ydir, it.name)
        code_lines = None
    if it.name == 'CommonServerPython':
        root = Map([('commonfields', Map([('id', it.name), ('version', -1)])),
                    ('name', it.name), ('script', Raw("'-'")), ('type', 'python'),
                    ('subtype', 'python3'), ('tags', Seq(['infra', 'server'])),
                    ('comment', 'Common code that will be merged into each server script when it runs.'),
                    ('system', True), ('scripttarget', 0), ('dependson', Map()),
                    ('timeout', Raw('0s'))])
        alt = Seq(['demisto/python3:3.7.3.286'])
        alt.comment = '# used for unit testing'
        it.alt_values = list(alt)
        root += [('alt_dockerimages', alt), ('tests', Seq(['No tests']))]
        with open(CSP_SOURCE, encoding='ascii') as f:
            code = f.read().split('\n')[:-1]
    elif integ:
        root, info = integration_tree(it, rng, code_lines)
        code = (py_integration_code(it, rng, info) if it.lang == 'python'
                else js_code(it) if it.lang == 'javascript' else ps_code(it))
    else:
        root, argnames = script_tree(it, rng, code_lines)
        if it.name == 'CommonServerUserPython':
            code = ['# Code shared by the scripts and integrations of this server.',
                    '# Empty on purpose.']
        else:
            code = (py_script_code(it, rng, argnames) if it.lang == 'python'
                    else js_code(it) if it.lang == 'javascript' else ps_code(it))
    if code_lines is not None:
        code_lines.extend(code)
    extra = apply_refusal(it, root) if it.refuse else []
    lines = ['---'] if it.doc_start else []
    em = Emitter(lines, unit=it.indent, seq_indent=it.seq_indent)
    em.mapping(root, 0)
    lines += extra
    nl = '\r\n' if it.newline == 'crlf' else '\n'
    data = encode_lines(lines, nl, it.final_newline, it.bom)
    files = [(path, data)]
    loc = locate(it, lines, em.mark, nl, it.bom)
    code_path = test_path = None
    if ydir:
        ext = {'python': '.py', 'javascript': '.js', 'powershell': '.ps1'}[it.lang]
        code_path = '%s/%s%s' % (ydir, it.name, ext)
        files.append((code_path, ('\n'.join(code) + '\n').encode('ascii')))
        if it.lang == 'python' and it.code != 'library':
            if it.test is None:
                it.test = rng.random() < k['test_files']
            if it.test:
                test_path = '%s/%s_test.py' % (ydir, it.name)
                files.append((test_path, py_test_code(it).encode('ascii')))
        if it.readme is None:
            it.readme = rng.random() < (k['readmes'] if integ else k['readmes'] / 3)
        if it.readme:
            files.append(('%s/README.md' % ydir, readme_text(it, rng).encode('utf-8')))
        if integ and rng.random() < 0.7:
            files.append(('%s/%s_description.md' % (ydir, it.name),
                          ('## %s\n\nTo configure an instance, create an API key in the %s '
                           'console.\n' % (it.display, it.vendor)).encode('utf-8')))
            files.append(('%s/%s_image.png' % (ydir, it.name), PNG))
    decoy_files = []
    if 'test_data' in it.decoys and ydir:
        dpath = '%s/test_data/sample_%s.yml' % (ydir, it.name.lower())
        files.append((dpath, ('commonfields:\n  id: Sample\n  version: -1\nname: Sample\n'
                              'script: \'-\'\ntype: python\nsubtype: python3\n'
                              'dockerimage: %s\n' % DECOY_IMAGE).encode('ascii')))
        decoy_files.append(dpath)
    status = expected_status(it)
    flag = FLAG_VALUES[it.flag] if it.flag else None
    entry = {
        'path': path, 'kind': it.kind, 'layout': it.layout, 'pack': it.pack.dir,
        'name': it.name, 'display': it.display, 'type': it.lang, 'subtype': it.subtype,
        'code_path': code_path, 'test_path': test_path,
        'image': it.repo, 'tag': it.tag,
        'location': (None if it.repo is None else
                     'script.dockerimage' if integ else 'dockerimage'),
        'default_image': it.repo in DEFAULT_IMAGES,
        'flag': flag, 'flag_text': it.flag, 'flag_misplaced': bool(it.flag and it.misplaced),
        'deprecated': it.deprecated, 'hidden_pack': it.hidden,
        'fromversion': it.fromversion,
        'has_dockerimage45': it.d45_value is not None, 'dockerimage45': it.d45_value,
        'alt_dockerimages': it.alt_values,
        'refuse_reason': it.refuse,
        'newline': it.newline, 'bom': it.bom, 'final_newline': it.final_newline,
        'quote': it.quote or None, 'after_value': it.comment + ' ' * it.trailing_spaces,
        'indent': it.indent,
        'code_kind': it.code if it.lang == 'python' else None,
        'decoys': sorted(it.decoys),
        'expect': {'status': status, 'dockerimage45': expected_d45(it, status)},
    }
    entry.update(loc)
    return files, entry, decoy_files


def readme_text(it, rng):
    lines = ['%s' % (it.display or it.name), '', sentence(rng, INT_DESCS, d=it.display or it.name,
                                                          n=rng.choice(NOUNS)), '']
    if it.kind == 'integration':
        lines += ['## Configure %s on Cortex XSOAR' % it.display, '',
                  '1. Navigate to **Settings** > **Integrations** > **Servers & Services**.',
                  '2. Search for %s.' % it.display, '3. Click **Add instance**.', '']
    lines += ['## Notes', '', 'Tested with the %s API v%d (%s).' % (
        it.vendor, rng.randint(1, 4), rng.choice(NON_ASCII)), '']
    return '\n'.join(lines)


def render_pack(p, seed, k):
    rng = random.Random('%s/pack/%s' % (seed, p.dir))
    major = rng.choice((1, 1, 1, 2, 3))
    minor = rng.randint(0, 9)
    patch = rng.choice((rng.randint(0, 40), 9, 19, 99)) if rng.random() < 0.3 else \
        rng.randint(0, 40)
    version = '%d.%d.%d' % (major, minor, patch)
    meta = [('name', p.display),
            ('description', '%s content pack: integrations and scripts for %s.%s' % (
                p.display, p.display, ' Übersicht: ' + rng.choice(NON_ASCII)
                if rng.random() < 0.05 else '')),
            ('support', rng.choice(('xsoar', 'xsoar', 'partner', 'community'))),
            ('currentVersion', version),
            ('author', 'Cortex XSOAR' if rng.random() < 0.7 else p.display),
            ('url', 'https://www.example.com/%s' % p.dir.lower()),
            ('email', ''),
            ('created', '20%02d-%02d-%02dT00:00:00Z' % (rng.randint(19, 24), rng.randint(1, 12),
                                                      rng.randint(1, 28))),
            ('categories', [rng.choice(CATEGORIES)]),
            ('tags', []),
            ('useCases', []),
            ('keywords', rng.sample(NOUNS, rng.randint(0, 4))),
            ('marketplaces', ['xsoar', 'marketplacev2'])]
    if p.hidden:
        meta.insert(rng.choice((4, len(meta))), ('hidden', True))
    final_nl = rng.random() < k['pack_final_newline']
    text = json.dumps(dict(meta), indent=4, ensure_ascii=False) + ('\n' if final_nl else '')
    data = text.encode('utf-8')
    path = 'Packs/%s/pack_metadata.json' % p.dir
    needle = b'"currentVersion": "'
    off = data.index(needle) + len(needle)
    files = [(path, data),
             ('Packs/%s/README.md' % p.dir,
              ('# %s\n\nThis pack contains %d integrations and scripts.\n'
               % (p.display, len(p.items))).encode('utf-8'))]
    notes = []
    if rng.random() < k['release_notes'] or p.dir == 'CommonScripts':
        for z in range(patch, max(-1, patch - rng.randint(1, 5)), -1):
            name = '%d_%d_%d.md' % (major, minor, z)
            notes.append(name)
            files.append(('Packs/%s/ReleaseNotes/%s' % (p.dir, name),
                          release_note(rng, p).encode('utf-8')))
    if rng.random() < 0.3:
        files.append(('Packs/%s/.pack-ignore' % p.dir, b'[file:README.md]\nignore=RM104\n'))
    entry = {'name': p.dir, 'display': p.display, 'path': path, 'hidden': p.hidden,
             'current_version': version, 'version_offset': off, 'version_length': len(version),
             'final_newline': final_nl,
             'release_notes': sorted(notes, key=lambda n: vtuple(n[:-3].replace('_', '.'))),
             'items': len(p.items)}
    return files, entry


def release_note(rng, p):
    items = [it for it in p.items if it.repo] or p.items
    out = ['']
    if not items:
        return '\n#### Scripts\n\n- Documentation and metadata improvements.\n'
    for kind, title in (('integration', 'Integrations'), ('script', 'Scripts')):
        these = [it for it in items if it.kind == kind][:2]
        if not these:
            continue
        out += ['#### ' + title, '']
        for it in these:
            out += ['##### ' + (it.display or it.name), '']
            if it.repo and rng.random() < 0.6:
                out.append('- Updated the Docker image to: *%s*.' % image_text(it))
            else:
                out.append('- Fixed an issue where the %s command failed on empty input.'
                           % it.name)
            out.append('')
    return '\n'.join(out)


# --------------------------------------------------------------------------------------------
# Generation, git, manifest.

def generate(opts, k):
    times = {}
    t0 = time.time()
    packs, items, tags = plan(opts, k)
    times['plan'] = time.time() - t0
    t = time.time()
    files, entries, decoys, pack_entries = [], [], [], []
    for f, e, d in render_all(items, packs, opts.seed, k, opts.jobs, opts.out):
        files += f
        if d is None:
            pack_entries.append(e)
        else:
            entries.append(e)
            decoys += d
    readme = [('README.md', b'# Synthetic content repository\n\nGenerated test data for '
               b'dockerbump (tests/bench/gen_content.py); not real content.\n')]
    write_files(opts.out, readme)
    files = sorted(files + readme)
    for (a, _), (b, _) in zip(files, files[1:]):
        if a == b:
            raise SystemExit('gen_content: internal error: two files at %s' % a)
    times['render+write'] = time.time() - t
    commit = None
    if opts.git:
        t = time.time()
        commit = git_commit(opts.out, files, 'Synthetic content repository (seed %s, %d packs, '
                            '%d items)\n' % (opts.seed, len(packs), len(items)))
        times['git'] = time.time() - t
    times['total'] = time.time() - t0
    cpu = os.times()
    times['cpu'] = cpu.user + cpu.system + cpu.children_user + cpu.children_system
    entries.sort(key=lambda e: e['path'])
    images = {}
    for e in entries:
        if e['image']:
            images.setdefault(e['image'], set()).add(e['tag'])
    counts = {
        'packs': len(packs), 'items': len(entries), 'files': len(files),
        'bytes': sum(len(d) for _, d in files),
        'yaml_bytes': sum(len(d) for p, d in files if p.endswith('.yml')),
        'by_kind': tally(e['kind'] for e in entries),
        'by_layout': tally(e['layout'] for e in entries),
        'by_image': tally(e['image'] or '-' for e in entries),
        'by_status': tally(e['expect']['status'] for e in entries),
        'by_refusal': tally(e['refuse_reason'] for e in entries if e['refuse_reason']),
    }
    size = dict((p, len(d)) for p, d in files)
    for kind in ('integration', 'script'):
        sizes = sorted(size[e['path']] for e in entries if e['kind'] == kind)
        if sizes:
            counts[kind + '_yaml_bytes'] = {'min': sizes[0], 'median': sizes[len(sizes) // 2],
                                            'max': sizes[-1]}
    manifest = {
        'version': 1,
        'generator': 'tests/bench/gen_content.py',
        'seed': opts.seed, 'small': opts.small, 'knobs': k,
        'commit': commit, 'branch': 'main' if commit else None,
        'counts': counts,
        'images': dict((r, sorted((t for t in images[r] if t), key=tag_key)
                        + ([None] if None in images[r] else [])) for r in sorted(images)),
        'common_server_python': 'Packs/Base/Scripts/CommonServerPython/CommonServerPython.py',
        'packs': sorted(pack_entries, key=lambda e: e['name']),
        'items': entries,
        'decoy_files': sorted(decoys),
    }
    return manifest, times


_FORK_WORK = None   # (function, arguments) for forked workers


def fork_map(func, args, n, jobs):
    """func(args, lo, hi) over slices of range(n), concatenated in order; in forked worker
    processes when jobs > 1 and n is large enough to pay for them."""
    global _FORK_WORK
    if jobs <= 1 or n < 500 or 'fork' not in multiprocessing.get_all_start_methods():
        return func(args, 0, n)
    _FORK_WORK = (func, args)
    step = (n + 4 * jobs - 1) // (4 * jobs)
    try:
        with multiprocessing.get_context('fork').Pool(jobs) as pool:
            parts = pool.map(_fork_call, [(i, min(n, i + step)) for i in range(0, n, step)])
    finally:
        _FORK_WORK = None
    return [r for part in parts for r in part]


def _fork_call(bounds):
    func, args = _FORK_WORK
    return func(args, *bounds)


def render_all(items, packs, seed, k, jobs, out):
    """Render every item and pack and write their files under out.  Each item and pack has
    its own random stream, so the output does not depend on how the work is split."""
    return fork_map(_render_slice, (items, packs, seed, k, out), len(items) + len(packs), jobs)


def _render_slice(work, lo, hi):
    items, packs, seed, k, out = work
    results = []
    for i in range(lo, hi):
        if i < len(items):
            results.append(render_item(items[i], seed, k))
        else:
            results.append(render_pack(packs[i - len(items)], seed, k) + (None,))
    write_files(out, [f for r in results for f in r[0]])
    return results


def write_manifest(path, manifest):
    """JSON with one pack or item per line: readable, diffable, and fast to write (json's
    indenting encoder is pure Python)."""
    def dumps(v):
        return json.dumps(v, ensure_ascii=False, sort_keys=False)
    parts = []
    for key, value in manifest.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            body = '[\n  ' + ',\n  '.join(dumps(v) for v in value) + '\n ]'
        else:
            body = dumps(value)
        parts.append(' %s: %s' % (dumps(key), body))
    with open(path, 'w', encoding='utf-8') as f:
        f.write('{\n' + ',\n'.join(parts) + '\n}\n')


def tally(values):
    out = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))


def tag_key(tag):
    parts = tag.split('.')
    if all(p.isdigit() for p in parts):
        return (0, [int(p) for p in parts], tag)
    return (1, [], tag)


def write_files(out, files):
    made = set()
    for path, data in files:
        full = os.path.join(out, *path.split('/'))
        d = os.path.dirname(full)
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)


def git_env():
    env = dict(os.environ)
    for var in ('GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY',
                'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_CEILING_DIRECTORIES'):
        env.pop(var, None)
    # Neither the user's nor the system's configuration (templates, hooks, signing) applies.
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM='1', LC_ALL='C')
    return env


def git(out, *args, **kw):
    return subprocess.run(('git', '-C', out) + args, env=git_env(), check=True,
                          stdout=subprocess.PIPE, **kw).stdout


def git_commit(out, files, message):
    """One commit of all files on branch main, through fast-import; returns its id."""
    git(out, 'init', '-q', '-b', 'main')
    git(out, 'config', 'core.autocrlf', 'false')
    # glibc's malloc gives memory back after every large blob, and fast-import then spends
    # most of its time in brk(); a large trim threshold makes it ten times faster.
    env = dict(git_env(), MALLOC_TOP_PAD_='268435456', MALLOC_TRIM_THRESHOLD_='536870912')
    proc = subprocess.Popen(('git', '-C', out, '-c', 'pack.compression=1', 'fast-import',
                             '--quiet', '--done'), stdin=subprocess.PIPE, env=env,
                            bufsize=1 << 20)
    w = proc.stdin.write
    msg = message.encode('utf-8')
    who = AUTHOR.encode('utf-8')
    w(b'commit refs/heads/main\nauthor %s\ncommitter %s\ndata %d\n%s\n'
      % (who, who, len(msg), msg))
    for path, data in files:
        w(b'M 100644 inline %s\ndata %d\n' % (path.encode('utf-8'), len(data)))
        w(data)
        w(b'\n')
    w(b'done\n')
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit('gen_content: git fast-import failed in %s' % out)
    git(out, 'reset', '-q')     # the index now matches HEAD and the files on disk
    return git(out, 'rev-parse', 'HEAD').decode('ascii').strip()


# --------------------------------------------------------------------------------------------
# --check: re-read the files and prove the manifest right.

def check(out, manifest_path, jobs):
    with open(manifest_path, encoding='utf-8') as f:
        man = json.load(f)
    try:
        import yaml
    except ImportError:
        yaml = None
    problems = fork_map(_check_slice, (out, man['items'], yaml is not None),
                        len(man['items']), jobs)
    for p in man['packs']:
        with open(os.path.join(out, p['path']), 'rb') as f:
            data = f.read()
        v = data[p['version_offset']:p['version_offset'] + p['version_length']]
        meta = json.loads(data.decode('utf-8'))
        if v != p['current_version'].encode() or meta['currentVersion'] != p['current_version']:
            problems.append('%s: currentVersion is not at the recorded offset' % p['path'])
        if bool(meta.get('hidden')) != p['hidden']:
            problems.append('%s: hidden is %r' % (p['path'], meta.get('hidden')))
        if data.endswith(b'\n') != p['final_newline']:
            problems.append('%s: final newline' % p['path'])
    for path in man['decoy_files']:
        with open(os.path.join(out, path), 'rb') as f:
            if DECOY_IMAGE.encode() not in f.read():
                problems.append('%s: decoy text missing' % path)
    if man.get('commit'):
        head = git(out, 'rev-parse', 'HEAD').decode().strip()
        if head != man['commit']:
            problems.append('HEAD is %s, the manifest says %s' % (head, man['commit']))
    for p in problems:
        print('check: ' + p, file=sys.stderr)
    print('check: %d items, %d packs: %s%s' % (
        len(man['items']), len(man['packs']), 'FAILED (%d problems)' % len(problems)
        if problems else 'ok', '' if yaml else ' (bytes only: PyYAML is not importable)'))
    return 1 if problems else 0


def _check_slice(work, lo, hi):
    out, items, use_yaml = work
    yaml = None
    if use_yaml:
        import yaml
    problems = []
    for e in items[lo:hi]:
        with open(os.path.join(out, e['path']), 'rb') as f:
            data = f.read()
        found = check_bytes(e, data)
        if yaml is not None and not found:
            found = check_yaml(e, data, yaml)
        problems += ['%s: %s' % (e['path'], p) for p in found]
    return problems


def check_bytes(e, data):
    """The byte-level facts: BOM, line endings, and that every offset points at its text."""
    out = []
    if data.startswith(BOM) != e['bom']:
        out.append('BOM')
    crlf = data.count(b'\r\n')
    if (e['newline'] == 'crlf') != (crlf > 0) or crlf not in (0, data.count(b'\n')) \
            or data.count(b'\r') != crlf:
        out.append('line endings are not all %s' % e['newline'])
    if data.endswith(b'\n') != e['final_newline']:
        out.append('final newline')
    if e['image'] is None:
        if any(e[x] is not None for x in ('line_offset', 'image_offset', 'tag_offset')):
            out.append('offsets for an item without an image')
        return out
    img = (e['image'] + (':' + e['tag'] if e['tag'] else '')).encode('utf-8')
    io, lo, ll = e['image_offset'], e['line_offset'], e['line_length']
    if data[io:io + e['image_length']] != img or e['image_length'] != len(img):
        out.append('image_offset does not point at %r' % img)
    if e['tag']:
        to, tl = e['tag_offset'], e['tag_length']
        if data[to:to + tl] != e['tag'].encode() or to + tl != io + len(img):
            out.append('tag_offset does not point at the tag')
    elif e['tag_offset'] is not None:
        out.append('tag_offset without a tag')
    line = data[lo:lo + ll]
    if not (lo <= io and io + len(img) <= lo + ll) or b'\n' in line or b'\r' in line \
            or data[lo - 1:lo] not in (b'', b'\n', b'\xbf') \
            or data[lo + ll:lo + ll + 1] not in (b'', b'\r', b'\n'):
        out.append('line_offset/line_length are not the image line')
        return out
    before, after = data[lo:io], data[io + len(img):lo + ll]
    q = (e['quote'] or '').encode()
    if e['refuse_reason'] == 'alias':
        key = rb' *x-default-image: &pyimg ' + re.escape(q) + rb'$'
    elif e['refuse_reason'] == 'block_scalar':
        key = rb' +$'
        if not data[:lo].rstrip(b'\r\n').endswith(b'dockerimage: >-'):
            out.append('block scalar header missing')
    elif e['refuse_reason'] == 'anchor':
        key = rb' *dockerimage: &img ' + re.escape(q) + rb'$'
    else:
        key = rb' *dockerimage: ' + re.escape(q) + rb'$'
    if not re.match(key, before) or after != q + e['after_value'].encode('utf-8'):
        out.append('the image line is not `dockerimage: <image>`: %r' % line)
    return out


class DuplicateKey(Exception):
    pass


def mapping_fields(node):
    """{key: value node} of a mapping node; DuplicateKey when a key repeats."""
    out = {}
    for k, v in node.value:
        if k.value in out:
            raise DuplicateKey(k.value)
        out[k.value] = v
    return out


def check_yaml(e, data, yaml):
    """The YAML-level facts, parsed with PyYAML (libyaml's parser when available).  Only the
    nodes on the image's path are turned into values: constructing whole documents in
    Python would take most of the time."""
    reason = e['refuse_reason']
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        return [] if reason == 'invalid_utf8' else ['invalid UTF-8']
    if text.startswith('\ufeff'):
        text = text[1:]
    base = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
    loader = base(text)
    try:
        docs = []
        while loader.check_node():
            docs.append(loader.get_node())
    except yaml.YAMLError as ex:
        return [] if reason == 'syntax_error' else ['YAML error: %s' % ex]
    finally:
        loader.dispose()
    if reason in ('invalid_utf8', 'syntax_error'):
        return ['parses, but should fail as %s' % reason]
    if len(docs) != 1:
        return [] if reason == 'multi_document' else ['%d documents' % len(docs)]
    if reason == 'multi_document':
        return ['one document']
    if not isinstance(docs[0], yaml.MappingNode):
        return ['the document is not a mapping']
    try:
        root = mapping_fields(docs[0])
        script = root.get('script')
        nested = mapping_fields(script) if isinstance(script, yaml.MappingNode) else {}
    except DuplicateKey as ex:
        return [] if reason == 'duplicate_key' else ['duplicate key %s' % ex]
    if reason == 'duplicate_key':
        return ['no duplicate key on the path']
    out = []
    image = e['image'] + (':' + e['tag'] if e['tag'] else '') if e['image'] else None
    if reason in ('anchor', 'alias', 'block_scalar'):
        events = list(yaml.parse(text, Loader=base))
        if reason == 'anchor' and not any(isinstance(ev, yaml.ScalarEvent) and ev.anchor == 'img'
                                          and ev.value == image for ev in events):
            out.append('no anchor on the image')
        if reason == 'alias' and not any(isinstance(ev, yaml.AliasEvent) for ev in events):
            out.append('no alias')
        if reason == 'block_scalar' and not any(isinstance(ev, yaml.ScalarEvent)
                                                and ev.style == '>' and ev.value == image
                                                for ev in events):
            out.append('no block scalar image')
    con = yaml.constructor.SafeConstructor()

    def value(fields, key, default=None):
        return con.construct_object(fields[key], deep=True) if key in fields else default

    kind = 'integration' if 'configuration' in root or nested else 'script'
    if kind != e['kind']:
        out.append('kind is %s' % kind)
    where = nested if kind == 'integration' else root
    facts = {
        'image': value(where, 'dockerimage'),
        'name': value(root, 'name'),
        'display': value(root, 'display') if kind == 'integration' else None,
        'deprecated': value(root, 'deprecated', False),
        'fromversion': value(root, 'fromversion'),
        'dockerimage45': value(where, 'dockerimage45'),
        'alt_dockerimages': value(where, 'alt_dockerimages', []),
    }
    want = dict(e, image=image)
    for key, got in facts.items():
        if got != want[key]:
            out.append('%s is %r, the manifest says %r' % (key, got, want[key]))
    top = value(root, 'autoUpdateDockerImage')
    flag = value(nested, 'autoUpdateDockerImage') if e['flag_misplaced'] else top
    if e['flag_misplaced'] and top is not None:
        out.append('misplaced flag also at the top level')
    if flag == 'false':
        flag = False
    if flag != e['flag']:
        out.append('flag is %r' % flag)
    return out


# --------------------------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog='gen_content.py',
        description='Generate a synthetic Cortex XSOAR content repository (see README.md).')
    ap.add_argument('out', nargs='?', metavar='OUT_DIR',
                    help='the directory to create (must not exist or be empty)')
    ap.add_argument('--packs', type=int, help='number of packs (default 1200; --small: 8)')
    ap.add_argument('--items', type=int,
                    help='number of integrations and scripts (default 4500; --small: %d)'
                    % (len(FEATURES) + 2))
    ap.add_argument('--seed', default='1', help='random seed, any string (default 1)')
    ap.add_argument('--small', action='store_true',
                    help='a small repository with one item per variant, for end-to-end tests')
    ap.add_argument('--git', action='store_true',
                    help='make OUT_DIR a git repository with one reproducible commit on main')
    ap.add_argument('--manifest', metavar='FILE', help='write (or, with --check, read) the JSON manifest')
    ap.add_argument('--check', action='store_true',
                    help='verify an existing OUT_DIR against --manifest instead of generating')
    ap.add_argument('--set', action='append', default=[], metavar='KNOB=VALUE',
                    help='override a proportion (VALUE is JSON); see --print-knobs')
    ap.add_argument('--print-knobs', action='store_true', help='print the knobs and exit')
    ap.add_argument('--jobs', type=int, default=min(os.cpu_count() or 1, 8),
                    help='worker processes (default: the CPU count, at most 8)')
    ap.add_argument('-q', '--quiet', action='store_true', help='no summary on stderr')
    opts = ap.parse_args(argv)
    if opts.print_knobs:
        return opts
    if not opts.out:
        ap.error('OUT_DIR is required')
    if opts.check and not opts.manifest:
        ap.error('--check needs --manifest FILE')
    if opts.packs is None:
        opts.packs = 8 if opts.small else 1200
    if opts.items is None:
        opts.items = len(FEATURES) + 2 if opts.small else 4500
    if opts.packs < 1 or opts.items < 1:
        ap.error('--packs and --items must be positive')
    return opts


def knobs(settings):
    k = json.loads(json.dumps(KNOBS))
    for s in settings:
        key, sep, value = s.partition('=')
        if not sep or key not in k:
            raise SystemExit('gen_content: unknown knob %r (see --print-knobs)' % key)
        try:
            k[key] = json.loads(value)
        except ValueError:
            raise SystemExit('gen_content: --set %s: the value must be JSON' % key)
        if type(k[key]) is not type(KNOBS[key]) and not (
                isinstance(KNOBS[key], float) and isinstance(k[key], int)):
            raise SystemExit('gen_content: --set %s: expected a %s' % (key, type(KNOBS[key]).__name__))
    return k


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    if opts.print_knobs:
        print(json.dumps(KNOBS, indent=2))
        return 0
    if opts.check:
        return check(opts.out, opts.manifest, opts.jobs)
    k = knobs(opts.set)
    if os.path.exists(opts.out) and os.listdir(opts.out):
        raise SystemExit('gen_content: %s exists and is not empty' % opts.out)
    manifest, times = generate(opts, k)
    if opts.manifest:
        write_manifest(opts.manifest, manifest)
    if not opts.quiet:
        c = manifest['counts']
        print('gen_content: %d packs, %d items (%s), %d files, %.1f MB (%.1f MB YAML) in %s'
              % (c['packs'], c['items'], ', '.join('%d %ss' % (n, kind) for kind, n in
                                                    c['by_kind'].items()),
                 c['files'], c['bytes'] / 1e6, c['yaml_bytes'] / 1e6,
                 ', '.join('%s %.2fs' % kv for kv in times.items())), file=sys.stderr)
        if manifest['commit']:
            print('gen_content: commit %s on main' % manifest['commit'], file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
