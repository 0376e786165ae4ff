//! Stage 7: writing the site. Everything is written into a fresh folder beside the output, which is
//! swapped in only when the whole build succeeded; so a failed or killed build leaves the previous site
//! as it was, and a successful one leaves no stale file.
//!
//! The writer never deletes anything it did not make: it refuses an output folder that is the site
//! root, content/, an ancestor of either, inside content/, or a non-empty folder without its marker file.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostics::Diagnostic;

/// The file that marks a folder as made by fieldbook (and so safe to replace).
pub const MARKER: &str = ".fieldbook-output";

/// A build's output in progress.
#[derive(Debug)]
pub struct Staging {
    /// Where the finished site goes.
    pub target: PathBuf,
    /// Where it is written meanwhile.
    pub dir: PathBuf,
    /// The lock that keeps other builds out of `target` until this one is committed or abandoned.
    _lock: Lock,
}

/// An output folder's lock: a file beside it, `.<name>.fieldbook-lock`, locked (`flock`) for as
/// long as a build writes, and removed when the build is done (the lock goes with the process
/// when it is killed; its file is then reused).
#[derive(Debug)]
struct Lock {
    path: PathBuf,
    file: fs::File,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held, so that a build which opened it meanwhile sees, once it gets
        // the lock, that the file is gone, and does not take a lock that no longer guards anything.
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

fn temp_prefix(target: &Path) -> String {
    format!(
        ".{}.fieldbook-",
        target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "public".into())
    )
}

fn absolute(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    // Canonicalize the longest existing ancestor, keep the rest as written.
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_owned()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = fs::canonicalize(&existing).unwrap_or(existing);
    for name in rest.into_iter().rev() {
        out.push(name);
    }
    out
}

/// Check that `output` may be written, clean what earlier builds left behind, and make the staging
/// folder.
pub fn prepare(root: &Path, output: &Path) -> Result<Staging, Diagnostic> {
    let target = absolute(output);
    let root_abs = absolute(root);
    let content = root_abs.join("content");
    let refuse = |why: String| {
        Diagnostic::setup(
            "output-refused",
            format!(
                "refusing to write the site into {}: {why}",
                output.display()
            ),
        )
        .with_help("pass another folder with --output, e.g. --output public")
    };
    if target == root_abs || root_abs.starts_with(&target) {
        return Err(refuse("it is the site's folder or contains it".into()));
    }
    if target == content || content.starts_with(&target) || target.starts_with(&content) {
        return Err(refuse("it is, contains or sits inside content/".into()));
    }
    for special in ["templates", "static", "themes"] {
        let dir = root_abs.join(special);
        if target == dir || target.starts_with(&dir) {
            return Err(refuse(format!("it is inside the site's {special}/ folder")));
        }
    }
    let parent = target
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| refuse("it has no parent folder".into()))?;
    let prefix = temp_prefix(&target);
    fs::create_dir_all(&parent).map_err(|e| io_error(&parent, &e))?;
    let lock = lock(&parent.join(format!("{prefix}lock")), output)?;
    // A build killed between the two renames of the swap leaves the old site under `.old`: put it back.
    let old = parent.join(format!("{prefix}old"));
    if !target.exists() && old.join(MARKER).is_file() {
        let _ = fs::rename(&old, &target);
    }
    if target.exists() {
        if !target.is_dir() {
            return Err(refuse("it is a file".into()));
        }
        let empty = fs::read_dir(&target)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty && !target.join(MARKER).is_file() {
            return Err(refuse(format!("it is not empty and was not made by fieldbook (no {MARKER} file); nothing was deleted")));
        }
    }
    // Leftovers of killed builds (no other build runs now: this one holds the lock): staging
    // folders, named `<prefix>tmp-<pid>`, whether or not they got as far as their marker, and an
    // old site that carries the marker.
    if let Ok(entries) = fs::read_dir(&parent) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix(&prefix) else {
                continue;
            };
            let staging = rest
                .strip_prefix("tmp-")
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
            let ours = staging || (rest == "old" && e.path().join(MARKER).is_file());
            if ours && e.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = remove_tree(&e.path());
            }
        }
    }
    let dir = parent.join(format!("{prefix}tmp-{}", std::process::id()));
    fs::create_dir_all(&dir).map_err(|e| io_error(&dir, &e))?;
    fs::write(
        dir.join(MARKER),
        "This folder is written by fieldbook; it is replaced whole at each build.\n",
    )
    .map_err(|e| io_error(&dir, &e))?;
    Ok(Staging {
        target,
        dir,
        _lock: lock,
    })
}

/// Take the lock of an output folder, or say that another build holds it.
fn lock(path: &Path, output: &Path) -> Result<Lock, Diagnostic> {
    let busy = || {
        Diagnostic::setup(
            "output-busy",
            format!(
                "another fieldbook build is writing into {} right now; nothing was written",
                output.display()
            ),
        )
        .with_help("wait for the other build to finish and run this one again, or pass another folder with --output")
    };
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| io_error(path, &e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => return Err(busy()),
        Err(fs::TryLockError::Error(e)) => return Err(io_error(path, &e)),
    }
    // The build that held it may have removed the file between our open and our lock: then our
    // lock guards nothing, and another build may hold a new file's lock.
    if !same_file(&file, path) {
        return Err(busy());
    }
    Ok(Lock {
        path: path.to_path_buf(),
        file,
    })
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &fs::File, path: &Path) -> bool {
    path.is_file()
}

impl Staging {
    /// Write one file at a path relative to the site's root (`tools/doudian/index.html`).
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Diagnostic> {
        let path = self.inside(rel)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| io_error(parent, &e))?;
        }
        fs::write(&path, bytes).map_err(|e| io_error(&path, &e))
    }

    /// Copy a file into the site.
    pub fn copy(&self, from: &Path, rel: &str) -> Result<(), Diagnostic> {
        let path = self.inside(rel)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| io_error(parent, &e))?;
        }
        fs::copy(from, &path)
            .map(|_| ())
            .map_err(|e| io_error(from, &e))
    }

    /// The path of an output file, refused unless it is a plain relative path that stays inside the
    /// staging folder (no `..`, `.`, root or prefix; whatever the stages upstream let through).
    fn inside(&self, rel: &str) -> Result<PathBuf, Diagnostic> {
        let p = Path::new(rel);
        let plain = !rel.is_empty()
            && !rel.contains('\\')
            && p.components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            return Err(Diagnostic::error(
                "output-path",
                format!("refusing to write `{rel}`: it is not a path inside the output folder"),
            )
            .with_help(
                "this is a bug in fieldbook if no earlier error explains it; please report it",
            ));
        }
        Ok(self.dir.join(p))
    }

    /// Swap the finished site in place of the old one.
    pub fn commit(self) -> Result<PathBuf, Diagnostic> {
        if self.target.exists() && exchange(&self.dir, &self.target).is_ok() {
            // The staging folder now holds the old site.
            let _ = remove_tree(&self.dir);
            return Ok(self.target.clone());
        }
        let parent = self.dir.parent().map(Path::to_path_buf).unwrap_or_default();
        let old = parent.join(format!("{}old", temp_prefix(&self.target)));
        if old.exists() {
            remove_tree(&old).map_err(|e| io_error(&old, &e))?;
        }
        if self.target.exists() {
            fs::rename(&self.target, &old).map_err(|e| io_error(&self.target, &e))?;
        }
        if let Err(e) = fs::rename(&self.dir, &self.target) {
            let _ = fs::rename(&old, &self.target);
            return Err(io_error(&self.target, &e));
        }
        if old.exists() {
            let _ = remove_tree(&old);
        }
        Ok(self.target.clone())
    }

    /// Throw the staging folder away (the build failed).
    pub fn abandon(self) {
        let _ = remove_tree(&self.dir);
    }
}

/// Swap two paths atomically (Linux `renameat2` with `RENAME_EXCHANGE`): at every instant one of the
/// two complete sites is at `b`. Elsewhere, or on file systems without it, the caller falls back to two
/// renames, and [`prepare`] repairs the gap between them if a build is killed there.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let cb = CString::new(b.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: both arguments are valid NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no atomic exchange here",
    ))
}

/// Delete a folder and everything in it, files in parallel: a large site has tens of thousands of
/// files, and deleting them one after another dominates the time of a rebuild.
fn remove_tree(dir: &Path) -> io::Result<()> {
    use rayon::prelude::*;
    let files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .map(walkdir::DirEntry::into_path)
        .collect();
    files.par_iter().for_each(|f| {
        let _ = fs::remove_file(f);
    });
    fs::remove_dir_all(dir)
}

fn io_error(path: &Path, e: &io::Error) -> Diagnostic {
    Diagnostic::setup("io", format!("cannot write {}: {e}", path.display()))
        .with_help("check that the folder is writable and the disk is not full")
}

/// Output path of a page URL (`tools/doudian/` -> `tools/doudian/index.html`).
pub fn page_file(url: &str) -> String {
    format!("{url}index.html")
}

/// A file of the served site.
#[derive(Debug, Clone)]
pub enum Entry {
    /// Made in memory.
    Bytes(Arc<[u8]>),
    /// A file on disk (static files, files beside pages), read when asked for; served only while it
    /// resolves to a path inside the site's folder.
    Disk(Arc<Path>),
}

/// The served site: every file by output path.
pub type Files = HashMap<String, Entry>;
