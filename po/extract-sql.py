#!/usr/bin/env python3
"""Extract the messages of the governance SQL for the catalogue (a .pot).

A message is the first argument of @extschema@._t('...', ...), a string
literal, and the citation suffix given as p_cite_more => '...'; @extschema@
in a message is frt, as in the install script.  Usage:
    po/extract-sql.py src/*/*.sql > sql.pot
"""
import re
import sys

# a SQL string literal ('' doubles a quote), possibly split over lines by
# nothing but whitespace is not supported: a message is one literal
LIT = r"'((?:[^']|'')*)'"
SCHEMA = 'frt'
PATTERNS = [re.compile(r"@extschema@\._t\(\s*" + LIT),
            re.compile(r"p_cite_more\s*=>\s*" + LIT)]


def po_quote(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"').replace('\t', '\\t') + '"'


def main(files):
    seen = {}
    for path in files:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for pat in PATTERNS:
            for m in pat.finditer(text):
                # the install script names the schema (frt.control: schema = frt)
                msg = m.group(1).replace("''", "'").replace('@extschema@', SCHEMA)
                line = text.count('\n', 0, m.start()) + 1
                seen.setdefault(msg, []).append('%s:%d' % (path, line))
    out = sys.stdout
    out.write('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n')
    for msg in sorted(seen):
        out.write('#: ' + ' '.join(seen[msg]) + '\n')
        out.write('msgid ' + po_quote(msg) + '\nmsgstr ""\n\n')


if __name__ == '__main__':
    main(sys.argv[1:])
