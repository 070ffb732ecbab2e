#!/usr/bin/env python3
"""Opens a `ttdb timeline` page in headless Chromium (Debian's chromium and
chromium-driver, driven over WebDriver with the standard library alone),
waits until it has read its recording, and reports on stdout, a line each:

  ready <milliseconds the page took to read its events>
  error <a JavaScript error or a severe console message>   (any number)
  lane <a lane's label, as the page shows it>              (one per lane)
  tip <what hovering the real pointer over event N shows>  (with --hover N)

Used by tests/e2e/timeline_test.cc and bench/timeline_load.py."""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


class Driver:
    def __init__(self, chromium, chromedriver):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="ttdb-chromium-")
        self.process = subprocess.Popen([chromedriver, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                self.call("GET", "/status")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        # Without the network flags, Chromium reaches for Google's hosts, which this machine refuses.
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={self.profile}", "--window-size=1400,900"]
        capabilities = {"browserName": "chrome", "goog:chromeOptions": {"binary": chromium, "args": args},
                        "goog:loggingPrefs": {"browser": "ALL"}}
        self.session = self.call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})["sessionId"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())["value"]

    def run(self, path, body=None):
        return self.call("POST", f"/session/{self.session}{path}", body if body is not None else {})

    def script(self, source, *args):
        return self.run("/execute/sync", {"script": source, "args": list(args)})

    def close(self):
        try:
            self.call("DELETE", f"/session/{self.session}")
        finally:
            self.process.terminate()
            self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("page")
    parser.add_argument("--hover", type=int, help="move the pointer over event N and report its tip")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--screenshot", help="save a PNG of the window at the end")
    options = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    for tool in (chromium, chromedriver):
        if not os.path.exists(tool):
            sys.exit(f"{tool} is missing: scripts/bootstrap installs chromium and chromium-driver")
    driver = Driver(chromium, chromedriver)
    try:
        driver.run("/url", {"url": Path(options.page).resolve().as_uri()})
        deadline = time.time() + options.timeout
        state = None
        while time.time() < deadline:
            state = driver.script("const t = window.ttdbTimeline;"
                                  "return t ? {ready: t.ready, errors: t.errors, ms: t.loadMs} : null;")
            if state and (state["ready"] or state["errors"]):
                break
            time.sleep(0.05)
        if not state or not state["ready"]:
            print("error the page did not finish reading its recording in time")
        else:
            print(f"ready {state['ms']:.1f}")
        for error in (state or {}).get("errors", []):
            print("error " + " ".join(str(error).split()))
        for entry in driver.run("/se/log", {"type": "browser"}):
            if entry.get("level") == "SEVERE":
                print("error " + " ".join(entry.get("message", "").split()))
        if state and state["ready"]:
            for label in driver.script("return [...document.querySelectorAll('.lane-label')].map(e => e.textContent);"):
                print("lane " + label)
            if options.hover:
                point = driver.script("return window.ttdbTimeline.point(arguments[0]);", options.hover)
                pointer = {"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
                           "actions": [{"type": "pointerMove", "duration": 0, "origin": "viewport",
                                        "x": int(point["x"]), "y": int(point["y"])}]}
                driver.run("/actions", {"actions": [pointer]})
                tip = driver.script("return document.getElementById('tip').textContent;")
                visible = driver.script("return getComputedStyle(document.getElementById('tip')).display;")
                for line in (tip.split("\n") if visible == "block" else []):
                    print("tip " + line)
        if options.screenshot:
            png = driver.call("GET", f"/session/{driver.session}/screenshot")
            Path(options.screenshot).write_bytes(base64.b64decode(png))
    finally:
        driver.close()


if __name__ == "__main__":
    main()
