#!/usr/bin/env python3
"""Route the messages of governance SQL through @extschema@._t (in place).

For each file named: the message, detail and hint of every
@extschema@._refuse(...) and @extschema@._reject(...) call, and the format,
MESSAGE, DETAIL and HINT of every RAISE, become @extschema@._t('...', ...)
(a RAISE's % placeholders become %s).  Already converted text is left as it
is, so it may be run again after others add messages.  Usage:
    po/convert-sql.py src/*/*.sql
    po/convert-sql.py --check src/*/*.sql   # list what is not converted; exit 1 if any
"""
import re
import sys

T = '@extschema@._t('


def skip_string(s, i):
    """Index after the string literal starting at s[i] == "'"."""
    i += 1
    while True:
        j = s.index("'", i)
        if j + 1 < len(s) and s[j + 1] == "'":
            i = j + 2
            continue
        return j + 1


def split_args(s, start):
    """Top-level arguments of the call whose '(' is at s[start]: list of
    (begin, end) spans, and the index of the closing ')'."""
    depth = 0
    i = start
    spans = []
    b = start + 1
    while True:
        c = s[i]
        if c == "'":
            i = skip_string(s, i)
            continue
        if c == '-' and s.startswith('--', i):
            i = s.index('\n', i)
            continue
        if c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
            if depth == 0:
                spans.append((b, i))
                return spans, i
        elif c == ',' and depth == 1:
            spans.append((b, i))
            b = i + 1
        i += 1


def wrap(expr):
    """expr (text of a message argument) routed through _t."""
    stripped = expr.strip()
    lead = expr[:len(expr) - len(expr.lstrip())]
    trail = expr[len(expr.rstrip()):]
    if stripped.startswith(T):
        return expr
    if stripped.startswith('pg_catalog.format('):
        return lead + T + stripped[len('pg_catalog.format('):] + trail
    if re.fullmatch(r"'(?:[^']|'')*'", stripped):
        return lead + T + stripped + ')' + trail
    return expr


def convert_call(s, name, positions, named):
    """Wrap the message arguments of every call of @extschema@.<name>(."""
    out = []
    pos = 0
    pat = re.compile(r'@extschema@\.' + name + r'\(')
    for m in pat.finditer(s):
        if m.start() < pos:
            continue
        # skip the definition
        if s[max(0, m.start() - 16):m.start()].rstrip().endswith('FUNCTION'):
            continue
        spans, end = split_args(s, m.end() - 1)
        out.append(s[pos:m.end() - 1])
        cur = m.end() - 1
        for k, (b, e) in enumerate(spans):
            arg = s[b:e]
            nm = re.match(r'\s*(\w+)\s*=>', arg)
            if nm:
                if nm.group(1) in named:
                    arg = arg[:nm.end()] + wrap(arg[nm.end():])
            elif k in positions:
                arg = wrap(arg)
            out.append(s[cur:b] + arg)
            cur = e
        out.append(s[cur:end + 1])
        pos = end + 1
    out.append(s[pos:])
    return ''.join(out)


RAISE = re.compile(r'\bRAISE\s+(EXCEPTION|WARNING|NOTICE)\s+', re.I)


def convert_raise(s):
    out = []
    pos = 0
    for m in RAISE.finditer(s):
        line_start = s.rfind('\n', 0, m.start()) + 1
        if '--' in s[line_start:m.start()] or m.start() < pos:
            continue
        # the statement up to its top-level ';'
        i = m.end()
        depth = 0
        while True:
            c = s[i]
            if c == "'":
                i = skip_string(s, i)
                continue
            if c == '(':
                depth += 1
            elif c == ')':
                depth -= 1
            elif c == ';' and depth == 0:
                break
            i += 1
        body = s[m.end():i]
        out.append(s[pos:m.end()])
        out.append(convert_raise_body(body))
        pos = i
    out.append(s[pos:])
    return ''.join(out)


def top_split(body, sep_re):
    """Split body at top-level matches of sep_re (outside strings/parens)."""
    parts = []
    depth = 0
    i = 0
    b = 0
    while i < len(body):
        c = body[i]
        if c == "'":
            i = skip_string(body, i)
            continue
        if c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
        elif depth == 0:
            mm = sep_re.match(body, i)
            if mm and (i == 0 or not (body[i - 1].isalnum() or body[i - 1] == '_')):
                parts.append(body[b:i])
                b = mm.end()
                i = mm.end()
                continue
        i += 1
    parts.append(body[b:])
    return parts


def convert_raise_body(body):
    usings = top_split(body, re.compile(r'USING\b', re.I))
    head = usings[0]
    opts = usings[1] if len(usings) > 1 else ''
    newopts = []
    if opts:
        for o in top_split(opts, re.compile(r',')):
            om = re.match(r'(\s*)(MESSAGE|DETAIL|HINT)(\s*=\s*)', o, re.I)
            if om:
                o = o[:om.end()] + wrap(o[om.end():])
            newopts.append(o)
    if head.strip().startswith("'"):
        args = top_split(head, re.compile(r','))
        fmt = args[0].strip()
        fmt = re.sub(r'%%|%', lambda x: '%%' if x.group(0) == '%%' else '%s', fmt)
        rest = ','.join(args[1:]).rstrip()
        msg = T + fmt + (',' + rest if rest else '') + ')'
        ws = head[len(head.rstrip()):]
        opt_text = ','.join(newopts)
        if opt_text:
            return 'USING MESSAGE = ' + msg + ',' + (ws if '\n' in ws else ' ') + opt_text.lstrip()
        return 'USING MESSAGE = ' + msg + ws
    if opts:
        return head + 'USING' + ','.join(newopts)
    return body


def main(args):
    check = args[:1] == ['--check']
    files = args[1:] if check else args
    unconverted = 0
    for path in files:
        with open(path, encoding='utf-8') as f:
            s = f.read()
        n = convert_call(s, '_refuse', {2, 7, 8}, {'p_message', 'p_detail', 'p_hint'})
        n = convert_call(n, '_reject', {1, 6}, {'p_message', 'p_hint'})
        n = convert_raise(n)
        if n == s:
            continue
        if check:
            old_lines = s.splitlines()
            new_lines = set(n.splitlines())
            for i, line in enumerate(old_lines, 1):
                if line not in new_lines:
                    print('%s:%d: message not written @extschema@._t(...): %s' % (path, i, line.strip()))
                    unconverted += 1
        else:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(n)
            print('converted', path)
    return 1 if unconverted else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
