#!/usr/bin/env python3
"""Tests of gen_content.py: the small repository has every variant, the manifest is exact,
the output is reproducible, and the generated code behaves as its code_kind says.

    python3 tests/bench/test_gen_content.py [-v]
    GEN_CONTENT_FULL=1 python3 tests/bench/test_gen_content.py   # also the default size
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, 'gen_content.py')
sys.path.insert(0, HERE)
import gen_content  # noqa: E402

# Runs one item's code the way the server would, against a recording stand-in for
# demistomock, and prints the outcome: ok, error-entry, or the exception type.
RUNNER = r'''
import sys, types
csp_path, code_path, command = sys.argv[1:4]
entries = []
mock = types.ModuleType('demistomock')
mock.params = lambda: {}
mock.args = lambda: {}
mock.command = lambda: command
mock.results = lambda x: entries.append(x)
mock.debug = mock.info = mock.error = lambda *a, **k: None
sys.modules['demistomock'] = mock
csp = types.ModuleType('CommonServerPython')
exec(compile(open(csp_path).read(), csp_path, 'exec'), csp.__dict__)
sys.modules['CommonServerPython'] = csp
outcome = 'ok'
try:
    exec(compile(open(code_path).read(), code_path, 'exec'), {'__name__': '__main__'})
except SystemExit:
    pass
except Exception as e:
    outcome = type(e).__name__
if outcome == 'ok' and any(isinstance(x, dict) and x.get('Type') == 4 for x in entries):
    outcome = 'error-entry'
if outcome == 'ok' and not entries:
    outcome = 'no-result'
sys.stdout.write(outcome + '\n')
'''


def generate(out, *args):
    subprocess.run([sys.executable, GEN, out, '-q'] + list(args), check=True)


def tree(root):
    out = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != '.git']
        for f in files:
            p = os.path.join(d, f)
            with open(p, 'rb') as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


class SmallRepository(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='gen-content-')
        cls.out = os.path.join(cls.tmp, 'repo')
        cls.manifest_path = os.path.join(cls.tmp, 'manifest.json')
        generate(cls.out, '--small', '--git', '--manifest', cls.manifest_path)
        with open(cls.manifest_path) as f:
            cls.m = json.load(f)
        cls.items = cls.m['items']

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_check_passes(self):
        r = subprocess.run([sys.executable, GEN, self.out, '--check', '--manifest',
                            self.manifest_path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_check_catches_a_wrong_offset(self):
        broken = json.loads(json.dumps(self.m))
        e = next(e for e in broken['items'] if e['tag'])
        e['tag_offset'] += 1
        path = os.path.join(self.tmp, 'broken.json')
        with open(path, 'w') as f:
            json.dump(broken, f)
        r = subprocess.run([sys.executable, GEN, self.out, '--check', '--manifest', path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(r.returncode, 1)

    def test_every_variant_is_present(self):
        def has(pred):
            return any(pred(e) for e in self.items)
        want = {
            'refusal %s' % r: (lambda e, r=r: e['refuse_reason'] == r)
            for r in gen_content.REFUSALS}
        want.update({'flag %s' % s: (lambda e, s=s: e['flag_text'] == s)
                     for s in gen_content.FLAG_FALSE_SPELLINGS + ('true',)})
        want.update({'status %s' % s: (lambda e, s=s: e['expect']['status'] == s)
                     for s in ('bump', 'opted-out', 'not-opted-in', 'not-allowed', 'no-image',
                               'skipped', 'unparseable')})
        want.update({'fromversion %s' % v: (lambda e, v=v: e['fromversion'] == v)
                     for v in (None, '4.5.0', '5.0.0', '6.5.0', '6.10.0')})
        want.update({'code %s' % c: (lambda e, c=c: e['code_kind'] == c)
                     for c in ('ok', 'imports_yaml', 'nameerror', 'error_entry')})
        want.update({
            'misplaced false': lambda e: e['flag_misplaced'] and e['flag'] is False,
            'misplaced true': lambda e: e['flag_misplaced'] and e['flag'] is True,
            'dockerimage45 added': lambda e: e['expect']['dockerimage45'] == 'added',
            'dockerimage45 kept': lambda e: e['expect']['dockerimage45'] == 'kept',
            'dockerimage45 added with crlf': lambda e: (e['expect']['dockerimage45'] == 'added'
                                                         and e['newline'] == 'crlf'),
            'alt_dockerimages': lambda e: e['alt_dockerimages'] and e['image'],
            'crlf': lambda e: e['newline'] == 'crlf',
            'bom': lambda e: e['bom'],
            "single quotes": lambda e: e['quote'] == "'",
            'double quotes': lambda e: e['quote'] == '"',
            'comment after value': lambda e: '#' in e['after_value'],
            'spaces after value': lambda e: e['after_value'].strip() == '' and e['after_value'],
            'image line last, no final newline': lambda e: (
                not e['final_newline'] and e['line_offset'] is not None),
            'indent 4': lambda e: e['indent'] == 4,
            'unified integration': lambda e: e['layout'] == 'unified' and e['kind'] == 'integration' and e['image'],
            'unified script': lambda e: e['layout'] == 'unified' and e['kind'] == 'script' and e['image'],
            'decoy in block scalar': lambda e: 'block_text' in e['decoys'],
            'decoy comment line': lambda e: 'comment_line' in e['decoys'],
            'decoy quoted text': lambda e: 'quoted_text' in e['decoys'],
            'decoy nested key': lambda e: 'nested_key' in e['decoys'],
            'python2': lambda e: e['image'] == 'demisto/python' and e['tag'].startswith('2.7'),
            'alpine tag': lambda e: e['tag'] == '1.3-alpine',
            'latest tag': lambda e: e['tag'] == 'latest',
            'no tag': lambda e: e['image'] and e['tag'] is None,
            'devdemisto': lambda e: (e['image'] or '').startswith('devdemisto/'),
            'javascript': lambda e: e['type'] == 'javascript',
            'powershell': lambda e: e['type'] == 'powershell',
            'deprecated': lambda e: e['deprecated'],
            'hidden pack': lambda e: e['hidden_pack'],
            'test file': lambda e: e['test_path'],
            'build 4-6 digits': lambda e: (e['image'] == 'demisto/python3' and e['tag'] != 'latest'
                                           and len(e['tag'].split('.')[-1]) <= 6),
            'build 7-8 digits': lambda e: (e['image'] == 'demisto/python3' and e['tag'] != 'latest'
                                           and len(e['tag'].split('.')[-1]) >= 7),
        })
        missing = [name for name, pred in want.items() if not has(pred)]
        self.assertEqual(missing, [])
        self.assertTrue(self.m['decoy_files'])
        self.assertTrue(any(p['hidden'] for p in self.m['packs']))
        self.assertTrue(any(not p['final_newline'] for p in self.m['packs']))

    def test_replacing_the_tag_bytes_changes_only_the_tag(self):
        # What the tool does, by hand: splice a new tag at tag_offset; the YAML must then
        # read the new image at the item's location and nothing else may differ.
        try:
            import yaml
        except ImportError:
            self.skipTest('PyYAML is not importable')
        loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
        done = 0
        for e in self.items:
            if not e['tag'] or e['refuse_reason']:
                continue
            with open(os.path.join(self.out, e['path']), 'rb') as f:
                data = f.read()
            new = (data[:e['tag_offset']] + b'9.9.9.99999999'
                   + data[e['tag_offset'] + e['tag_length']:])
            old_doc = yaml.load(data.decode('utf-8-sig'), Loader=loader)
            new_doc = yaml.load(new.decode('utf-8-sig'), Loader=loader)
            where = (lambda d: d['script']) if e['kind'] == 'integration' else (lambda d: d)
            self.assertEqual(where(new_doc)['dockerimage'], e['image'] + ':9.9.9.99999999')
            where(new_doc)['dockerimage'] = where(old_doc)['dockerimage']
            self.assertEqual(new_doc, old_doc, e['path'])
            done += 1
        self.assertGreater(done, 20)

    def test_git_repository(self):
        git = ['git', '-C', self.out]
        head = subprocess.check_output(git + ['rev-parse', 'HEAD']).decode().strip()
        self.assertEqual(head, self.m['commit'])
        branch = subprocess.check_output(git + ['symbolic-ref', 'HEAD']).decode().strip()
        self.assertEqual(branch, 'refs/heads/main')
        subprocess.run(git + ['fsck', '--strict', '--no-progress'], check=True,
                       stdout=subprocess.DEVNULL)
        status = subprocess.check_output(git + ['status', '--porcelain']).decode()
        self.assertEqual(status, '')

    def test_reproducible(self):
        again = os.path.join(self.tmp, 'again')
        path = os.path.join(self.tmp, 'again.json')
        generate(again, '--small', '--git', '--manifest', path)
        with open(path) as f:
            self.assertEqual(json.load(f), self.m)
        self.assertEqual(tree(again), tree(self.out))
        other = os.path.join(self.tmp, 'other')
        generate(other, '--small', '--seed', '2')
        self.assertNotEqual(tree(other), tree(self.out))

    def run_items(self, python, items):
        """Run each item's code under `python`; compare the outcome with its code_kind."""
        csp = os.path.join(self.out, self.m['common_server_python'])
        has_yaml = subprocess.run([python, '-c', 'import yaml'],
                                  stderr=subprocess.DEVNULL).returncode == 0
        expected = {'ok': 'ok', 'error_entry': 'error-entry', 'nameerror': 'NameError',
                    'imports_yaml': 'ok' if has_yaml else 'ImportError'}
        ran = 0
        for e in items:
            if e['code_kind'] not in expected or not e['code_path']:
                continue
            command = 'test-module' if e['kind'] == 'integration' else ''
            r = subprocess.run([python, '-c', RUNNER, csp,
                                os.path.join(self.out, e['code_path']), command],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True)
            self.assertEqual((e['path'], r.stdout.strip()),
                             (e['path'], expected[e['code_kind']]), r.stderr)
            ran += 1
        return ran

    def test_code_behaves_as_its_code_kind(self):
        self.assertGreater(self.run_items(sys.executable, self.items), 10)

    def test_code_under_python2(self):
        # demisto/python items run under Python 2.7; so does CommonServerPython there.
        # PYTHON2 names the interpreter (default: python2.7 on PATH).
        py2 = os.environ.get('PYTHON2', 'python2.7')
        try:
            subprocess.run([py2, '-c', 'import sys; assert sys.version_info[0] == 2'],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError):
            self.skipTest('no Python 2.7 (set PYTHON2)')
        self.assertGreater(self.run_items(py2, self.items), 10)


@unittest.skipUnless(os.environ.get('GEN_CONTENT_FULL'), 'set GEN_CONTENT_FULL=1')
class DefaultSize(unittest.TestCase):
    def test_default_size(self):
        tmp = tempfile.mkdtemp(prefix='gen-content-')
        try:
            out, path = os.path.join(tmp, 'repo'), os.path.join(tmp, 'm.json')
            generate(out, '--manifest', path)
            subprocess.run([sys.executable, GEN, out, '--check', '--manifest', path], check=True)
            with open(path) as f:
                m = json.load(f)
            self.assertEqual(m['counts']['items'], 4500)
            self.assertEqual(m['counts']['packs'], 1200)
            share = m['counts']['by_image']['demisto/python3'] / 4500.0
            self.assertTrue(0.8 < share < 0.9, share)
        finally:
            shutil.rmtree(tmp)


if __name__ == '__main__':
    unittest.main()
