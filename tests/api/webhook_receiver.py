#!/usr/bin/env python3
"""webhook_receiver.py - a Standard Webhooks receiver on loopback for the
webhook tests and the benchmark: it verifies every signature and keeps the
webhook-ids it processed, as a careful customer's endpoint would.

    webhook_receiver.py DIR

Listens on 127.0.0.1 (a free port, written to DIR/port) and appends one
JSON line per request to DIR/log.jsonl:
  {"path","id","ts","sigOk","answer","type","videoId","recvAt","duplicate"}
Secrets are read from DIR/secrets.json ({"/path": "whsec_..."}) on every
request, so a test can register endpoints while it runs. The path says how
to answer:
  /ok/...     200
  /flaky/...  500 to the first two attempts of each webhook-id, then 200
  /gone/...   410 Gone
  /hold/...   the first attempt of each webhook-id is held (DIR/holding
              names it) until the sender goes away or 20 s pass, then 503
A webhook-id answered 2xx once is "processed"; if the same id comes to the
same path again the line says "duplicate": true (a sender bug: a retry may
only follow an answer that was not 2xx).
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
LOCK = threading.Lock()
ATTEMPTS = {}      # (path, id) -> attempts seen
PROCESSED = set()  # (path, id) answered 2xx


def secret_for(path):
    try:
        with open(os.path.join(DIR, "secrets.json")) as f:
            secrets = json.load(f)
    except (OSError, ValueError):
        return None
    return secrets.get(path)


def signature_ok(secret, msg_id, ts, body, header):
    if not secret or not secret.startswith("whsec_"):
        return False
    key = base64.b64decode(secret[len("whsec_"):])
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for part in header.split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, want):
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        msg_id = self.headers.get("webhook-id", "")
        ts = self.headers.get("webhook-timestamp", "")
        sig = self.headers.get("webhook-signature", "")
        path = self.path
        try:
            fresh = abs(time.time() - int(ts)) < 300
        except ValueError:
            fresh = False
        ok = fresh and signature_ok(secret_for(path), msg_id, ts, body, sig)
        try:
            event = json.loads(body)
        except ValueError:
            event = {}
        key = (path, msg_id)
        with LOCK:
            n = ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
            duplicate = key in PROCESSED
        kind = path.split("/")[1] if "/" in path else ""
        answer = 200
        if kind == "flaky" and n <= 2:
            answer = 500
        elif kind == "gone":
            answer = 410
        elif kind == "hold" and n == 1:
            with open(os.path.join(DIR, "holding"), "w") as f:
                f.write(msg_id + "\n")
            self.connection.settimeout(20)
            try:  # returns when the sender's socket closes (kill -9) or after 20 s
                self.connection.recv(1)
            except OSError:
                pass
            answer = 503
        if not ok:
            answer = 400
        line = {"path": path, "id": msg_id, "ts": ts, "sigOk": ok, "answer": answer,
                "type": event.get("type"), "videoId": (event.get("data") or {}).get("id"),
                "status": (event.get("data") or {}).get("status"),
                "timestamp": event.get("timestamp"), "recvAt": time.time(),
                "duplicate": duplicate}
        with LOCK:
            if 200 <= answer < 300:
                PROCESSED.add(key)
            with open(os.path.join(DIR, "log.jsonl"), "a") as f:
                f.write(json.dumps(line) + "\n")
        try:
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default 5 drops the SYNs of a burst of deliveries (1 s retries)
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    tmp = os.path.join(DIR, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, os.path.join(DIR, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()
