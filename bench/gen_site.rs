//! Writes a deterministic, generated site of N pages, for benchmarks (`serve` latency, build time).
//!
//! ```text
//! cargo run --release --example gen_site -- 10000 /tmp/fb-10k
//! ```
//!
//! The site has three kinds: 100 topics, 20 teams and notes for the rest. Every note references two
//! topics, an owner team and two other notes, links to three notes with wikilinks, carries tags, and
//! one in ten has a code block; a matrix shows topics by teams through notes. The same N always gives
//! the same bytes (a fixed linear congruential generator, no clock, no randomness from the system).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const TOPICS: usize = 100;
const TEAMS: usize = 20;
const WORDS: [&str; 24] = [
    "launch",
    "audience",
    "stream",
    "budget",
    "catalog",
    "review",
    "metric",
    "creator",
    "shelf",
    "traffic",
    "return",
    "season",
    "pitch",
    "sample",
    "margin",
    "stock",
    "script",
    "studio",
    "coupon",
    "funnel",
    "retention",
    "ranking",
    "bundle",
    "signal",
];

/// A small deterministic generator (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn below(&mut self, n: usize) -> usize {
        self.next() % n
    }
    fn sentence(&mut self, words: usize) -> String {
        let mut s = String::new();
        for i in 0..words {
            let w = WORDS[self.below(WORDS.len())];
            if i == 0 {
                let mut c = w.chars();
                if let Some(f) = c.next() {
                    s.extend(f.to_uppercase());
                    s.push_str(c.as_str());
                }
            } else {
                s.push(' ');
                s.push_str(w);
            }
        }
        s.push('.');
        s
    }
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: gen_site PAGES OUT_DIR";
    let pages: usize = match args.next().and_then(|n| n.parse().ok()) {
        Some(n) if n > TOPICS + TEAMS => n,
        _ => {
            eprintln!("{usage} (PAGES above {})", TOPICS + TEAMS);
            std::process::exit(2);
        }
    };
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    if out.join("site.yaml").exists() || out.join("content").exists() {
        eprintln!(
            "{} already holds a site; pass an empty or new folder",
            out.display()
        );
        std::process::exit(2);
    }
    let notes = pages - TOPICS - TEAMS;
    let mut rng = Lcg(42);

    write(
        &out.join("site.yaml"),
        "title: Generated benchmark site\n\
         description: A deterministic site for benchmarks.\n\
         base_url: /\n\
         kinds:\n\
         \x20 topic: { folder: topics, title: Topics, fields: { code: { type: string } } }\n\
         \x20 team: { folder: teams, title: Teams }\n\
         \x20 note:\n\
         \x20   folder: notes\n\
         \x20   title: Notes\n\
         \x20   index: { group_by: level }\n\
         \x20   fields:\n\
         \x20     topics: { type: refs, to: topic, required: true }\n\
         \x20     owner: { type: ref, to: team }\n\
         \x20     related: { type: refs, to: note }\n\
         \x20     level: { type: enum, values: [basic, advanced], required: true }\n\
         views:\n\
         \x20 - matrix: { slug: topics-by-teams, title: Topics by teams, rows: topic, cols: team, via: note }\n",
    )?;
    write(
        &out.join("content/_index.md"),
        "---\ntitle: Generated benchmark site\n---\n\nA generated site.\n",
    )?;
    for t in 0..TOPICS {
        let body = rng.sentence(30);
        write(
            &out.join(format!("content/topics/topic-{t:03}.md")),
            &format!("---\ntitle: Topic {t}\ncode: T{t:03}\n---\n\n{body}\n"),
        )?;
    }
    for t in 0..TEAMS {
        let body = rng.sentence(20);
        write(
            &out.join(format!("content/teams/team-{t:02}.md")),
            &format!("---\ntitle: Team {t}\n---\n\n{body}\n"),
        )?;
    }
    for n in 0..notes {
        let mut text = String::new();
        let level = if rng.below(3) == 0 {
            "advanced"
        } else {
            "basic"
        };
        let _ = write!(
            text,
            "---\ntitle: Note {n}\ntags: [tag-{}, tag-{}]\ntopics: [topic-{:03}, topic-{:03}]\n\
             owner: team-{:02}\nrelated: [note-{:05}, note-{:05}]\nlevel: {level}\n---\n\n",
            rng.below(50),
            50 + rng.below(50),
            rng.below(TOPICS),
            rng.below(TOPICS),
            rng.below(TEAMS),
            rng.below(notes),
            rng.below(notes),
        );
        for section in 0..3 {
            let _ = write!(text, "## Part {section}\n\n");
            let _ = writeln!(
                text,
                "{} See [[note-{:05}]] and [[note-{:05}|a related note]].\n",
                rng.sentence(40),
                rng.below(notes),
                rng.below(notes)
            );
            let _ = writeln!(text, "- {}\n- {}\n", rng.sentence(8), rng.sentence(8));
        }
        if n % 10 == 0 {
            text.push_str("```rust\nfn main() {\n    println!(\"note\");\n}\n```\n\n");
        }
        let _ = writeln!(
            text,
            "{} Also [[note-{:05}]].",
            rng.sentence(25),
            rng.below(notes)
        );
        write(&out.join(format!("content/notes/note-{n:05}.md")), &text)?;
    }
    println!("Wrote {pages} pages to {}", out.display());
    Ok(())
}
