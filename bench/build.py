#!/usr/bin/env python3
"""Build benchmark: fieldbook beside Hugo on the same generated Markdown, in one run.

    python3 bench/build.py [--work DIR] [--sizes 1000,10000,50000] [--runs 3] [--hugo-max 10000]
                            [--baseline OLD_FIELDBOOK_BINARY]

For each size it generates a site with bench/gen.py (once; the same seed gives the same bytes), then
runs `fieldbook build` and `hugo` alternately, `--runs` times each, every run into an empty output
folder (a cold build: no previous output, no tool cache; the OS file cache is warm for both), and
reports the medians of wall time, CPU time (user + system), peak memory (max RSS) and output size.
Then it times `fieldbook serve`'s single-page rebuild on the 10,000-page site (bench/serve_latency.rs)
and prints the search index figures from `build --timings`.

Hugo runs up to --hugo-max pages (by default 10,000: at 50,000 pages its memory, 3.5 GiB at 10,000,
would approach this machine's 24 GiB).
"""

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, cwd=None):
    """Run a command; return (wall s, cpu s, max rss bytes, stderr text)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024, err


def tree_bytes(path):
    total = files = 0
    for dirpath, _, names in os.walk(path):
        for n in names:
            total += os.path.getsize(os.path.join(dirpath, n))
            files += 1
    return total, files


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except OSError:
        return "not installed"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=None)
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--hugo-max", type=int, default=10000)
    ap.add_argument("--baseline", default=None,
                    help="another fieldbook binary (e.g. built from an earlier commit) to run beside")
    ap.add_argument("--serve-edits", type=int, default=30)
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="fb-bench-")
    os.makedirs(work, exist_ok=True)

    subprocess.run(["cargo", "build", "--quiet", "--release", "--bin", "fieldbook",
                    "--example", "serve_latency"], cwd=ROOT, check=True)
    fb = os.path.join(ROOT, "target", "release", "fieldbook")
    hugo = shutil.which("hugo")
    print(f"fieldbook {version([fb, '--version'])}; hugo: {version(['hugo', 'version']) if hugo else 'not installed'}")
    print(f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, {time.strftime('%Y-%m-%d')}")
    print(f"work dir {work}; {args.runs} runs each, medians\n")

    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        site = os.path.join(work, f"gen{n}")
        if not os.path.isdir(site):
            subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen.py"), str(n), site], check=True)
        md_bytes, _ = tree_bytes(os.path.join(site, "fieldbook", "content"))
        tools = [("fieldbook", lambda out: [fb, "--root", os.path.join(site, "fieldbook"), "build", "-q", "--output", out])]
        if args.baseline:
            tools.append(("baseline", lambda out: [args.baseline, "--root", os.path.join(site, "fieldbook"), "build", "-q", "--output", out]))
        if hugo and n <= args.hugo_max:
            tools.append(("hugo", lambda out: [hugo, "--quiet", "-s", os.path.join(site, "hugo"), "-d", out]))
        results = {name: [] for name, _ in tools}
        for _ in range(args.runs):
            for name, cmd in tools:
                out = os.path.join(work, f"out-{name}-{n}")
                shutil.rmtree(out, ignore_errors=True)
                wall, cpu, rss, _ = run(cmd(out))
                size, files = tree_bytes(out)
                results[name].append((wall, cpu, rss, size, files))
        for name, rs in results.items():
            med = [statistics.median(r[i] for r in rs) for i in range(5)]
            rows.append((n, name, md_bytes, *med, [r[0] for r in rs]))
        if "baseline" in results:
            f = statistics.median(r[0] for r in results["fieldbook"])
            b = statistics.median(r[0] for r in results["baseline"])
            print(f"{n} pages: fieldbook/baseline wall-time ratio {f / b:.2f}")
        if "hugo" in results:
            f = statistics.median(r[0] for r in results["fieldbook"])
            h = statistics.median(r[0] for r in results["hugo"])
            print(f"{n} pages: fieldbook/hugo wall-time ratio {f / h:.2f}")

    print("\n| pages | tool | Markdown | wall (median) | CPU | peak memory | output | files | wall, every run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, name, md, wall, cpu, rss, size, files, walls in rows:
        print(f"| {n:,} | {name} | {md / 1e6:.1f} MB | {wall:.2f} s | {cpu:.2f} s | {rss / 2**20:.0f} MiB | "
              f"{size / 1e6:.0f} MB | {files:,.0f} | {', '.join(f'{w:.2f}' for w in walls)} |")

    fbs = {n: (wall, rss, size) for n, name, _, wall, _, rss, size, _, _ in rows if name == "fieldbook"}
    ns = sorted(fbs)
    for a, b in zip(ns, ns[1:]):
        print(f"fieldbook {a:,} -> {b:,} pages ({b / a:.0f}x): wall x{fbs[b][0] / fbs[a][0]:.1f}, "
              f"memory x{fbs[b][1] / fbs[a][1]:.1f}, output x{fbs[b][2] / fbs[a][2]:.1f}")

    if 10000 in fbs:
        site = os.path.join(work, "gen10000", "fieldbook")
        out = os.path.join(work, "out-timings")
        shutil.rmtree(out, ignore_errors=True)
        _, _, _, err = run([fb, "--root", site, "build", "--timings", "--output", out])
        stage = re.search(r"^search index\s+([\d.]+)", err, re.M)
        size, files = tree_bytes(os.path.join(out, "search"))
        print(f"\nsearch index at 10,000 pages: built in {stage.group(1) if stage else '?'} ms inside the build, "
              f"{size / 1e6:.1f} MB in {files:,} files")
        print("build --timings, 10,000 pages:\n" + err.strip())
        lat = os.path.join(ROOT, "target", "release", "examples", "serve_latency")
        page = "content/playbooks/playbook-00042.md"
        p = subprocess.run([lat, fb, site, str(args.serve_edits), page], capture_output=True, text=True)
        print("\nserve, 10,000 pages:\n" + "\n".join(l for l in p.stdout.splitlines() if "edit" in l or "ready" in l))


if __name__ == "__main__":
    main()
