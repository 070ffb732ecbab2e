#!/usr/bin/env python3
"""Measures ttdb's recording and replay speed against the program alone and
against strace -f, on fixed workloads.

Each workload runs natively, under `ttdb record`, under `ttdb replay --run`
and under `strace -f -o /dev/null`, the four alternating, --runs times; the
table gives medians, as ratios to the native median measured in the same run.
See bench/README.md.
"""

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def workloads(build, scratch):
    bench = os.path.join(build, "bench")
    gzip_input = os.path.join(scratch, "gzip-input")
    sql = os.path.join(scratch, "insert.sql")
    return {
        # Issue 4's set: what recording speed is judged on.
        "speed": [
            ("ls -lR /usr/include", ["ls", "-lR", "/usr/include"], None),
            ("find /usr", ["find", "/usr"], None),
            ("gzip 20 MB", ["gzip", "-c", gzip_input], None),
            ("sqlite3 100k inserts", ["sqlite3", os.path.join(scratch, "db.sqlite")], sql),
            ("1M small reads/writes", [os.path.join(bench, "small_io")], None),
            ("1M clock_gettime", [os.path.join(bench, "clock_loop")], None),
            ("compute loop", [os.path.join(bench, "compute")], None),
        ],
        # Issue 2's real programs, which must replay identically.
        "real": [
            ("ls -la /usr/share/doc", ["ls", "-la", "/usr/share/doc"], None),
            ("gzip -c 3 MB", ["gzip", "-c", gzip_input + ".small"], None),
            ("date +%s.%N", ["date", "+%s.%N"], None),
            ("od /dev/urandom", ["od", "-N", "65536", "-x", "/dev/urandom"], None),
            ("awk srand()", ["awk", "BEGIN { srand(); for (i = 0; i < 100000; i++) s += rand(); print s }"], None),
            ("perl rand, time", ["perl", "-e", "my $s = 0; $s += rand() for 1..100000; print $s, ' ', time, qq(\\n)"], None),
            ("sqlite3 random()", ["sqlite3", ":memory:", "select sum(random() % 1000) from generate_series(1, 100000);"], None),
            ("bc -l on stdin", ["bc", "-l"], os.path.join(scratch, "bc.in")),
            ("tar -cf - /usr/share/doc", ["tar", "-cf", "-", "/usr/share/doc"], None),
        ],
        # Issue 5's process trees: every child recorded in the same trace.
        "processes": [
            ("sh: 200 processes", ["sh", "-c", "for i in $(seq 200); do /bin/true; done"], None),
            ("pipeline: seq, sort, uniq, wc", ["sh", "-c", "seq 200000 | sort -n | uniq | wc -l"], None),
            ("make -j2, 40 targets", ["make", "-s", "-j2", "-C", os.path.join(scratch, "make"), "-B"], None),
            # With threads, which take turns.
            ("xz -T2 of 3 MB", ["xz", "-T2", "-c", gzip_input + ".small"], None),
            ("sort --parallel=2 of 3 MB", ["sort", "--parallel=2", gzip_input + ".small"], None),
            ("2 threads, 200k clock reads", [os.path.join(bench, "travel"), "200000", "20000", "2"], None),
        ],
    }


def prepare(scratch):
    with open("/dev/urandom", "rb") as rnd:
        text = b"".join(rnd.read(64).hex().encode() + b"\n" for _ in range(160000))  # ~20 MB, compressible
    with open(os.path.join(scratch, "gzip-input"), "wb") as f:
        f.write(text)
    with open(os.path.join(scratch, "gzip-input.small"), "wb") as f:
        f.write(text[: 3 << 20])
    with open(os.path.join(scratch, "insert.sql"), "w") as f:
        f.write("create table t(id integer primary key, v text);\nbegin;\n")
        for i in range(100000):
            f.write(f"insert into t(v) values('row {i}');\n")
        f.write("commit;\nselect count(*) from t;\n")
    with open(os.path.join(scratch, "bc.in"), "w") as f:
        f.write("scale=2000\n4*a(1)\n")
    os.mkdir(os.path.join(scratch, "make"))
    with open(os.path.join(scratch, "make", "Makefile"), "w") as f:
        targets = " ".join(f"t{i}.out" for i in range(40))
        f.write(f"all: {targets}\n\tcat {targets} | sort | md5sum\n")
        f.write("%.out:\n\techo $@ | sha256sum > $@\n")


def timed(argv, stdin_path, cwd, rss_file, env=None):
    """Runs argv with stdout to /dev/null; returns (seconds, peak RSS in KiB, status, stderr).

    GNU time measures the peak RSS: a child forked from this Python process
    would count Python's own memory as its peak."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, env=env)
    elapsed = time.perf_counter() - start
    if stdin_path:
        stdin.close()
    with open(rss_file) as f:
        lines = f.read().split()
    return elapsed, int(lines[-1]) if lines else 0, proc.returncode, proc.stderr.decode(errors="replace")


def trace_events(trace):
    """The recording's event count (format 2 packs events into chunks)."""
    db = sqlite3.connect(f"file:{trace}?mode=ro", uri=True)
    try:
        try:
            return db.execute("select coalesce(max(last), 0) from chunks").fetchone()[0]
        except sqlite3.OperationalError:  # format 1, for comparisons with older builds
            return db.execute("select count(*) from events").fetchone()[0]
    finally:
        db.close()


def measure(name, argv, stdin_path, ttdb, runs, scratch, options):
    kinds = ["native", "record"] + ([] if options.record_only else ["replay", "strace"])
    samples = {kind: [] for kind in kinds}
    rss, size_per_event = [], []
    env = dict(os.environ, **dict(v.split("=", 1) for v in options.env))
    for run in range(runs):
        trace = os.path.join(scratch, f"bench-{run}.ttdb")
        for kind in kinds:
            # Workloads that write files (sqlite3) start from nothing each time.
            for leftover in ("db.sqlite", "db.sqlite-journal"):
                path = os.path.join(scratch, leftover)
                if os.path.exists(path):
                    os.remove(path)
            if kind == "native":
                cmd = argv
            elif kind == "record":
                cmd = [ttdb, "record", "-q"] + options.record_args.split() + ["-o", trace, "--"] + argv
            elif kind == "replay":
                cmd = [ttdb, "replay", "--run", trace]
            else:
                cmd = ["strace", "-f", "-o", "/dev/null"] + argv
            seconds, peak, status, err = timed(cmd, stdin_path if kind != "replay" else None, scratch,
                                               os.path.join(scratch, "rss"), env if kind in ("record", "replay") else None)
            if status != 0:
                sys.exit(f"bench: {name}: {kind} failed with status {status}: {err.strip()[:500]}")
            samples[kind].append(seconds)
            if kind == "record":
                rss.append(peak)
                size_per_event.append(os.path.getsize(trace) / max(1, trace_events(trace)))
        os.remove(trace)
    native = statistics.median(samples["native"])
    ratio = lambda kind: statistics.median(samples[kind]) / native if samples.get(kind) else float("nan")
    return {
        "name": name,
        "native": native,
        "record": ratio("record"),
        "replay": ratio("replay"),
        "strace": ratio("strace"),
        "bytes_per_event": statistics.median(size_per_event),
        "peak_mib": statistics.median(rss) / 1024,
    }


def check_output(name, argv, stdin_path, ttdb, scratch, options):
    """Whether `ttdb replay --run` of a recording prints what the recording printed."""
    trace = os.path.join(scratch, "check.ttdb")
    outputs = []
    for kind in ("record", "replay"):
        for leftover in ("db.sqlite", "db.sqlite-journal"):
            if os.path.exists(os.path.join(scratch, leftover)):
                os.remove(os.path.join(scratch, leftover))
        cmd = ([ttdb, "record", "-q"] + options.record_args.split() + ["-o", trace, "--"] + argv if kind == "record"
               else [ttdb, "replay", "--run", trace])
        stdin = open(stdin_path, "rb") if stdin_path and kind == "record" else subprocess.DEVNULL
        proc = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=scratch)
        if stdin is not subprocess.DEVNULL:
            stdin.close()
        outputs.append((proc.returncode, proc.stdout))
    os.remove(trace)
    same = outputs[0] == outputs[1]
    print(f"  {name}: {'replay prints what the recording printed' if same else 'REPLAY DIFFERS'} "
          f"({len(outputs[0][1])} bytes, status {outputs[0][0]})", flush=True)
    return same


def table(rows):
    lines = [
        "| workload | native (s) | record / native | replay / native | strace -f / native | trace bytes / event | recorder peak RSS (MiB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['native']:.3f} | {r['record']:.2f} | {r['replay']:.2f} | {r['strace']:.2f} | "
            f"{r['bytes_per_event']:.0f} | {r['peak_mib']:.1f} |"
        )
    ratios = [r["record"] for r in rows]
    lines.append("")
    lines.append(f"Median record / native over the set: {statistics.median(ratios):.2f}; "
                 f"replay / native: {statistics.median([r['replay'] for r in rows]):.2f}; "
                 f"strace -f / native: {statistics.median([r['strace'] for r in rows]):.2f}.")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=["speed", "real", "processes", "all"], default="all")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--only", help="run only workloads whose name contains this")
    parser.add_argument("--record-args", default="", help="extra options for ttdb record, such as --no-syscall-buffer")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment for ttdb record and replay, such as TTDB_NO_PIN=1 (repeatable)")
    parser.add_argument("--record-only", action="store_true", help="measure native and record only")
    parser.add_argument("--check-output", action="store_true",
                        help="instead of timing, check that each workload's replay prints what its recording printed")
    args = parser.parse_args()
    ttdb = os.path.join(args.build, "ttdb")
    if not os.access(ttdb, os.X_OK):
        sys.exit(f"bench: {ttdb} is missing; run scripts/bootstrap first")
    for tool in ("strace", "/usr/bin/time"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing; run scripts/bootstrap first")
    scratch = tempfile.mkdtemp(prefix="ttdb-bench-")
    try:
        prepare(scratch)
        sets = ["speed", "real", "processes"] if args.set == "all" else [args.set]
        print(f"Machine: {platform.node()}, Linux {platform.release()}, {os.cpu_count()} CPUs; "
              f"{args.runs} runs each, medians; record {' '.join(['ttdb record'] + args.record_args.split())}"
              f"{''.join(' ' + e for e in args.env)}.\n")
        for name in sets:
            rows = []
            differs = []
            for workload, argv, stdin_path in workloads(args.build, scratch)[name]:
                if args.only and args.only not in workload:
                    continue
                if args.check_output:
                    if not check_output(workload, argv, stdin_path, ttdb, scratch, args):
                        differs.append(workload)
                    continue
                rows.append(measure(workload, argv, stdin_path, ttdb, args.runs, scratch, args))
                print(f"  measured {workload}", file=sys.stderr)
            if args.check_output:
                if differs:
                    sys.exit(f"bench: the replays of {', '.join(differs)} print other output than their recordings")
                continue
            print(f"### {name}\n\n{table(rows)}\n")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
