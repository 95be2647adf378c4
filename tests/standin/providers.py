#!/usr/bin/env python3
"""providers.py - a local stand-in for the remote video providers.

The real providers (Alibaba Cloud Model Studio / DashScope, OpenAI-style
/v1/videos gateways, fal's queue) cannot be reached from the test machines,
so the upstream engines are tested against this server. It speaks each
protocol as docs/engines.md and the providers' public documentation
describe it, checks what a client sends as strictly as the real service
would (headers, the key, the model, every parameter's name and range), and
acts out the failures a client must survive.

Usage: providers.py [--port N] [--port-file F] [--key K] [--task-seconds S]
                    [--base-url URL]

Routes (one server, three protocols under their own prefixes):
  DashScope  POST /dashscope/api/v1/services/aigc/video-generation/video-synthesis
             POST /dashscope/api/v1/services/aigc/image2video/video-synthesis
             GET  /dashscope/api/v1/tasks/{task_id}
             POST /dashscope/api/v1/tasks/{task_id}/cancel
  OpenAI     POST /openai/v1/videos    (JSON or multipart with input_reference)
             GET  /openai/v1/videos/{id}
             GET  /openai/v1/videos/{id}/content?variant=video|thumbnail
  fal        POST /fal/{owner}/{app}[/{path}]
             GET  /fal/{owner}/{app}/requests/{id}/status
             GET  /fal/{owner}/{app}/requests/{id}
             PUT  /fal/{owner}/{app}/requests/{id}/cancel
  results    GET  /results/{token}.mp4   (signed-looking URLs, as providers hand out)
  control    GET  /_standin/log           every request seen, as JSON
             GET  /_standin/tasks         every task: created, due (when it finished),
                                          seen (the first poll that answered it done), polls
             POST /_standin/reset         forget the log and the tasks
             POST /_standin/release       every [hold] task finishes now
             POST /_standin/outage        {"seconds": N, "status": 503|429}: every
                                          provider call fails that way for N s

Failures are asked for in the prompt, so a test drives them through the
real product's API:
  [moderation]       refused by the content check (DashScope: FAILED with
                     DataInspectionFailed; OpenAI: failed, moderation_blocked;
                     fal: result 422 content policy)
  [fail]             the task fails for another reason
  [unknown]          DashScope: the task reads UNKNOWN; others: 404 on poll
  [never]            the task never finishes
  [slow:N]           the task takes N seconds instead of --task-seconds
  [hold]             the task runs until POST /_standin/release (a test that
                     must catch tasks at the provider does not race a clock)
  [poll429:N]        the first N polls answer 429 (with Retry-After: 1)
  [poll500:N]        the first N polls answer 500
  [create429:N]      the first N creates of this prompt answer 429
  [create500:N]      the first N creates of this prompt answer 500
  [badjson]          polls answer a body that is not JSON
  [hangpoll:N]       the first N polls hang (no answer) for 120 s
  [result404]        the result URL answers 404
  [resultjunk]       the result is not a video
  [resulthuge]       the result is endless (a body that never stops)
  [withaudio]        the result has a soundtrack (a 440 Hz tone)
"""
import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ARGS = None
LOCK = threading.Lock()
LOG = []  # every request: method, path, headers, json body
TASKS = {}  # id -> task dict
CREATES_BY_PROMPT = {}  # prompt -> creates seen (for [create429:N])
OUTAGE = {"until": 0.0, "status": 503}
CLIPS = {}  # (w, h, seconds) -> path of a rendered clip, under CLIP_LOCK
CLIP_LOCK = threading.Lock()
CLIP_DIR = tempfile.mkdtemp(prefix="hh-standin-")

HH_MODELS = {"t2v", "i2v", "r2v"}
HH_RATIOS = {"16:9", "9:16", "1:1", "4:3", "3:4"}
WAN_SIZES = {"1280*720", "720*1280", "960*960", "1920*1080", "1080*1920", "1440*1440",
             "832*480", "480*832", "624*624"}


def directive(prompt, name):
    """The value of [name] or [name:N] in prompt: True, an int, or None."""
    m = re.search(r"\[" + re.escape(name) + r"(?::(\d+))?\]", prompt or "")
    if not m:
        return None
    return int(m.group(1)) if m.group(1) else True


def clip(w, h, seconds, audio=False):
    """A real H.264 MP4 of w x h and seconds, with an AAC tone when audio (made once per shape)."""
    key = (w, h, seconds, bool(audio))
    with CLIP_LOCK:  # one maker at a time: two first downloads must not race on one file
        return CLIPS.get(key) or make_clip(key)


def make_clip(key):
    """Renders the clip of key = (w, h, seconds, audio); called under CLIP_LOCK."""
    w, h, seconds, audio = key
    path = os.path.join(CLIP_DIR, "clip-%dx%d-%ds-%d.mp4" % key)
    tmp = path + ".part.mp4"
    sound = ["-f", "lavfi", "-i", "sine=frequency=440:duration=%d" % seconds, "-c:a", "aac"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=%dx%d:rate=24" % (w, h)] + (sound if audio else []) +
                   ["-t", str(seconds), "-pix_fmt", "yuv420p", "-c:v", "libx264",
                    "-preset", "ultrafast", tmp], check=True)
    os.replace(tmp, path)
    CLIPS[key] = path
    return path


def shape_of(ratio, resolution):
    """A small frame of the asked shape: the stand-in's clips are previews, our side re-encodes."""
    w, h = {"16:9": (640, 360), "9:16": (360, 640), "1:1": (480, 480),
            "4:3": (640, 480), "3:4": (480, 640)}.get(ratio, (640, 360))
    return w, h


class Task:
    def __init__(self, protocol, prompt, seconds, ratio, request):
        self.id = str(uuid.uuid4())
        self.protocol = protocol
        self.prompt = prompt or ""
        self.seconds = seconds
        self.ratio = ratio
        self.request = request
        self.created = time.time()
        self.polls = 0
        self.canceled = False
        slow = directive(prompt, "slow")
        self.duration = float(slow) if isinstance(slow, int) else ARGS.task_seconds
        self.held = bool(directive(prompt, "hold"))
        self.token = uuid.uuid4().hex
        self.seen_done = None  # when a poll first answered the finished task

    def state(self):
        """queued | running | succeeded | failed | canceled (what the task is now)."""
        if self.canceled:
            return "canceled"
        age = time.time() - self.created
        if self.held:
            return "running"
        if directive(self.prompt, "never") or age < self.duration:
            return "queued" if age < self.duration / 3 else "running"
        if directive(self.prompt, "moderation") or directive(self.prompt, "fail"):
            return "failed"
        return "succeeded"

    def polled(self):
        """Notes a poll that answers the task's final state (for the pace measurements)."""
        if self.seen_done is None and self.state() in ("succeeded", "failed"):
            self.seen_done = time.time()

    def progress(self):
        age = time.time() - self.created
        return max(0, min(99, int(100 * age / max(self.duration, 0.001))))

    def result_url(self):
        return "%s/results/%s.mp4?Expires=%d&Signature=%s" % (
            ARGS.base_url, self.token, int(time.time()) + 86400, uuid.uuid4().hex)


def new_task(protocol, prompt, seconds, ratio, request):
    t = Task(protocol, prompt, seconds, ratio, request)
    with LOCK:
        TASKS[t.id] = t
    return t


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "standin/1"

    def log_message(self, fmt, *args):  # quiet: the log is /_standin/log
        pass

    # ---- plumbing ----
    def send_json(self, status, doc, headers=None):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_bytes(self, status, data, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def read_json(self, method):
        """The request's body as JSON: (raw bytes, document or None when absent or not JSON)."""
        raw = self.read_body() if method in ("POST", "PUT") else b""
        try:
            return raw, json.loads(raw) if raw else None
        except ValueError:
            return raw, None

    def record(self, body_json, extra=None):
        entry = {"method": self.command, "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()},
                 "json": body_json, "time": time.time()}
        entry.update(extra or {})
        with LOCK:
            LOG.append(entry)

    def outage(self):
        with LOCK:
            if time.time() < OUTAGE["until"]:
                return OUTAGE["status"]
        return None

    def hang(self, seconds):
        time.sleep(seconds)
        self.close_connection = True

    # ---- dispatch ----
    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        path = urlparse(self.path).path
        try:
            if path.startswith("/_standin/"):
                return self.control(method, path)
            if path.startswith("/results/"):
                return self.result(path)
            if path.startswith("/dashscope/api/v1/"):
                return self.dashscope(method, path[len("/dashscope/api/v1"):])
            if path.startswith("/openai/v1/"):
                return self.openai(method, path[len("/openai/v1"):])
            if path.startswith("/fal/"):
                return self.fal(method, path[len("/fal"):])
            self.send_json(404, {"error": "no such route"})
        except BrokenPipeError:
            pass

    def control(self, method, path):
        if path == "/_standin/log":
            with LOCK:
                doc = list(LOG)
            return self.send_json(200, doc)
        if path == "/_standin/tasks":
            with LOCK:
                doc = [{"id": t.id, "prompt": t.prompt, "created": t.created,
                        "due": t.created + t.duration, "seen": t.seen_done, "polls": t.polls}
                       for t in TASKS.values()]
            return self.send_json(200, doc)
        if path == "/_standin/reset" and method == "POST":
            self.read_body()
            with LOCK:
                LOG.clear()
                TASKS.clear()
                CREATES_BY_PROMPT.clear()
                OUTAGE["until"] = 0
            return self.send_json(200, {"ok": True})
        if path == "/_standin/release" and method == "POST":
            self.read_body()
            with LOCK:
                for t in TASKS.values():
                    if t.held:
                        t.held = False
                        t.duration = time.time() - t.created
            return self.send_json(200, {"ok": True})
        if path == "/_standin/outage" and method == "POST":
            doc = json.loads(self.read_body() or b"{}")
            with LOCK:
                OUTAGE["until"] = time.time() + float(doc.get("seconds", 10))
                OUTAGE["status"] = int(doc.get("status", 503))
            return self.send_json(200, {"ok": True})
        self.send_json(404, {"error": "no such control"})

    def result(self, path):
        token = path[len("/results/"):-len(".mp4")]
        with LOCK:
            task = next((t for t in TASKS.values() if t.token == token), None)
        self.record(None)
        if not task or directive(task.prompt, "result404"):
            return self.send_json(404, {"Code": "NoSuchKey"})
        if directive(task.prompt, "resultjunk"):
            return self.send_bytes(200, b"<html>not a video</html>" * 100, "video/mp4")
        if directive(task.prompt, "resulthuge"):
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.end_headers()
            chunk = b"\0" * 65536
            try:
                for _ in range(1 << 20):  # 64 GiB: the client must stop first
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        w, h = shape_of(task.ratio, None)
        with open(clip(w, h, max(1, task.seconds), directive(task.prompt, "withaudio")), "rb") as f:
            data = f.read()
        self.send_bytes(200, data, "video/mp4")

    # ---- polling failures shared by the protocols ----
    def poll_failure(self, task):
        """Sends the failure a directive asks for on this poll; True when it did."""
        task.polls += 1
        for name, status in (("poll429", 429), ("poll500", 500)):
            n = directive(task.prompt, name)
            if isinstance(n, int) and task.polls <= n:
                self.send_json(status, {"code": "Throttling" if status == 429 else "InternalError",
                                        "message": "stand-in asked to fail"},
                               {"Retry-After": "1"} if status == 429 else None)
                return True
        n = directive(task.prompt, "hangpoll")
        if isinstance(n, int) and task.polls <= n:
            self.hang(120)
            return True
        if directive(task.prompt, "badjson"):
            self.send_bytes(200, b'{"output": {"task_status": "RUN', "application/json")
            return True
        return False

    def create_failure(self, prompt):
        with LOCK:
            seen = CREATES_BY_PROMPT.get(prompt, 0) + 1
            CREATES_BY_PROMPT[prompt] = seen
        for name, status in (("create429", 429), ("create500", 500)):
            n = directive(prompt, name)
            if isinstance(n, int) and seen <= n:
                self.send_json(status, {"code": "Throttling" if status == 429 else "InternalError",
                                        "message": "stand-in asked to fail"},
                               {"Retry-After": "1"} if status == 429 else None)
                return True
        return False

    # ---- DashScope ----
    def ds_error(self, status, code, message):
        self.send_json(status, {"code": code, "message": message,
                                "request_id": str(uuid.uuid4())})

    def dashscope(self, method, path):
        raw, body = self.read_json(method)
        if raw and body is None:
            self.record(None)
            return self.ds_error(400, "InvalidParameter", "body is not JSON")
        self.record(body)
        status = self.outage()
        if status:
            return self.ds_error(status, "Throttling" if status == 429 else "InternalError",
                                 "outage")
        if self.headers.get("Authorization") != "Bearer " + ARGS.key:
            return self.ds_error(401, "InvalidApiKey", "Invalid API-key provided.")
        m = re.fullmatch(r"/tasks/([^/]+)(/cancel)?", path)
        if m and method == "GET" and not m.group(2):
            return self.ds_poll(m.group(1))
        if m and method == "POST" and m.group(2):
            return self.ds_cancel(m.group(1))
        if method == "POST" and path in ("/services/aigc/video-generation/video-synthesis",
                                         "/services/aigc/image2video/video-synthesis"):
            return self.ds_create(path, body or {})
        self.ds_error(404, "NotFound", "no such API")

    def ds_check(self, path, body):
        """The error of a create body, or None: the stand-in is as strict as the service."""
        if self.headers.get("X-DashScope-Async") != "enable":
            return (403, "AccessDenied", "current user api does not support synchronous calls")
        model = body.get("model", "")
        inp = body.get("input") or {}
        par = body.get("parameters") or {}
        if set(body) - {"model", "input", "parameters"}:
            return (400, "InvalidParameter", "unknown top-level field")
        prompt = inp.get("prompt")
        if not isinstance(prompt, str) or not prompt or len(prompt) > 5000:
            return (400, "InvalidParameter", "input.prompt is required (<= 5000 characters)")
        kf = "kf2v" in model
        if kf != path.endswith("image2video/video-synthesis"):
            return (400, "InvalidParameter", "model %s is not served at this URL" % model)
        seed = par.get("seed")
        if seed is not None and not (isinstance(seed, int) and 0 <= seed <= 2147483647):
            return (400, "InvalidParameter", "parameters.seed out of range")
        m = re.fullmatch(r"happyhorse-1\.[01]-(t2v|i2v|r2v)", model)
        if m:
            kind = m.group(1)
            allowed_in = {"prompt"} | ({"media"} if kind != "t2v" else set())
            allowed_par = {"resolution", "duration", "watermark", "seed"} | (
                {"ratio"} if kind != "i2v" else set())
            if set(inp) - allowed_in or set(par) - allowed_par:
                return (400, "InvalidParameter", "unknown field for %s" % model)
            if par.get("resolution", "1080P") not in ("720P", "1080P"):
                return (400, "InvalidParameter", "parameters.resolution must be 720P or 1080P")
            if "ratio" in par and par["ratio"] not in HH_RATIOS:
                return (400, "InvalidParameter", "parameters.ratio is not supported")
            d = par.get("duration", 5)
            if not (isinstance(d, int) and 3 <= d <= 15):
                return (400, "InvalidParameter", "parameters.duration must be 3..15")
            media = inp.get("media")
            if kind == "i2v" and (not isinstance(media, list) or len(media) != 1 or
                                  media[0].get("type") != "first_frame"):
                return (400, "InvalidParameter", "i2v needs exactly one first_frame")
            if kind == "i2v" and not self.url_ok(media[0].get("url")):
                return (400, "InvalidURL", "the first frame URL cannot be read")
            return None
        m = re.fullmatch(r"wan2\.[56]-(t2v|i2v)(-[a-z]+)?|wan2\.6-(t2v|i2v)", model)
        if m:
            kind = m.group(1) or m.group(3)
            allowed_in = {"prompt", "negative_prompt", "audio_url"} | (
                {"img_url"} if kind == "i2v" else set())
            allowed_par = {"duration", "prompt_extend", "audio", "watermark", "seed"} | (
                {"size"} if kind == "t2v" else {"resolution"})
            if set(inp) - allowed_in or set(par) - allowed_par:
                return (400, "InvalidParameter", "unknown field for %s" % model)
            if kind == "t2v" and par.get("size", "1920*1080") not in WAN_SIZES:
                return (400, "InvalidParameter", "parameters.size is not supported")
            if par.get("duration", 5) not in (5, 10, 15):
                return (400, "InvalidParameter", "parameters.duration must be 5, 10 or 15")
            if kind == "i2v" and not self.url_ok(inp.get("img_url")):
                return (400, "InvalidURL", "img_url cannot be read")
            if "audio_url" in inp and not self.url_ok(inp["audio_url"]):
                return (400, "InvalidURL", "audio_url cannot be read")
            return None
        if model in ("wan2.2-kf2v-flash", "wan2.1-kf2v-plus"):
            if set(inp) - {"prompt", "first_frame_url", "last_frame_url"} or \
                    set(par) - {"resolution", "prompt_extend", "watermark", "seed"}:
                return (400, "InvalidParameter", "unknown field for %s" % model)
            if not self.url_ok(inp.get("first_frame_url")) or \
                    not self.url_ok(inp.get("last_frame_url")):
                return (400, "InvalidURL", "a frame URL cannot be read")
            return None
        return (400, "InvalidParameter", "Model not exist.")

    def url_ok(self, url):
        """A media reference the service could read: a data URL or an http(s) URL that answers."""
        if not isinstance(url, str):
            return False
        if url.startswith("data:"):
            try:
                base64.b64decode(url.split(",", 1)[1], validate=True)
                return ";base64," in url
            except (ValueError, IndexError):
                return False
        if url.startswith(("http://", "https://")):
            import urllib.request
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    return r.status == 200 and len(r.read(64)) > 0
            except Exception:  # noqa: BLE001 - any failure is "cannot be read"
                return False
        return False

    def ds_create(self, path, body):
        err = self.ds_check(path, body)
        if err:
            return self.ds_error(*err)
        prompt = body["input"]["prompt"]
        if self.create_failure(prompt):
            return
        par = body.get("parameters") or {}
        ratio = par.get("ratio", "16:9")
        if "size" in par:
            w, h = (int(x) for x in par["size"].split("*"))
            ratio = "16:9" if w > h else "9:16" if h > w else "1:1"
        t = new_task("dashscope", prompt, par.get("duration", 5), ratio, body)
        self.send_json(200, {"output": {"task_id": t.id, "task_status": "PENDING"},
                             "request_id": str(uuid.uuid4())})

    def ds_poll(self, task_id):
        with LOCK:
            t = TASKS.get(task_id)
        if t and self.poll_failure(t):
            return
        out = {"task_id": task_id}
        if not t or directive(t.prompt, "unknown"):
            out["task_status"] = "UNKNOWN"
            return self.send_json(200, {"request_id": str(uuid.uuid4()), "output": out})
        t.polled()
        st = t.state()
        out["task_status"] = {"queued": "PENDING", "running": "RUNNING", "succeeded": "SUCCEEDED",
                              "failed": "FAILED", "canceled": "CANCELED"}[st]
        out["submit_time"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t.created))
        doc = {"request_id": str(uuid.uuid4()), "output": out}
        if st == "succeeded":
            out["video_url"] = t.result_url()
            out["end_time"] = time.strftime("%Y-%m-%d %H:%M:%S")
            out["orig_prompt"] = t.prompt
            out["actual_prompt"] = t.prompt + " (extended)"
            doc["usage"] = {"duration": t.seconds, "video_count": 1, "SR": 720}
        elif st == "failed":
            if directive(t.prompt, "moderation"):
                out["code"] = "DataInspectionFailed"
                out["message"] = "Input data may contain inappropriate content."
            else:
                out["code"] = "InternalError.Algo"
                out["message"] = "An internal error occurred during generation."
        self.send_json(200, doc)

    def ds_cancel(self, task_id):
        with LOCK:
            t = TASKS.get(task_id)
        if not t:
            return self.ds_error(404, "NotFound", "no such task")
        if t.state() != "queued":
            return self.ds_error(400, "UnsupportedOperation", "only PENDING tasks can be canceled")
        t.canceled = True
        self.send_json(200, {"request_id": str(uuid.uuid4())})

    # ---- OpenAI-style /v1/videos ----
    def oa_error(self, status, code, message):
        self.send_json(status, {"error": {"message": message, "type": "invalid_request_error",
                                          "code": code}})

    def oa_video(self, t):
        st = t.state()
        status = {"queued": "queued", "running": "in_progress", "succeeded": "completed",
                  "failed": "failed", "canceled": "failed"}[st]
        doc = {"id": t.id, "object": "video", "model": t.request.get("model"), "status": status,
               "progress": 100 if st == "succeeded" else t.progress(),
               "created_at": int(t.created), "seconds": str(t.seconds),
               "size": t.request.get("size", "1280x720")}
        if st == "succeeded":
            doc["completed_at"] = int(time.time())
            doc["expires_at"] = int(time.time()) + 3600
        if st == "failed":
            doc["error"] = {"code": "moderation_blocked" if directive(t.prompt, "moderation")
                            else "internal_error", "message": "the video could not be made"}
        return doc

    def openai(self, method, path):
        ctype = self.headers.get("Content-Type", "")
        raw = self.read_body() if method in ("POST", "PUT") else b""
        body, files = None, {}
        if raw and ctype.startswith("application/json"):
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        elif raw and ctype.startswith("multipart/form-data"):
            body, files = self.multipart(raw, ctype)
        self.record(body, {"files": sorted(files)})
        status = self.outage()
        if status:
            return self.oa_error(status, "rate_limit_exceeded" if status == 429 else "server_error",
                                 "outage")
        if self.headers.get("Authorization") != "Bearer " + ARGS.key:
            return self.oa_error(401, "invalid_api_key", "Incorrect API key provided.")
        if method == "POST" and path == "/videos":
            return self.oa_create(body, files)
        m = re.fullmatch(r"/videos/([^/]+)(/content)?", path)
        with LOCK:
            t = TASKS.get(m.group(1)) if m else None
        if not m or method != "GET":
            return self.oa_error(404, "not_found", "no such route")
        if not t or directive(t.prompt, "unknown"):
            return self.oa_error(404, "not_found", "No video found with id %s" % m.group(1))
        if m.group(2):
            return self.oa_content(t)
        if self.poll_failure(t):
            return
        self.send_json(200, self.oa_video(t))

    def multipart(self, raw, ctype):
        msg = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
        body, files = {}, {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            if part.get_filename():
                files[name] = data
            else:
                body[name] = data.decode()
        return body, files

    def oa_create(self, body, files):
        if not isinstance(body, dict):
            return self.oa_error(400, "invalid_request", "the body must be JSON or multipart")
        allowed = {"model", "prompt", "seconds", "size"}
        if set(body) - allowed or set(files) - {"input_reference"}:
            return self.oa_error(400, "unknown_parameter", "Unknown parameter.")
        if not body.get("model") or not body.get("prompt"):
            return self.oa_error(400, "missing_required_parameter", "model and prompt are required")
        if body.get("seconds", "4") not in ("4", "8", "12"):
            return self.oa_error(400, "invalid_value", "seconds must be one of '4', '8', '12'")
        if not re.fullmatch(r"\d{3,4}x\d{3,4}", body.get("size", "1280x720")):
            return self.oa_error(400, "invalid_value", "size must look like 1280x720")
        if self.create_failure(body["prompt"]):
            return
        w, h = (int(x) for x in body.get("size", "1280x720").split("x"))
        ratio = "16:9" if w > h else "9:16" if h > w else "1:1"
        t = new_task("openai", body["prompt"], int(body.get("seconds", "4")), ratio, body)
        self.send_json(200, self.oa_video(t))

    def oa_content(self, t):
        self.record(None)
        if t.state() != "succeeded":
            return self.oa_error(400, "video_not_ready", "the video is not ready")
        if directive(t.prompt, "result404"):
            return self.oa_error(404, "not_found", "content expired")
        if directive(t.prompt, "resultjunk"):
            return self.send_bytes(200, b"junk" * 1000, "video/mp4")
        variant = parse_qs(urlparse(self.path).query).get("variant", ["video"])[0]
        if variant != "video":
            return self.oa_error(400, "invalid_value", "only the video variant is served here")
        w, h = shape_of(t.ratio, None)
        with open(clip(w, h, t.seconds, directive(t.prompt, "withaudio")), "rb") as f:
            self.send_bytes(200, f.read(), "video/mp4")

    # ---- fal queue ----
    def fal(self, method, path):
        _, body = self.read_json(method)
        self.record(body)
        status = self.outage()
        if status:
            return self.send_json(status, {"detail": "outage"})
        if self.headers.get("Authorization") != "Key " + ARGS.key:
            return self.send_json(401, {"detail": "Invalid key"})
        m = re.fullmatch(r"/([^/]+)/([^/]+)/requests/([^/]+)(/status|/cancel)?", path)
        if m:
            return self.fal_request(method, m.group(1) + "/" + m.group(2), m.group(3), m.group(4))
        if method == "POST" and re.fullmatch(r"/[^/]+/[^/]+(/[^/]+)*", path):
            return self.fal_submit(path[1:], body)
        self.send_json(404, {"detail": "Not Found"})

    def fal_submit(self, app, body):
        if not isinstance(body, dict) or not isinstance(body.get("prompt"), str):
            return self.send_json(422, {"detail": [{"loc": ["body", "prompt"],
                                                    "msg": "field required"}]})
        allowed = {"prompt", "negative_prompt", "aspect_ratio", "resolution", "duration", "seed",
                   "image_url", "end_image_url", "guidance_scale"}
        if set(body) - allowed:
            return self.send_json(422, {"detail": [{"msg": "extra fields not permitted"}]})
        if "image_url" in body and not self.url_ok(body["image_url"]):
            return self.send_json(422, {"detail": [{"msg": "image_url cannot be downloaded"}]})
        if self.create_failure(body["prompt"]):
            return
        seconds = int(str(body.get("duration", "5")).rstrip("s") or 5)
        t = new_task("fal", body["prompt"], seconds, body.get("aspect_ratio", "16:9"), body)
        owner_app = "/".join(app.split("/")[:2])
        base = "%s/fal/%s/requests/%s" % (ARGS.base_url, owner_app, t.id)
        self.send_json(200, {"request_id": t.id, "response_url": base,
                             "status_url": base + "/status", "cancel_url": base + "/cancel",
                             "queue_position": 0})

    def fal_request(self, method, app, rid, what):
        with LOCK:
            t = TASKS.get(rid)
        if not t or directive(t.prompt, "unknown"):
            return self.send_json(404, {"detail": "Request not found"})
        if what == "/cancel" and method == "PUT":
            if t.state() in ("succeeded", "failed"):
                return self.send_json(400, {"status": "ALREADY_COMPLETED"})
            t.canceled = True
            return self.send_json(202, {"status": "CANCELLATION_REQUESTED"})
        if method != "GET":
            return self.send_json(405, {"detail": "Method Not Allowed"})
        if what == "/status":
            if self.poll_failure(t):
                return
            st = t.state()
            if st == "queued":
                return self.send_json(202, {"status": "IN_QUEUE", "queue_position": 1,
                                            "response_url": "%s/fal/%s/requests/%s" % (
                                                ARGS.base_url, app, rid)})
            if st == "running":
                return self.send_json(202, {"status": "IN_PROGRESS", "logs": []})
            return self.send_json(200, {"status": "COMPLETED", "logs": [],
                                        "response_url": "%s/fal/%s/requests/%s" % (
                                            ARGS.base_url, app, rid)})
        st = t.state()
        if st in ("queued", "running"):
            return self.send_json(400, {"detail": "Request is still in progress"})
        if st == "canceled":
            return self.send_json(400, {"detail": "Request was cancelled"})
        if directive(t.prompt, "moderation"):
            return self.send_json(422, {"detail": [{"type": "content_policy_violation",
                                                    "msg": "The content was flagged."}]})
        if st == "failed":
            return self.send_json(500, {"detail": "Internal error in the model"})
        self.send_json(200, {"video": {"url": t.result_url(), "content_type": "video/mp4"},
                             "seed": t.request.get("seed", 0)})


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--key", default="sk-standin")
    p.add_argument("--task-seconds", type=float, default=2.0)
    p.add_argument("--base-url")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    srv.request_queue_size = 1024
    port = srv.server_address[1]
    ARGS.base_url = ARGS.base_url or "http://127.0.0.1:%d" % port
    if ARGS.port_file:
        with open(ARGS.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(ARGS.port_file + ".tmp", ARGS.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
