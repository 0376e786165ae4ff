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
        let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .args(args)
            .current_dir(self.root())
            .env("NO_COLOR", "1")
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
