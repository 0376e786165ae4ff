//! A small builder for test sites: write files into a temp dir, run the real binary, read the output.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// A minimal config with two kinds, used by most tests.
pub const KINDS_YAML: &str = "\
title: Test Book
kinds:
  tool:
    folder: tools
    title: Tools
    fields:
      zh: { type: string, searchable: true, description: Chinese name }
      category: { type: enum, values: [store, ads], required: true, description: What kind of tool }
      positions: { type: refs, to: position, description: Positions that use it }
  position:
    folder: positions
    title: Positions
    fields:
      letter: { type: string, required: true, description: Letter in FACT }
  playbook:
    folder: playbooks
    title: Playbooks
    fields:
      positions: { type: refs, to: position, required: true }
      tools: { type: refs, to: tool }
      owner: { type: ref, to: position }
";

/// A site in a temporary folder.
pub struct TestSite {
    dir: TempDir,
}

/// What a run of the binary printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the output if the run failed.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl TestSite {
    /// An empty folder with a `site.yaml`.
    pub fn new(config: &str) -> TestSite {
        let site = TestSite {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        site.write("site.yaml", config);
        site
    }

    /// A site with [`KINDS_YAML`].
    pub fn with_kinds() -> TestSite {
        TestSite::new(KINDS_YAML)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Write a file (folders are created).
    pub fn write(&self, rel: &str, text: &str) -> &TestSite {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
        self
    }

    /// Run `fieldbook ARGS` in the site's folder.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[])
    }

    /// [`TestSite::run`] with more variables in the environment.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .args(args)
            .current_dir(self.root())
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .output()
            .expect("run fieldbook");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `fieldbook build`, which must succeed.
    pub fn build(&self) -> Run {
        self.run(&["build"]).ok()
    }

    /// Read a file of the built site (under public/).
    #[track_caller]
    pub fn output(&self, rel: &str) -> String {
        let p = self.path("public").join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
    }

    pub fn output_exists(&self, rel: &str) -> bool {
        self.path("public").join(rel).exists()
    }
}

/// Every file under `dir` with its bytes, sorted by path.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .expect("prefix")
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read(e.path()).expect("read"))
        })
        .collect();
    out.sort();
    out
}

/// Where a browser test gets its Chromium, or why it has none.
#[derive(Debug, PartialEq, Eq)]
pub enum BrowserLookup {
    /// Run the test with this binary.
    Found(PathBuf),
    /// No browser here, and none is required: the test says so and passes.
    Skip(String),
    /// No browser here, but one is required (CI): the test must fail.
    Missing(String),
}

/// Find Chromium for a browser test: the binary named by `FIELDBOOK_CHROMIUM` (or `CHROMIUM`), else
/// `chromium`, `chromium-browser`, `google-chrome` or `google-chrome-stable` on `PATH`. With
/// `FIELDBOOK_REQUIRE_BROWSER` (or `CI`) set, not finding one is [`BrowserLookup::Missing`], never a
/// skip, so a browser test cannot go quietly missing where it must run. `var` reads the
/// environment (a parameter, so that the rule itself can be tested).
pub fn look_for_chromium(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> BrowserLookup {
    let named = var("FIELDBOOK_CHROMIUM").or_else(|| var("CHROMIUM"));
    let found = match &named {
        Some(p) => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        None => {
            let dirs: Vec<PathBuf> = var("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default();
            [
                "chromium",
                "chromium-browser",
                "google-chrome",
                "google-chrome-stable",
            ]
            .iter()
            .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
            .find(|p| p.is_file())
        }
    };
    if let Some(p) = found {
        return BrowserLookup::Found(p);
    }
    let why = match named {
        Some(p) => format!(
            "FIELDBOOK_CHROMIUM names {}, which is not a file",
            PathBuf::from(p).display()
        ),
        None => "no chromium, chromium-browser or google-chrome on PATH".to_string(),
    };
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    if set("FIELDBOOK_REQUIRE_BROWSER") || set("CI") {
        BrowserLookup::Missing(format!(
            "{why}, and FIELDBOOK_REQUIRE_BROWSER or CI is set, so the browser tests must run: install Debian's `chromium` (apt-get install chromium) or set FIELDBOOK_CHROMIUM"
        ))
    } else {
        BrowserLookup::Skip(format!(
            "{why} (install Debian's `chromium` or set FIELDBOOK_CHROMIUM; set FIELDBOOK_REQUIRE_BROWSER=1 to fail instead)"
        ))
    }
}

/// Chromium for the browser test `test`, or `None` after printing that it is skipped. Panics when a
/// browser is required and none is found (see [`look_for_chromium`]).
#[track_caller]
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    match look_for_chromium(|name| std::env::var_os(name)) {
        BrowserLookup::Found(p) => Some(p),
        BrowserLookup::Skip(why) => {
            eprintln!("SKIPPED {test}: {why}");
            None
        }
        BrowserLookup::Missing(why) => panic!("{test} cannot run: {why}"),
    }
}

impl BrowserLookup {
    /// The binary, if one was found.
    pub fn found(self) -> Option<PathBuf> {
        match self {
            BrowserLookup::Found(p) => Some(p),
            _ => None,
        }
    }
}
