#!/usr/bin/env python3
"""A content repository for verification, from real content.

Copies the real items, CommonServerPython and demistomock of the shared corpus
(`../shared/corpus/verify-real/`: third-party files, read at run time and never
part of this project), then adds generated items that use the real
CommonServerPython the way real items do (tables, command results, argument
helpers, errors through return_error), so that a run can be scaled to the
size of a real bump.

    verify_content.py CORPUS OUT_DIR [--items N] [--image IMAGE] [--per-pack N]

Generated items are scripts and integrations (one in four) named GenNNNN, in
packs GenPackNN; every one of them runs clean (`ok`) at the load level in an
image with the packages CommonServerPython imports. Python 3.6+ standard
library only.
"""
import argparse
import os
import shutil
import sys

SCRIPT = '''import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401


def summarize(values):
    rows = [{{'value': v, 'square': v * v, 'item': 'Gen{n:04d}'}} for v in values]
    return tableToMarkdown('Gen{n:04d}', rows, headers=['item', 'value', 'square'])


def main():
    try:
        values = argToList(demisto.args().get('values') or '{a},{b},{c}')
        numbers = [arg_to_number(v) for v in values]
        return_results(CommandResults(
            outputs_prefix='Gen{n:04d}',
            outputs_key_field='value',
            outputs=[{{'value': n}} for n in numbers],
            readable_output=summarize(numbers),
        ))
    except Exception as e:
        return_error('Gen{n:04d} failed: {{}}'.format(e))


if __name__ in ('__main__', '__builtin__', 'builtins'):
    main()
'''

INTEGRATION = '''import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401


class Client(BaseClient):
    def health(self):
        return {{'status': 'ok', 'id': {n}}}


def test_module(client):
    return 'ok' if client.health().get('status') == 'ok' else 'not ok'


def main():
    params = demisto.params()
    client = Client(base_url=params.get('url') or 'https://gen{n:04d}.invalid',
                    verify=not params.get('insecure', False), proxy=False)
    command = demisto.command()
    try:
        if command == 'test-module':
            return_results(test_module(client))
        else:
            raise NotImplementedError('{{}} is not implemented'.format(command))
    except Exception as e:
        return_error('Gen{n:04d}: {{}}'.format(e))


if __name__ in ('__main__', '__builtin__', 'builtins'):
    main()
'''

SCRIPT_YML = '''commonfields:
  id: Gen{n:04d}
  version: -1
name: Gen{n:04d}
script: '-'
type: python
subtype: python3
tags: []
comment: Generated item {n} for verification benchmarks.
enabled: true
args:
- name: values
  description: Comma-separated numbers.
scripttarget: 0
dockerimage: {image}
fromversion: 6.0.0
'''

INTEGRATION_YML = '''commonfields:
  id: Gen{n:04d}
  version: -1
name: Gen{n:04d}
display: Gen {n:04d}
category: Utilities
description: Generated integration {n} for verification benchmarks.
configuration:
- display: Server URL
  name: url
  type: 0
  required: false
script:
  script: '-'
  type: python
  subtype: python3
  commands: []
  dockerimage: {image}
fromversion: 6.0.0
'''


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('corpus', help='the verify-real corpus folder')
    ap.add_argument('out', help='the repository to write (must not exist)')
    ap.add_argument('--items', type=int, default=500, help='generated items')
    ap.add_argument('--image', default='demisto/python3:3.11.2.200001')
    ap.add_argument('--per-pack', type=int, default=20)
    args = ap.parse_args(argv)
    if os.path.exists(args.out) and os.listdir(args.out):
        sys.exit('%s: not empty' % args.out)
    for top in ('Packs', 'Tests'):
        shutil.copytree(os.path.join(args.corpus, top), os.path.join(args.out, top))
    for root, dirs, files in os.walk(args.out):
        for name in dirs + files:
            path = os.path.join(root, name)
            os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
    for n in range(1, args.items + 1):
        integration = n % 4 == 0
        kind = 'Integrations' if integration else 'Scripts'
        pack = 'GenPack%02d' % ((n - 1) // args.per_pack + 1)
        folder = os.path.join(args.out, 'Packs', pack, kind, 'Gen%04d' % n)
        os.makedirs(folder)
        code = (INTEGRATION if integration else SCRIPT).format(
            n=n, a=n, b=n + 1, c=n * 2)
        yml = (INTEGRATION_YML if integration else SCRIPT_YML).format(
            n=n, image=args.image)
        with open(os.path.join(folder, 'Gen%04d.py' % n), 'w') as f:
            f.write(code)
        with open(os.path.join(folder, 'Gen%04d.yml' % n), 'w') as f:
            f.write(yml)
        meta = os.path.join(args.out, 'Packs', pack, 'pack_metadata.json')
        if not os.path.exists(meta):
            with open(meta, 'w') as f:
                f.write('{\n    "name": "%s",\n    "currentVersion": "1.0.0"\n}\n'
                        % pack)
    return 0


if __name__ == '__main__':
    sys.exit(main())
