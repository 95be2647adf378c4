#!/usr/bin/env bash
# The liveness probe under the two stalls of issue 12, measured (not
# asserted: the machine is shared), on the plain build:
#  1. another process (sqlite3) holds the database's write lock for 12 s
#     while 16 clients keep posting creates (each waits --store-wait-ms,
#     then gets its 503); /healthz is fetched every 100 ms meanwhile;
#  2. 1,000 uploads are open at once, each having sent its headers and 16
#     bytes of a 5 MiB body, from eight loopback addresses (the limit per
#     address is 128); /healthz is fetched 50 times beside them.
# Prints a Markdown section: the count, median, p99 and max of /healthz's
# time for each, beside the same probe of the idle server (the reference,
# measured the same way in the same run), and how the creates of (1) were
# answered.
HH_PORT=18130
. "$(dirname "$0")/lib.sh"
LOCK_S=${BENCH_LOCK_SECONDS:-12}

bench_serve $HH_PORT --max-connections 2048
BASE=http://127.0.0.1:$HH_PORT
DB=$work/data/happyhorse.db

# stats FILE LABEL: one line of figures from a file of seconds, one a line.
stats() {
  sort -n "$1" | awk -v label="$2" '{ t[NR] = $1 * 1000 }
    END { if (!NR) { print label ": no samples"; exit 1 }
          printf "%s: n %d, median %.1f ms, p99 %.1f ms, max %.1f ms\n", label, NR,
                 t[int((NR + 1) / 2)], t[int(NR * 0.99 + 0.999)], t[NR] }'
}

# probe N FILE: N fetches of /healthz 100 ms apart, "code seconds" a line.
probe() {
  for _ in $(seq "$1"); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 30 "$BASE/healthz" >>"$2"
    sleep 0.1
  done
}
echo "## /healthz under a locked database and 1,000 slow uploads"
echo
echo '`bench/healthz_stall.sh`: the liveness probe must stay under 100 ms (issue 12).'
echo
probe 40 "$work/idle.h"
awk '{print $2}' "$work/idle.h" >"$work/idle.t"
echo "- $(stats "$work/idle.t" "reference, the idle server (curl)")"

# --- 1. the database locked by another process ---
mkfifo "$work/lock.fifo"
sqlite3 "$DB" <"$work/lock.fifo" >"$work/lock.out" 2>&1 &
LOCK_PID=$!
exec 3>"$work/lock.fifo"
echo "BEGIN EXCLUSIVE; SELECT 'locked';" >&3
for _ in $(seq 100); do grep -q locked "$work/lock.out" && break; sleep 0.1; done
grep -q locked "$work/lock.out" || { echo "bench: sqlite3 did not take the lock" >&2; exit 1; }
until=$(($(date +%s%N) + LOCK_S * 1000000000))
creator() { # posts creates until the lock is released; one status code a line
  while [ "$(date +%s%N)" -lt "$until" ]; do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -X POST "$BASE/api/v1/videos" \
      -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" -d "$BODY"
  done >>"$work/create.codes"
}
for _ in $(seq 16); do creator & done
sleep 0.5 # the creates are waiting on the lock
while [ "$(date +%s%N)" -lt "$until" ]; do probe 1 "$work/lock.h"; done
echo "COMMIT;" >&3
exec 3>&-
wait "$LOCK_PID"
wait $(jobs -p | grep -vx "$SERVE_PID") 2>/dev/null || true
grep -qv '^200 ' "$work/lock.h" && { echo "bench: /healthz failed under the lock" >&2; exit 1; }
awk '{print $2}' "$work/lock.h" >"$work/lock.t"
echo "- $(stats "$work/lock.t" "database locked ${LOCK_S} s by another process, 16 clients creating (curl)")"
echo "  (the creates meanwhile: $(sort "$work/create.codes" | uniq -c | awk '{printf "%s%s x %s", (NR > 1 ? ", " : ""), $1, $2}'))"

# --- 2. 1,000 slow uploads open ---
PORT=$HH_PORT KEY=$KEY python3 - <<'PY'
import http.client, json, os, socket, time
PORT = int(os.environ["PORT"]); KEY = os.environ["KEY"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 8
SIZE = 5 * 1024 * 1024
def probe(n):
    """n fetches of /healthz on fresh connections, 50 ms apart: their times, sorted."""
    times = []
    for _ in range(n):
        h = socket.create_connection(("127.0.0.1", PORT), timeout=30)
        t0 = time.monotonic()
        h.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = h.recv(4096)
        times.append(time.monotonic() - t0)
        assert data.startswith(b"HTTP/1.1 200"), data[:40]
        h.close()
        time.sleep(0.05)
    return sorted(times)

def line(label, t):
    print("- %s: n %d, median %.1f ms, max %.1f ms" % (label, len(t), t[len(t) // 2] * 1000,
                                                      t[-1] * 1000))

line("reference, the idle server (raw socket)", probe(50))
c = http.client.HTTPConnection("127.0.0.1", PORT)
socks = []
for i in range(1000):
    c.request("POST", "/api/v1/uploads/presign",
              json.dumps({"kind": "image", "contentType": "image/png", "sizeBytes": SIZE}),
              {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
    r = c.getresponse(); up = json.loads(r.read())
    assert r.status == 200, up
    s = socket.socket(); s.bind(("127.0.0.%d" % (2 + i % 8), 0)); s.connect(("127.0.0.1", PORT))
    path = up["uploadUrl"].split(str(PORT), 1)[1]
    s.sendall((f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
               f"Content-Length: {SIZE}\r\n\r\n").encode() + PNG)
    socks.append(s)
time.sleep(1)
times = probe(50)
alive = 0
for s in socks:
    s.setblocking(False)
    try:
        alive += s.recv(1) != b""
    except BlockingIOError:
        alive += 1
    except ConnectionError:
        pass
line("%d of 1000 slow uploads open, from 8 addresses (raw socket)" % alive, times)
for s in socks:
    s.close()
PY
