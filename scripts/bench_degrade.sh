#!/bin/sh
# Side-by-side throughput of examples/degrade (Go) and the reference's Python
# approach (scripts/bench_degrade.py: numpy/OpenCV/torch, one process) on the
# same images, all seven tasks, PNG outputs.
#
# usage: scripts/bench_degrade.sh [IMAGE_DIR] [N]
# Without IMAGE_DIR it builds N (default 24) 512x512 test photos from the
# fixture GTs in ../shared/fixtures/degrade (x2 bicubic, flips, rotations).
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
N=${2:-24}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
IN=${1:-}
if [ -z "$IN" ]; then
	IN=$WORK/in
	mkdir -p "$IN"
	$PY - "$IN" "$N" <<'PYEOF'
import sys, glob, cv2, numpy as np
out, n = sys.argv[1], int(sys.argv[2])
src = sorted(glob.glob('../shared/fixtures/degrade/*_gt.png'))
for i in range(n):
    im = cv2.resize(cv2.imread(src[i % len(src)]), (512, 512), interpolation=cv2.INTER_CUBIC)
    im = np.rot90(im, (i // len(src)) % 4)
    if (i // (4 * len(src))) % 2:
        im = im[:, ::-1]
    cv2.imwrite('%s/img%03d.png' % (out, i), np.ascontiguousarray(im))
PYEOF
fi
go build -o "$WORK/degrade" ./examples/degrade
echo "images: $(ls "$IN" | wc -l) from $IN; CPUs: $(nproc)"
# Warm-up (page cache, binaries), then timed runs.
"$WORK/degrade" -in "$IN" -out "$WORK/go0" -q >/dev/null
GO_LINE=$( { /usr/bin/time -f "%e" "$WORK/degrade" -in "$IN" -out "$WORK/go" -seed 1 2>&1 1>/dev/null; } | tail -2 | head -1)
echo "go: $GO_LINE"
GO_IPS=$(echo "$GO_LINE" | sed -n 's/.*(\([0-9.]*\) images\/s).*/\1/p')
PY_DEF=$($PY scripts/bench_degrade.py "$IN" "$WORK/py")
echo "$PY_DEF"
PY_ALL=$($PY scripts/bench_degrade.py "$IN" "$WORK/py2" --threads "$(nproc)")
echo "$PY_ALL"
$PY - "$GO_IPS" "$PY_DEF" "$PY_ALL" <<'PYEOF'
import sys
g = float(sys.argv[1])
def ips(line): return float(line.split('images_per_s=')[1].split()[0])
d, a = ips(sys.argv[2]), ips(sys.argv[3])
print('go %.2f img/s | python (default torch threads) %.2f img/s -> ratio %.2fx | python (all threads) %.2f img/s -> ratio %.2fx' % (g, d, g / d, a, g / a))
PYEOF
