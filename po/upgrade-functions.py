#!/usr/bin/env python3
"""Print CREATE OR REPLACE FUNCTION statements, taken from the SQL sources of
the working tree, for every function whose definition differs from the one
in git revision BASE (new functions: CREATE FUNCTION, with their REVOKE and
GRANT statements).  For the upgrade script after a change that touches many
function bodies, such as routing messages through @extschema@._t:
    po/upgrade-functions.py main src/*/*.sql
"""
import re
import subprocess
import sys

START = re.compile(r'^CREATE (?:OR REPLACE )?FUNCTION (@extschema@\.[\w]+\()', re.M)


def functions(text):
    """{signature key: statement text} of the CREATE FUNCTION statements."""
    out = {}
    for m in START.finditer(text):
        i = m.start()
        body = text.find('$$', i)
        semi = text.find(';', i)
        if body != -1 and body < semi:
            end = text.find('$$', body + 2)
            end = text.find(';', end) + 1
        else:
            end = semi + 1
        stmt = text[i:end]
        head = stmt.split('RETURNS', 1)[0]
        key = re.sub(r'\s+', ' ', re.sub(r'\bp_\w+\s+|DEFAULT [^,)]+', '', head)).replace('CREATE OR REPLACE', 'CREATE')
        out[key] = stmt
    return out


def privileges(text, name):
    return [l for l in text.splitlines()
            if re.match(r'(REVOKE|GRANT) .* ON FUNCTION ' + re.escape(name) + r'\(', l)]


def main(base, files):
    printed = set()
    for path in files:
        new = open(path, encoding='utf-8').read()
        try:
            old = subprocess.run(['git', 'show', '%s:%s' % (base, path)], capture_output=True,
                                 check=True, text=True).stdout
        except subprocess.CalledProcessError:
            old = ''
        of, nf = functions(old), functions(new)
        grants = []
        for key, stmt in nf.items():
            if of.get(key) == stmt:
                continue
            if key in of:
                print(re.sub(r'^CREATE (OR REPLACE )?FUNCTION', 'CREATE OR REPLACE FUNCTION', stmt) + '\n')
            else:
                name = re.match(r'CREATE (?:OR REPLACE )?FUNCTION (\S+?)\(', stmt).group(1)
                print(stmt + '\n')
                for p in privileges(new, name):
                    if p not in printed:
                        printed.add(p)
                        grants.append(p)
        # privileges after the file's functions: a name may be overloaded
        if grants:
            print('\n'.join(grants) + '\n')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2:])
