//! The `fieldbook` command: parse arguments, call the library, print diagnostics, set the exit code
//! (0 ok, 1 problems in the site, 2 usage or I/O).

use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use fieldbook::diagnostics::ErrorKind;
use fieldbook::diagnostics::{render_json, render_terminal};
use fieldbook::{BuildOptions, Diagnostic};

// A build allocates many short-lived strings on every thread; mimalloc handles that pattern with far
// less time in the allocator than the system's malloc (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "fieldbook",
    version,
    about = "Build typed Markdown into a searchable, cross-linked static site."
)]
struct Cli {
    /// The site's folder (the one with site.yaml).
    #[arg(long, global = true, default_value = ".")]
    root: PathBuf,
    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into a folder (public/ by default), replacing it only if the build succeeds.
    Build {
        /// Output folder.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Serve the site under this path or URL instead of site.yaml's base_url (e.g. /kb/).
        #[arg(long)]
        base_url: Option<String>,
        /// Include pages marked `draft: true`.
        #[arg(long)]
        drafts: bool,
        /// Print how long each stage took and the peak memory after it.
        #[arg(long)]
        timings: bool,
    },
    /// Check everything a build checks (fields, references, links, anchors, templates); write nothing.
    Check {
        /// How to print problems.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Include pages marked `draft: true`.
        #[arg(long)]
        drafts: bool,
    },
    /// Create a new site in DIR (a new or empty folder) that builds and checks clean.
    Init {
        /// The folder to create the site in.
        dir: PathBuf,
    },
    /// Create a page of KIND titled TITLE, its front matter listing the kind's fields to fill in.
    New {
        /// The kind of page (as named in site.yaml, e.g. `playbook`, or its folder).
        kind: String,
        /// The page's title; the file is named after it.
        title: String,
    },
    /// Build the site in memory and serve it on this machine; rebuild on every change and reload the
    /// open pages. Never writes to public/.
    Serve {
        /// Port to listen on (0 for any free port). Without it: 1111, or the next free one.
        #[arg(long)]
        port: Option<u16>,
        /// Address to listen on. Anything but a loopback address lets other machines read the site.
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
        /// Open the site in the default browser.
        #[arg(long)]
        open: bool,
        /// Include pages marked `draft: true`.
        #[arg(long)]
        drafts: bool,
    },
}

/// Prints what `serve` reports: news on stdout, problems on stderr.
struct Terminal {
    color: bool,
}

impl fieldbook::serve::Reporter for Terminal {
    fn line(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
    fn problems(&self, diags: &[Diagnostic]) {
        eprint!("{}", render_terminal(diags, self.color));
    }
    /// mimalloc gives freed memory back to the system only as it allocates again: after a full
    /// render, an idle `serve` held 500 MB more than it needs. Each thread's heap is collected.
    fn settled(&self) {
        // SAFETY: mi_collect takes no pointers; it trims the calling thread's heap and the shared
        // segments, which mimalloc allows at any time from any thread.
        rayon::broadcast(|_| unsafe { libmimalloc_sys::mi_collect(true) });
        // SAFETY: as above.
        unsafe { libmimalloc_sys::mi_collect(true) };
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    match cli.command {
        Command::Build {
            output,
            base_url,
            drafts,
            timings,
        } => {
            let mut watch = if timings {
                fieldbook::timings::Stopwatch::on()
            } else {
                fieldbook::timings::Stopwatch::off()
            };
            let opts = BuildOptions {
                root: cli.root.clone(),
                output,
                base_url,
                drafts,
            };
            let spinner = (!cli.quiet && std::io::stderr().is_terminal()).then(Spinner::start);
            let result = fieldbook::build::build_timed(&opts, &mut watch);
            if let Some(s) = spinner {
                s.stop();
            }
            let code = match result {
                Ok(report) => {
                    if !report.warnings.is_empty() {
                        eprint!("{}", render_terminal(&report.warnings, color));
                        let n = report.warnings.len();
                        let s = if n == 1 { "" } else { "s" };
                        eprintln!("{n} warning{s}; the site was written");
                    }
                    if !cli.quiet {
                        println!(
                            "Built {} pages in {} ms",
                            report.pages,
                            report.elapsed.as_millis()
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(diags) => fail(&diags, color),
            };
            if timings {
                print_timings(&watch);
            }
            code
        }
        Command::Serve {
            port,
            bind,
            open,
            drafts,
        } => {
            let opts = fieldbook::ServeOptions {
                root: cli.root.clone(),
                bind,
                port: port.unwrap_or(fieldbook::serve::DEFAULT_PORT),
                port_given: port.is_some(),
                open,
                drafts,
            };
            match fieldbook::serve(&opts, &Terminal { color }) {
                Ok(()) => ExitCode::SUCCESS,
                Err(d) => {
                    eprint!("{}", render_terminal(&[d], color));
                    ExitCode::from(2)
                }
            }
        }
        Command::Check { format, drafts } => {
            let opts = BuildOptions {
                root: cli.root.clone(),
                drafts,
                ..Default::default()
            };
            let result = fieldbook::check(&opts);
            let (diags, code) = match &result {
                Ok(site) => (site.warnings.clone(), ExitCode::SUCCESS),
                Err(d) => (d.clone(), exit_code(d)),
            };
            if format == Format::Json {
                println!("{}", render_json(&diags));
            } else {
                eprint!("{}", render_terminal(&diags, color));
                match &result {
                    Ok(site) if !cli.quiet => {
                        println!("Checked {} pages: no problems", site.pages.len())
                    }
                    Ok(_) => {}
                    Err(d) => eprintln!("{}", summary(d)),
                }
            }
            code
        }
        Command::Init { dir } => match fieldbook::scaffold::init(&dir) {
            Ok(files) => {
                if !cli.quiet {
                    println!("Created a new site in {}:", dir.display());
                    for f in files {
                        println!("  {}", f.display());
                    }
                    println!("Next: cd {} && fieldbook build", dir.display());
                }
                ExitCode::SUCCESS
            }
            Err(d) => usage_failure(&[d], color),
        },
        Command::New { kind, title } => {
            match fieldbook::scaffold::new_page(&cli.root, &kind, &title) {
                Ok(path) => {
                    if !cli.quiet {
                        println!("Created {}", path.display());
                        println!("Fill in its fields, then run `fieldbook check`.");
                    }
                    ExitCode::SUCCESS
                }
                Err(d) => usage_failure(&d, color),
            }
        }
    }
}

/// `init` and `new` fail only on usage or I/O problems: print them, exit 2.
fn usage_failure(diags: &[Diagnostic], color: bool) -> ExitCode {
    eprint!("{}", render_terminal(diags, color));
    ExitCode::from(2)
}

fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    if warnings > 0 {
        format!(
            "{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    } else {
        plural(errors, "error")
    }
}

fn exit_code(diags: &[Diagnostic]) -> ExitCode {
    if diags
        .iter()
        .filter(|d| d.is_error())
        .all(|d| d.kind == ErrorKind::Setup)
    {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

fn fail(diags: &[Diagnostic], color: bool) -> ExitCode {
    eprint!("{}", render_terminal(diags, color));
    eprintln!("{}; nothing was written", summary(diags));
    exit_code(diags)
}

/// A spinner on the terminal, shown only once a build has taken more than a second.
struct Spinner {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Spinner {
    fn start() -> Spinner {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let frames = ['|', '/', '-', '\\'];
            let mut n = 0usize;
            let mut shown = false;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                n += 1;
                if n >= 10 {
                    eprint!("\r{} building…", frames[n % frames.len()]);
                    let _ = std::io::stderr().flush();
                    shown = true;
                }
            }
            if shown {
                eprint!("\r\x1b[2K");
            }
        });
        Spinner { stop, thread }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

/// The `--timings` table, on stderr.
fn print_timings(watch: &fieldbook::timings::Stopwatch) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{:<36} {:>10} {:>14}", "stage", "ms", "peak RSS MiB");
    for (stage, took, peak) in watch.stages() {
        let peak = peak.map_or("-".to_string(), |b| format!("{}", b / (1024 * 1024)));
        let _ = writeln!(
            err,
            "{stage:<36} {:>10.1} {peak:>14}",
            took.as_secs_f64() * 1000.0
        );
    }
    for (what, n) in watch.counts() {
        let _ = writeln!(err, "{what}: {n}");
    }
}
