#!/usr/bin/env bash
# Time per training sample of one machine's cores used two ways, for the same
# global batch: one process with N threads (batch B*N) against N processes
# with one thread each (examples/train -nproc N, batch B each). The model is
# the paper's SRResNet_EP (or -backbone/-prompt/-config from the arguments),
# patch 128, clean images degraded on the fly; rounds alternate. Prints, per
# run, the median seconds per iteration after the first two iterations,
# seconds per sample, and rank 0's share of time in collectives.
#
#   bash scripts/bench_dataparallel.sh [ITERS [ROUNDS [B]]]
#
# BACKBONE and PROMPT (default srresnet, ep) choose the model; ONLY=many runs
# the data-parallel side alone (for its share of time in collectives).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
iters=${1:-8}
rounds=${2:-2}
batch=${3:-4}
n=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/train" ./examples/train
# Eight 256x256 photos-like images: smooth gradients with noise.
python3 - "$tmp/imgs" <<'EOF'
import os, random, struct, sys, zlib
d = sys.argv[1]; os.makedirs(d)
def png(path, w, h, px):
    raw = b''.join(b'\x00' + bytes(px[y*w*3:(y+1)*w*3]) for y in range(h))
    def chunk(t, data): return struct.pack('>I', len(data)) + t + data + struct.pack('>I', zlib.crc32(t + data) & 0xffffffff)
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
for i in range(8):
    r = random.Random(i); px = []
    for y in range(256):
        for x in range(256):
            px += [(x + 20*i + r.randrange(16)) % 256, (y + r.randrange(16)) % 256, ((x ^ y) + r.randrange(16)) % 256]
    png(os.path.join(d, '%d.png' % i), 256, 256, px)
EOF
common=(-data "$tmp/imgs" -backbone "${BACKBONE:-srresnet}" -prompt "${PROMPT:-ep}" -schedule mixed -tasks n -stage-iters "$iters" -final-cycles 0
  -patch "${PATCH:-128}" -log-every 1 -ckpt-every 100000 -seed 1 -workers 1)
report() { # $1 label, $2 out dir, $3 global batch
  python3 - "$1" "$2/train.log" "$3" <<'EOF'
import json, sys, statistics, datetime
label, path, gb = sys.argv[1], sys.argv[2], int(sys.argv[3])
recs = [json.loads(l) for l in open(path) if '"msg":"train"' in l]
ts = [datetime.datetime.fromisoformat(r['time']) for r in recs]
dt = [(b - a).total_seconds() for a, b in zip(ts[2:], ts[3:])]
med = statistics.median(dt)
comm = statistics.median([r['comm_share'] for r in recs[3:]]) if 'comm_share' in recs[-1] else float('nan')
print(f"{label}: {med:.3f} s/iteration, {med/gb:.4f} s/sample (global batch {gb}), comm share {comm:.4f}")
EOF
}
for r in $(seq "$rounds"); do
  rm -rf "$tmp/one" "$tmp/many"
  if [ "${ONLY:-}" != many ]; then
    MIOIR_NUM_THREADS=$n "$tmp/train" "${common[@]}" -batch $((batch * n)) -out "$tmp/one" 2>/dev/null
    report "round $r, 1 process x $n threads" "$tmp/one" $((batch * n))
  fi
  "$tmp/train" "${common[@]}" -batch "$batch" -nproc "$n" -out "$tmp/many" 2>"$tmp/many.err" || { tail -5 "$tmp/many.err" >&2; exit 1; }
  report "round $r, $n processes x 1 thread" "$tmp/many" $((batch * n))
done
