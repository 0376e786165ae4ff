#!/usr/bin/env python3
"""Generate a site of N pages for search benchmarks, from the bundled field book's own prose.

Usage: bench/gen_site.py N OUT_DIR [SEED]

Each page is 300-700 words in an intro and 3-5 sections, sentences drawn (deterministically) from
content/ with links flattened to text, with a Chinese name (`zh`, searchable) and a sprinkling of
Chinese sentences, across five kinds. The vocabulary is the bundled book's, so a query such as
`qianchuan` or `千川` hits a realistic share of pages.
"""
import pathlib
import random
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
KINDS = ["tool", "concept", "playbook", "role", "metric"]


def corpus():
    sentences, headings, zh, title_words, cjk = [], [], [], [], []
    for path in sorted((ROOT / "content").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        body = text
        if text.startswith("---"):
            end = text.find("\n---", 3)
            front, body = text[3:end], text[end + 4:]
            for line in front.splitlines():
                if line.startswith("zh:"):
                    zh.append(line[3:].strip())
                if line.startswith("title:"):
                    title_words += [w.lower() for w in re.findall(r"[A-Za-z]{3,}", line[6:])]
        body = re.sub(r"```.*?```", "", body, flags=re.S)
        for block in re.split(r"\n\s*\n", body):
            if block.startswith("#"):
                headings.append(block.lstrip("#").strip())
                continue
            if block.lstrip().startswith(("|", ">", "<", "!")):
                continue
            line = " ".join(l.strip() for l in block.splitlines())
            line = re.sub(r"\[\[([^\]|]+)\|([^\]]+)\]\]", r"\2", line)
            line = re.sub(r"\[\[([^\]#|]+)(#[^\]]*)?\]\]", lambda m: m.group(1).replace("-", " "), line)
            line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)
            line = re.sub(r"^\s*([-*]|\d+\.)\s+", "", line).replace("**", "").replace("`", "")
            cjk += re.findall(r"[\u4e00-\u9fff]{2,}", line)
            for s in re.split(r"(?<=[.!?])\s+", line.strip()):
                if len(s.split()) >= 5:
                    sentences.append(s)
    return sentences, headings, zh, sorted(set(title_words)), cjk


def main():
    n = int(sys.argv[1])
    out = pathlib.Path(sys.argv[2])
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    sentences, headings, zh, words, cjk = corpus()
    kinds_yaml = "".join(
        f"  {k}:\n    folder: {k}s\n    title: {k.title()}s\n    singular: {k.title()}\n"
        f"    fields:\n      zh: {{ type: string, searchable: true }}\n      area: {{ type: string }}\n"
        for k in KINDS
    )
    (out / "content").mkdir(parents=True, exist_ok=True)
    (out / "site.yaml").write_text(
        f"title: Generated book ({n} pages)\nbase_url: /\nkinds:\n{kinds_yaml}", encoding="utf-8"
    )
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        title = " ".join(rng.sample(words, 3)).capitalize() + f" {i}"
        parts = []
        para = lambda: " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 4)))
        parts.append(para())
        if rng.random() < 0.5:
            parts.append("".join(rng.choice(cjk) + "，" for _ in range(3)) + rng.choice(cjk) + "。")
        for _ in range(rng.randint(3, 5)):
            parts.append("## " + rng.choice(headings))
            for _ in range(rng.randint(1, 3)):
                parts.append(para())
        folder = out / "content" / f"{kind}s"
        folder.mkdir(exist_ok=True)
        (folder / f"page-{i:05}.md").write_text(
            f"---\ntitle: \"{title}\"\nzh: \"{rng.choice(zh)}\"\narea: \"{rng.choice(words)}\"\n"
            f"tags: [{rng.choice(words).lower()}]\n---\n\n" + "\n\n".join(parts) + "\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
