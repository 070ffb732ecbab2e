#!/usr/bin/env python3
"""Measures `ttdb timeline` on a recording of a million events: how long
ttdb takes to write the page, how large it is, and how long headless
Chromium takes to read it (the page's own count, from its script's start
to its first drawing, and the whole open, navigation to ready, as seen
from outside). Medians of --runs; see bench/README.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    ttdb = os.path.join(options.build, "ttdb")
    browse = os.path.join(ROOT, "tests", "support", "browse_timeline.py")
    with tempfile.TemporaryDirectory(prefix="ttdb-timeline-bench-") as scratch:
        trace, page = os.path.join(scratch, "clock.ttdb"), os.path.join(scratch, "clock.html")
        subprocess.run([ttdb, "record", "-q", "-o", trace, os.path.join(options.build, "bench", "clock_loop")],
                       check=True, stdout=subprocess.DEVNULL)
        events = int(subprocess.run([ttdb, "sql", "SELECT max(last) FROM chunks", trace], check=True,
                                    capture_output=True, text=True).stdout)
        write, inside, whole = [], [], []
        for _ in range(options.runs):
            start = time.monotonic()
            subprocess.run([ttdb, "timeline", trace, "-o", page], check=True, stderr=subprocess.DEVNULL)
            write.append(time.monotonic() - start)
            start = time.monotonic()
            out = subprocess.run([sys.executable, browse, page], check=True, capture_output=True, text=True).stdout
            whole.append(time.monotonic() - start)
            lines = out.splitlines()
            errors = [line for line in lines if line.startswith("error")]
            if errors:
                sys.exit("the page failed: " + "; ".join(errors))
            inside.append(float(next(line for line in lines if line.startswith("ready")).split()[1]) / 1000)
        size = os.path.getsize(page)
    print(f"| events | page size | ttdb timeline | page's own load | browser start, open and load |")
    print(f"| ---: | ---: | ---: | ---: | ---: |")
    print(f"| {events} | {size / 1e6:.1f} MB | {statistics.median(write):.2f} s | {statistics.median(inside):.2f} s "
          f"| {statistics.median(whole):.2f} s |")


if __name__ == "__main__":
    main()
