#!/usr/bin/env python3
"""Generate a deterministic synthetic knowledge base of N pages, for fieldbook and for Hugo.

    python3 bench/gen.py N OUT_DIR

writes OUT_DIR/fieldbook (a fieldbook site: typed kinds, refs, wikilinks) and OUT_DIR/hugo (the same
Markdown bodies with plain links instead of wikilinks, and minimal real templates). Pages have
400-1500 words with headings, tables, lists, fenced code in several languages, callouts and some
Chinese text. The same seed always gives the same bytes.
"""

import os
import random
import sys

KINDS = [  # (kind, folder, share of pages)
    ("tool", "tools", 0.2),
    ("role", "roles", 0.02),
    ("concept", "concepts", 0.18),
    ("playbook", "playbooks", 0.6),
]
POSITIONS = ["field", "alliance", "campaign", "top-kol", "central", "marketing"]

WORDS = (
    "live room anchor traffic conversion audience content video product store brand campaign search mall "
    "merchant influencer matrix data compass budget coupon stock service rating follower session script "
    "review pitch bundle price promotion channel order refund logistics funnel snowball interest seeding "
    "exposure click retention repeat purchase member private domain account local creator agency plaza"
).split()
CJK = "巨量千川抖店罗盘星图精选联盟云图随心推飞鸽会员直播短视频达人矩阵自播兴趣电商种草私域流量转化复购"
LANGS = [
    ("rust", "fn main() {\n    let total: u32 = (1..=10).sum();\n    println!(\"{}\", total);\n}\n"),
    ("python", "def gmv(orders):\n    return sum(o.price * o.qty for o in orders)\n"),
    ("yaml", "campaign:\n  name: spring\n  budget: 1000\n  channels: [live, video]\n"),
    ("json", "{\"room\": \"daily\", \"viewers\": 1200, \"ok\": true}\n"),
    ("bash", "for f in *.csv; do wc -l \"$f\"; done\n"),
    ("sql", "SELECT anchor, SUM(gmv) FROM sessions GROUP BY anchor ORDER BY 2 DESC;\n"),
]


def sentence(rng, n=None):
    n = n or rng.randint(8, 18)
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.15:
        start = rng.randrange(len(CJK) - 4)
        words.insert(rng.randrange(len(words)), CJK[start : start + rng.randint(2, 4)])
    s = " ".join(words)
    return s[0].upper() + s[1:] + "."


def paragraph(rng):
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def plan(n):
    """Page ids by kind, in a fixed order."""
    pages = [("position", "positions", p) for p in POSITIONS]
    for kind, folder, share in KINDS:
        count = max(1, int(n * share))
        for i in range(count):
            pages.append((kind, folder, f"{kind}-{i:05d}"))
    return pages[:n] if len(pages) >= n else pages + [("playbook", "playbooks", f"playbook-x{i:05d}") for i in range(n - len(pages))]


def body(rng, pick, link):
    """A page body; `pick(kind)` chooses a target id, `link(id, label)` writes a link."""
    out = []
    target_words = rng.randint(400, 1500)
    words = 0
    section = 0
    while words < target_words:
        section += 1
        out.append(f"## Section {section}: {rng.choice(WORDS)} {rng.choice(WORDS)}\n")
        p = paragraph(rng)
        out.append(p + " See " + link(pick(rng.choice(["tool", "concept", "role"])), None) + ".\n")
        words += len(p.split())
        r = rng.random()
        if r < 0.25:
            rows = "\n".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {rng.choice(WORDS)} |" for _ in range(rng.randint(3, 6)))
            out.append("| Item | Value | Note |\n|---|---|---|\n" + rows + "\n")
            words += 20
        elif r < 0.45:
            lang, code = rng.choice(LANGS)
            out.append(f"```{lang}\n{code}```\n")
        elif r < 0.6:
            kind = rng.choice(["NOTE", "TIP", "WARNING"])
            out.append(f"> [!{kind}]\n> {sentence(rng)}\n")
            words += 12
        elif r < 0.8:
            items = "\n".join(f"- [ ] {sentence(rng, 6)}" for _ in range(rng.randint(3, 6)))
            out.append(items + "\n")
            words += 30
        else:
            items = "\n".join(f"{i + 1}. {sentence(rng, 8)} {link(pick('playbook'), 'details')}" for i in range(rng.randint(2, 5)))
            out.append(items + "\n")
            words += 30
        if rng.random() < 0.3:
            out.append(f"### Details {section}\n\n{paragraph(rng)}\n")
            words += 60
    return "\n".join(out)


SITE_YAML = """title: Synthetic field book
base_url: /
kinds:
  tool:
    folder: tools
    title: Tools
    fields:
      zh: { type: string, searchable: true }
      category: { type: enum, values: [store, ads, data], required: true }
  role:
    folder: roles
    title: Roles
  concept:
    folder: concepts
    title: Concepts
    fields:
      related: { type: refs, to: concept }
  position:
    folder: positions
    title: Positions
  playbook:
    folder: playbooks
    title: Playbooks
    index: { group_by: level }
    fields:
      positions: { type: refs, to: position, required: true }
      tools: { type: refs, to: tool }
      roles: { type: refs, to: role }
      owner: { type: ref, to: role }
      level: { type: enum, values: [beginner, intermediate, advanced], default: intermediate }
views:
  - matrix: { slug: positions-by-roles, title: Positions by roles, rows: position, cols: role, via: playbook }
"""

HUGO_CONFIG = """baseURL = "/"
title = "Synthetic field book"
disableKinds = ["taxonomy", "term", "RSS"]
[markup.highlight]
  noClasses = false
[markup.goldmark.renderer]
  unsafe = true
[markup.goldmark.parser.attribute]
  block = true
"""

HUGO_BASEOF = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · {{ .Site.Title }}</title>
<link rel="stylesheet" href="/style.css"></head>
<body><header><a href="/">{{ .Site.Title }}</a></header>
<nav>{{ range .Site.Sections }}<a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ end }}</nav>
<main>{{ block "main" . }}{{ end }}</main></body></html>
"""
HUGO_SINGLE = """{{ define "main" }}<article><h1>{{ .Title }}</h1><p>{{ .Description }}</p>
<nav class="toc">{{ .TableOfContents }}</nav>{{ .Content }}
{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</article>{{ end }}
"""
HUGO_LIST = """{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Summary | plainify | truncate 160 }}</li>{{ end }}</ul>{{ end }}
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(42)
    pages = plan(n)
    by_kind = {}
    for kind, folder, pid in pages:
        by_kind.setdefault(kind, []).append((folder, pid))
    folder_of = {pid: folder for _, folder, pid in pages}

    def pick(kind):
        return rng.choice(by_kind.get(kind) or by_kind["playbook"])[1]

    fb = os.path.join(out, "fieldbook")
    hu = os.path.join(out, "hugo")
    write(os.path.join(fb, "site.yaml"), SITE_YAML)
    write(os.path.join(hu, "hugo.toml"), HUGO_CONFIG)
    write(os.path.join(hu, "layouts/_default/baseof.html"), HUGO_BASEOF)
    write(os.path.join(hu, "layouts/_default/single.html"), HUGO_SINGLE)
    write(os.path.join(hu, "layouts/_default/list.html"), HUGO_LIST)
    write(os.path.join(hu, "layouts/index.html"), HUGO_LIST)
    for kind, folder, _ in KINDS + [("position", "positions", 0)]:
        intro = f"---\ntitle: {folder.title()}\n---\n\n{paragraph(rng)}\n"
        write(os.path.join(fb, "content", folder, "_index.md"), intro)
        write(os.path.join(hu, "content", folder, "_index.md"), intro)

    for kind, folder, pid in pages:
        title = f"{pid.replace('-', ' ').title()} {rng.choice(WORDS)}"
        desc = sentence(rng, 10)
        fields = []
        if kind == "tool":
            start = rng.randrange(len(CJK) - 3)
            fields += [f"zh: {CJK[start:start + 3]}", f"category: {rng.choice(['store', 'ads', 'data'])}"]
        elif kind == "concept":
            fields.append(f"related: [{pick('concept')}, {pick('concept')}]")
        elif kind == "playbook":
            fields += [
                f"positions: [{rng.choice(POSITIONS)}]",
                f"tools: [{pick('tool')}, {pick('tool')}]",
                f"roles: [{pick('role')}]",
                f"owner: {pick('role')}",
                f"level: {rng.choice(['beginner', 'intermediate', 'advanced'])}",
            ]
        state = rng.getstate()
        fb_body = body(rng, pick, lambda t, label: f"[[{t}|{label}]]" if label else f"[[{t}]]")
        rng.setstate(state)
        hu_body = body(rng, pick, lambda t, label: f"[{label or t}](/{folder_of[t]}/{t}/)")
        head = f"---\ntitle: \"{title}\"\ndescription: \"{desc}\"\ntags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]\n"
        write(os.path.join(fb, "content", folder, pid + ".md"), head + "\n".join(fields) + "\n---\n\n" + fb_body)
        write(os.path.join(hu, "content", folder, pid + ".md"), head + "---\n\n" + hu_body)


if __name__ == "__main__":
    main()
