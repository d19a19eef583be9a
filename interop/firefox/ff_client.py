#!/usr/bin/env python3
"""Drives a headless Firefox started with --marionette: opens each URL in turn and saves the
page text, then quits Firefox.

Marionette (Firefox's remote protocol) frames every message as "<length>:<json>". A command is
[0, id, name, params]; its answer is [1, id, error, result].

usage: ff_client.py --port PORT --out-prefix PREFIX [--timeout SECONDS] URL...
writes PREFIX1.txt, PREFIX2.txt, ... (document URI on the first line, then the page text);
exit status 0 when every page loaded, 2 when one did not, 3 when Firefox could not be reached.
"""
import argparse
import json
import socket
import sys
import time


class MarionetteError(Exception):
    pass


class Connection:
    def __init__(self, port, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
        self.sock.settimeout(timeout)
        self.pending = b""
        self.last_id = 0
        self.greeting = self.receive()

    def receive(self):
        while b":" not in self.pending:
            self.pending += self._read()
        size, rest = self.pending.split(b":", 1)
        size = int(size)
        while len(rest) < size:
            rest += self._read()
        self.pending = rest[size:]
        return json.loads(rest[:size])

    def _read(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise MarionetteError("Firefox closed the Marionette connection")
        return chunk

    def command(self, name, params=None):
        self.last_id += 1
        body = json.dumps([0, self.last_id, name, params or {}]).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body)
        while True:
            message = self.receive()
            if message[0] == 1 and message[1] == self.last_id:
                if message[2]:
                    raise MarionetteError(f"{name}: {message[2]}")
                return message[3]


PAGE_TEXT = "return document.documentURI + '\\n' + (document.body ? document.body.innerText : '');"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out-prefix", required=True)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()

    started = time.monotonic()
    try:
        firefox = Connection(args.port, args.timeout)
    except (OSError, MarionetteError) as e:
        print(f"ff_client: cannot reach Marionette on port {args.port}: {e}")
        return 3
    print(f"ff_client: connected after {time.monotonic() - started:.1f}s", flush=True)
    status = 0
    try:
        firefox.command("WebDriver:NewSession",
                        {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": False}}})
        firefox.command("WebDriver:SetTimeouts", {"pageLoad": int(args.timeout * 1000)})
        for number, url in enumerate(args.urls, start=1):
            try:
                firefox.command("WebDriver:Navigate", {"url": url})
                print(f"ff_client: loaded {url}")
            except MarionetteError as e:  # TLS failures end on an error page
                print(f"ff_client: navigation to {url} failed: {e}")
                status = 2
            try:
                text = firefox.command("WebDriver:ExecuteScript",
                                       {"script": PAGE_TEXT, "args": []})["value"]
            except MarionetteError as e:
                text = f"(page text unavailable: {e})"
                status = 2
            with open(f"{args.out_prefix}{number}.txt", "w", encoding="utf-8") as out:
                out.write(text)
    finally:
        try:
            firefox.command("Marionette:Quit", {"flags": ["eForceQuit"]})
        except (OSError, MarionetteError):
            pass
    print(f"ff_client: done in {time.monotonic() - started:.1f}s")
    return status


if __name__ == "__main__":
    sys.exit(main())
