#!/usr/bin/env python3
"""How many links of an Obsidian vault land on the right page and anchor once fieldbook built it.

Usage: bench/vault_links.py SITE   (SITE has content/ and a built public/)

The expected target of every link is worked out here, from the Markdown sources, by Obsidian's
rules and independently of fieldbook's resolver: a name is a note's file name (case-insensitive),
or the end of its path; several notes of one name mean the one closest to the linking note in the
folder tree, then the shortest path. A heading is found by its text in the target's built HTML,
a block by `^id`. Links inside code and comments are skipped; embeds and links to notes that do not
exist are counted apart. A link lands right when the linking page's HTML holds an `href` to the
expected URL and anchor (as many times as the sources link there).
"""

import html
import json
import os
import re
import sys
from collections import Counter
from urllib.parse import unquote

site = sys.argv[1]
content = os.path.join(site, "content")
public = os.path.join(site, "public")
graph = json.load(open(os.path.join(public, "graph.json")))
url_of = {n["source"]: n["url"] for n in graph["nodes"]}

notes = sorted(url_of)  # paths under content/, with .md
by_stem = {}
for n in notes:
    by_stem.setdefault(os.path.splitext(os.path.basename(n))[0].lower(), []).append(n)


def closest(cands, src):
    here = os.path.dirname(src).split("/")

    def key(c):
        there = os.path.dirname(c).split("/")
        shared = 0
        for a, b in zip(here, there):
            if a != b:
                break
            shared += 1
        return (-shared, len(c), c)

    return sorted(cands, key=key)[0]


def resolve(name, src):
    name = name.strip()
    if name.lower().endswith(".md"):
        name = name[:-3]
    if not name:
        return src
    if "/" in name:
        if name.startswith("./") or name.startswith("../"):
            name = os.path.normpath(os.path.join(os.path.dirname(src), name))
        low = name.lower()
        cands = [n for n in notes if n[:-3].lower() == low or n[:-3].lower().endswith("/" + low)]
    else:
        cands = by_stem.get(name.lower(), [])
    return closest(cands, src) if cands else None


CODE = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`|%%.*?%%", re.S)
WIKI = re.compile(r"(!?)\[\[([^\]\n]+?)\]\]")
MDLINK = re.compile(r"(!?)\[[^\]\n]*\]\(([^)\s]+\.md)(#[^)\s]*)?\)")
HEAD = re.compile(r"<h([1-6]) id=\"([^\"]+)\"[^>]*>(.*?)<a class=\"anchor\"", re.S)
HREF = re.compile(r"<a [^>]*href=\"([^\"]*)\"")
_headings = {}


def headings(url):
    if url not in _headings:
        path = os.path.join(public, url.strip("/"), "index.html")
        text = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
        _headings[url] = [
            (hid, " ".join(html.unescape(re.sub(r"<[^>]+>", "", t)).split()).lower())
            for _, hid, t in HEAD.findall(text)
        ]
    return _headings[url]


def slug(s):
    return re.sub(r"[^\w]+", "-", s.lower()).strip("-")


def anchor(url, frag):
    frag = frag.strip()
    if frag.startswith("^"):
        return frag
    hs = headings(url)
    pos = 0
    found = None
    for part in [p for p in frag.split("#") if p.strip()]:
        want = " ".join(part.split()).lower()
        for k in range(pos, len(hs)):
            if hs[k][1] == want or slug(hs[k][1]) == slug(want):
                found, pos = hs[k][0], k + 1
                break
        else:
            return None
    return found


expected = {}  # source -> Counter of hrefs
stats = Counter()
for src in notes:
    text = open(os.path.join(content, src), encoding="utf-8").read()
    if text.startswith("---"):
        end = text.find("\n---", 3)
        text = text[end + 4 :] if end > 0 else text
    text = CODE.sub(" ", text)
    links = []
    for bang, inner in WIKI.findall(text):
        target = inner.split("|")[0].rstrip("\\")
        name, _, frag = target.partition("#")
        links.append((bang, name, frag))
    for bang, target, frag in MDLINK.findall(text):
        if "://" not in target and not target.startswith("mailto:"):
            links.append((bang, unquote(target), unquote(frag[1:]) if frag else ""))
    for bang, name, frag in links:
        if bang:
            stats["embeds"] += 1
            continue
        if re.search(r"\.(png|jpe?g|gif|svg|webp|pdf|mp4|mp3|webm|ogg)$", name, re.I):
            stats["file links"] += 1
            continue
        target = resolve(name, src)
        if target is None:
            stats["links to missing notes"] += 1
            continue
        stats["links to existing notes"] += 1
        url = url_of[target]
        if frag:
            a = anchor(url, frag)
            if a is None:
                stats["anchors missing in the target"] += 1
                continue
            url = f"{url}#{a}"
        expected.setdefault(src, Counter())[url] += 1

right = 0
wrong = []
for src, want in expected.items():
    path = os.path.join(public, url_of[src].strip("/"), "index.html")
    page = open(path, encoding="utf-8").read()
    prose = page[page.find('<div class="prose') :]
    got = Counter(html.unescape(h) for h in HREF.findall(prose))
    for url, n in want.items():
        ok = min(n, got.get(url, 0))
        right += ok
        if ok < n:
            wrong.append((src, url, n - ok))

total = sum(sum(c.values()) for c in expected.values())
for k, v in sorted(stats.items()):
    print(f"{k}: {v}")
print(f"links to existing notes that land on the right page and anchor: {right} of {total} ({100 * right / max(total, 1):.1f} %)")
for src, url, n in wrong[:40]:
    print(f"  wrong: {src} -> {url} (x{n})")
