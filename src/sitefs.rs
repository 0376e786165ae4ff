//! The site's folders on disk: one walk for content/, static/, templates/ and themes/, and one rule
//! for what fieldbook may read from them, in `build`, `check` and `serve` alike.
//!
//! **The rule.** A file is read only when its real path (every symbolic link followed) lies inside
//! the site's folder and in none of its hidden folders (`.git/` holds the remote's credentials on
//! many CI machines). A link that points anywhere else is an error on the link, and nothing behind
//! it is read: `static/env.txt -> /proc/self/environ` or `content/x.md -> /etc/passwd` can never
//! publish a byte. Links inside the site are fine (a shared folder linked into two sections).
//!
//! Hidden files and folders (`.name`) and the leftovers of editors and tools (`page.md~`,
//! `#page.md#`, swap files; see [`is_leftover`]) are not part of the site: they are never walked.

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::diagnostics::Diagnostic;

/// A file found by [`walk`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Path relative to the walked folder, with `/` separators.
    pub rel: String,
    /// Path on disk (under the walked folder, as written: links not resolved).
    pub path: PathBuf,
}

/// What [`walk`] found: the files, sorted by path, and the problems (links out of the site, loops,
/// unreadable entries), each naming its file.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<Found>,
    pub diags: Vec<Diagnostic>,
    /// The links the walk went through (to a file or a folder), relative to the folder walked.
    pub links: Vec<String>,
}

/// Editors' and tools' temporary files: backups (`page.md~`), Emacs' auto-save files (`#page.md#`),
/// swap files, JetBrains' safe-write files, `sed -i`'s work files, vim's write test file, partial
/// downloads. Never published, never watched.
pub fn is_leftover(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.ends_with('~')
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'))
        || name == "4913"
        || [
            ".swp",
            ".swx",
            ".swo",
            ".tmp",
            ".kate-swp",
            ".crdownload",
            ".part",
            "___jb_tmp___",
            "___jb_old___",
        ]
        .iter()
        .any(|s| lower.ends_with(s))
        || (name.len() == 9
            && name.starts_with("sed")
            && name[3..].chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Whether a file or folder name is left out of the site: hidden, or an editor's leftover.
pub fn is_skipped(name: &str) -> bool {
    name.starts_with('.') || is_leftover(name)
}

/// Where `path` really is, when fieldbook may read it: its canonical path, which must lie inside
/// `root` (itself canonical) and outside the site's hidden folders. The error says where it points.
pub fn resolve_inside(root: &Path, path: &Path) -> Result<PathBuf, Outside> {
    let real = std::fs::canonicalize(path).map_err(Outside::Unreadable)?;
    within(root, real)
}

/// The rule itself, on a path with no links left in it.
fn within(root: &Path, real: PathBuf) -> Result<PathBuf, Outside> {
    match real.strip_prefix(root) {
        Ok(rest) if !rest.components().any(is_hidden) => Ok(real),
        Ok(_) => Err(Outside::Hidden(real)),
        Err(_) => Err(Outside::Away(real)),
    }
}

/// Open `path` for reading by the rule of [`resolve_inside`], checking the file that was opened
/// rather than the name that was resolved: on Linux the open file's own path (`/proc/self/fd`) must
/// obey the rule too, so a link swapped in between the check and the open is caught.
pub fn open_inside(root: &Path, path: &Path) -> Result<std::fs::File, Outside> {
    let real = resolve_inside(root, path)?;
    let file = std::fs::File::open(&real).map_err(Outside::Unreadable)?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let opened = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
            .map_err(Outside::Unreadable)?;
        within(root, opened)?;
    }
    Ok(file)
}

fn is_hidden(c: Component) -> bool {
    matches!(c, Component::Normal(n) if n.to_string_lossy().starts_with('.'))
}

/// Why [`resolve_inside`] refused a path.
#[derive(Debug)]
pub enum Outside {
    /// It resolves outside the site's folder.
    Away(PathBuf),
    /// It resolves into a hidden folder of the site (`.git/`...).
    Hidden(PathBuf),
    /// It cannot be resolved (a dangling link, no permission).
    Unreadable(io::Error),
}

/// The canonical form of the site's folder, for [`resolve_inside`] (the folder as given when it
/// cannot be resolved, which then matches nothing that can).
pub fn canonical_root(root: &Path) -> PathBuf {
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())
}

/// Every file under `dir` (a folder of the site at `root`), sorted, as [`Found`]s. `shown` is how
/// `dir` is named in errors (`content`, `themes/x/static`). A missing folder is empty.
pub fn walk(root: &Path, dir: &Path, shown: &str) -> Walked {
    let mut out = Walked::default();
    if !dir.exists() && dir.symlink_metadata().is_err() {
        return out;
    }
    let root = canonical_root(root);
    let shown_of = |p: &Path| {
        let rel = p.strip_prefix(dir).unwrap_or(p);
        let rel = rel.to_string_lossy().replace('\\', "/");
        if rel.is_empty() {
            shown.to_string()
        } else {
            format!("{shown}/{rel}")
        }
    };
    let mut it = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_skipped(&e.file_name().to_string_lossy()));
    while let Some(entry) = it.next() {
        let e = match entry {
            Ok(e) => e,
            Err(err) => {
                out.diags.push(walk_error(&err, &shown_of));
                continue;
            }
        };
        // Only links need resolving: what lies under a folder that is inside the site is inside
        // too, unless it is a link itself, which is checked when the walk reaches it.
        if e.path_is_symlink() {
            let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
            out.links.push(rel.to_string_lossy().replace('\\', "/"));
        }
        if e.path_is_symlink() || e.depth() == 0 {
            if let Err(why) = resolve_inside(&root, e.path()) {
                out.diags
                    .push(outside_error(e.path(), &shown_of(e.path()), &why));
                if e.file_type().is_dir() {
                    it.skip_current_dir();
                }
                continue;
            }
        }
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e
            .path()
            .strip_prefix(dir)
            .unwrap_or(e.path())
            .to_string_lossy()
            .replace('\\', "/");
        out.files.push(Found {
            rel,
            path: e.into_path(),
        });
    }
    out
}

/// The error for a link that [`resolve_inside`] refused.
pub fn outside_error(path: &Path, shown: &str, why: &Outside) -> Diagnostic {
    let to = std::fs::read_link(path)
        .map(|t| format!(" to `{}`", t.display()))
        .unwrap_or_default();
    let (code, msg, help) = match why {
        Outside::Away(_) => (
            "link-outside",
            format!("this is a symbolic link{to}, which leads out of the site's folder; fieldbook reads nothing outside the site"),
            "copy the file into the site, or remove the link",
        ),
        Outside::Hidden(_) => (
            "link-outside",
            format!("this is a symbolic link{to}, which leads into a hidden folder of the site; fieldbook reads nothing there"),
            "copy the file out of the hidden folder, or remove the link",
        ),
        Outside::Unreadable(e) if e.kind() == io::ErrorKind::NotFound => (
            "io",
            format!("cannot read: this is a symbolic link{to}, which does not exist"),
            "fix the link or remove it",
        ),
        Outside::Unreadable(e) => (
            "io",
            format!("cannot read: {e}"),
            "check the file's permissions",
        ),
    };
    // A file that cannot be read is the setup's problem, not the content's.
    (if code == "io" {
        Diagnostic::setup
    } else {
        Diagnostic::error
    })(code, msg)
    .in_file(shown)
    .with_help(help)
}

fn walk_error(err: &walkdir::Error, shown_of: &dyn Fn(&Path) -> String) -> Diagnostic {
    let (code, msg, help) = if err.loop_ancestor().is_some() {
        (
            "symlink-loop",
            "a symbolic link here points back to a folder that contains it".to_string(),
            "remove the link, or point it at a folder that does not contain it",
        )
    } else if let Some(to) = err
        .path()
        .and_then(|p| std::fs::read_link(p).ok())
        .filter(|_| {
            err.io_error()
                .is_some_and(|e| e.kind() == io::ErrorKind::NotFound)
        })
    {
        (
            "io",
            format!(
                "cannot read: this is a symbolic link to `{}`, which does not exist",
                to.display()
            ),
            "fix the link or remove it",
        )
    } else {
        (
            "io",
            format!(
                "cannot read: {}",
                err.io_error()
                    .map_or_else(|| err.to_string(), |e| e.to_string())
            ),
            "check the file's permissions",
        )
    };
    let d = // A file that cannot be read is the setup's problem, not the content's.
    (if code == "io" { Diagnostic::setup } else { Diagnostic::error })(code, msg).with_help(help);
    match err.path() {
        Some(p) => d.in_file(shown_of(p)),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_editors_are_recognised() {
        for name in [
            "plan.md~",
            "#plan.md#",
            "plan.md.swp",
            "4913",
            "plan.md___jb_tmp___",
            "sedAb12Cd",
        ] {
            assert!(is_leftover(name), "{name}");
        }
        for name in [
            "plan.md",
            "#",
            "c#.md",
            "notes#1.md",
            "sedan.png",
            "a.md.bak",
        ] {
            assert!(!is_leftover(name), "{name}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_resolve_only_inside_the_site_and_outside_its_hidden_folders() {
        let site = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let secret = elsewhere.path().join("secret.txt");
        std::fs::write(&secret, "secret").unwrap();
        let root = canonical_root(site.path());
        std::fs::create_dir_all(root.join("static")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "token").unwrap();
        std::fs::write(root.join("static/a.txt"), "a").unwrap();
        let link = |to: &str, name: &str| {
            std::os::unix::fs::symlink(to, root.join("static").join(name)).unwrap()
        };
        link("a.txt", "b.txt");
        link(&secret.to_string_lossy(), "host.txt");
        link("../.git/config", "git.txt");
        assert!(resolve_inside(&root, &root.join("static/b.txt")).is_ok());
        assert!(open_inside(&root, &root.join("static/b.txt")).is_ok());
        assert!(open_inside(&root, &root.join("static/host.txt")).is_err());
        assert!(open_inside(&root, &root.join("static/git.txt")).is_err());
        assert!(matches!(
            resolve_inside(&root, &root.join("static/host.txt")),
            Err(Outside::Away(_))
        ));
        assert!(matches!(
            resolve_inside(&root, &root.join("static/git.txt")),
            Err(Outside::Hidden(_))
        ));
        let w = walk(&root, &root.join("static"), "static");
        let rels: Vec<&str> = w.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["a.txt", "b.txt"]);
        assert_eq!(w.diags.len(), 2, "{:?}", w.diags);
    }
}
