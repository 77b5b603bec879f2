#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fills po/zh_CN.po from po/zh_CN.dict (msgid<TAB>msgstr, one per line,
C escapes). A maintenance helper for scripts/update-po, not a build step."""
import re, sys, os

here = os.path.dirname(os.path.abspath(__file__))
po_path = os.path.join(here, "zh_CN.po")
dict_path = os.path.join(here, "zh_CN.dict")

def unescape(s):
    return s.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")

def escape(s):
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")

table = {}
for line in open(dict_path, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    k, v = line.split("\t")
    table[unescape(k)] = unescape(v)

text = open(po_path, encoding="utf-8").read()
blocks = text.split("\n\n")
out, missing = [], []
for b in blocks:
    # Chinese has one plural form: msgstr[0], keyed by the singular msgid.
    p = re.search(r'^msgid ((?:".*"\n?)+)msgid_plural (?:".*"\n?)+msgstr\[0\] ((?:".*"\n?)+)', b, re.M)
    if p:
        msgid = unescape("".join(re.findall(r'"(.*)"', p.group(1))))
        msgstr = unescape("".join(re.findall(r'"(.*)"', p.group(2))))
        if msgid in table:
            msgstr = table[msgid]
        elif not msgstr:
            missing.append(msgid)
        out.append(b[:p.start(2)] + '"' + escape(msgstr) + '"' + b[p.end(2):].rstrip("\n"))
        continue
    m = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', b, re.M)
    if not m:
        out.append(b); continue
    msgid = unescape("".join(re.findall(r'"(.*)"', m.group(1))))
    msgstr = unescape("".join(re.findall(r'"(.*)"', m.group(2))))
    if msgid == "":
        out.append(b); continue
    if msgid in table:
        msgstr = table[msgid]
    elif not msgstr:
        missing.append(msgid)
    head = b[:m.start(2)]
    out.append(head + '"' + escape(msgstr) + '"')
open(po_path, "w", encoding="utf-8").write("\n\n".join(out).rstrip("\n") + "\n")
for m in missing:
    print("untranslated:", repr(m))
sys.exit(1 if missing else 0)
