#!/usr/bin/env python3
"""gdb over `ttdb serve` against the shell: the same backward motions timed
both ways, and the memory reads per second the server answers.

    python3 bench/gdb_bench.py [--build build] [--runs 5] [--motions 40]

A motion's time is the median wall time of a session that makes MOTIONS of
them after reaching a position, less that of a session that only reaches
the position, divided by MOTIONS: what starting ttdb, gdb and the first
pass cost cancels out. Memory reads are `m` packets of 64 bytes sent one
after another (each waits for its reply, as gdb does) on a pipe in no-ack
mode, by this script rather than gdb, so that gdb's own caching and
parsing are not what is measured. Prints a markdown table.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Reached the same way by both front ends: the 30th call of work(), then
# back out into run(), where a line makes a call and a syscall each round.
SETUP = ["break work", "continue 30", "finish", "delete"]


def timed(argv):
    start = time.monotonic()
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=600)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"gdb_bench: {' '.join(argv[:3])}... failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed, done.stdout.decode()


def shell_argv(ttdb, trace, commands):
    argv = [ttdb, "replay"]
    for c in commands:
        argv += ["-ex", c]
    return argv + [trace]


def gdb_argv(ttdb, trace, program, commands):
    argv = ["gdb", "-batch", "-nx", "-ex", "set pagination off", "-ex", f"target remote | {ttdb} serve {trace}"]
    for c in commands:
        argv += ["-ex", c]
    return argv + [program]


def per_motion(make_argv, motion, count, runs):
    base, moved = [], []
    for _ in range(runs):
        base.append(timed(make_argv(SETUP))[0])
        moved.append(timed(make_argv(SETUP + [motion] * count))[0])
    return (statistics.median(moved) - statistics.median(base)) / count * 1000


def checksum(packet):
    return f"{sum(packet.encode()) % 256:02x}"


class Client:
    """The remote protocol over `ttdb serve`'s stdin and stdout."""

    def __init__(self, ttdb, trace):
        self.proc = subprocess.Popen([ttdb, "serve", trace], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.ack = True

    def send(self, packet):
        self.proc.stdin.write(f"${packet}#{checksum(packet)}".encode())
        self.proc.stdin.flush()
        return self.reply()

    def reply(self):
        out = self.proc.stdout
        while True:
            c = out.read(1)
            if not c:
                sys.exit("gdb_bench: ttdb serve closed the connection")
            if c == b"$":
                break
        body = bytearray()
        while (c := out.read(1)) != b"#":
            body += c
        out.read(2)
        if self.ack:
            self.proc.stdin.write(b"+")
            self.proc.stdin.flush()
        return body.decode()

    def close(self):
        self.proc.stdin.write(b"$k#6b")
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def reads_per_second(ttdb, trace, count):
    client = Client(ttdb, trace)
    client.send("qSupported:swbreak+;hwbreak+")
    client.send("QStartNoAckMode")
    client.ack = False
    client.send("?")
    regs = client.send("g")
    rsp = int.from_bytes(bytes.fromhex(regs[7 * 16:8 * 16]), "little")
    packet = f"m{rsp:x},40"
    start = time.monotonic()
    for _ in range(count):
        if len(client.send(packet)) != 128:
            sys.exit("gdb_bench: a memory read came back short")
    elapsed = time.monotonic() - start
    client.close()
    return count / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--motions", type=int, default=40)
    parser.add_argument("--reads", type=int, default=20000)
    args = parser.parse_args()
    ttdb = os.path.abspath(os.path.join(args.build, "ttdb"))
    program = os.path.abspath(os.path.join(args.build, "bench", "travel"))
    with tempfile.TemporaryDirectory() as scratch:
        trace = os.path.join(scratch, "travel.ttdb")
        subprocess.run([ttdb, "record", "-q", "-o", trace, program, "3000", "100"], check=True,
                       stdout=subprocess.DEVNULL)
        rows = []
        for motion in ["reverse-stepi", "reverse-next", "stepi", "next"]:
            shell = per_motion(lambda c: shell_argv(ttdb, trace, c), motion, args.motions, args.runs)
            gdb = per_motion(lambda c: gdb_argv(ttdb, trace, program, c), motion, args.motions, args.runs)
            rows.append((motion, shell, gdb))
        reads = reads_per_second(ttdb, trace, args.reads)
    print("| motion | shell (ms) | gdb over `ttdb serve` (ms) | gdb / shell |")
    print("| --- | ---: | ---: | ---: |")
    for motion, shell, gdb in rows:
        ratio = gdb / shell if shell > 0 else float("nan")
        print(f"| {motion} | {shell:.2f} | {gdb:.2f} | {ratio:.2f} |")
    print()
    print(f"Memory reads (`m`, 64 bytes, one at a time, no-ack): {reads:,.0f} packets per second.")


if __name__ == "__main__":
    main()
