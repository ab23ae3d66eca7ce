#!/bin/sh
# Side-by-side throughput of examples/degrade (Go) and the reference's Python
# approach (scripts/bench_degrade.py: numpy/OpenCV/torch, one process) on the
# same images: all seven tasks, GT + 7 PNG outputs per image.
#
# usage: scripts/bench_degrade.sh [IMAGE_DIR] [N] [ROUNDS]
# Without IMAGE_DIR it builds N (default 24) 512x512 test photos from the
# fixture GTs in ../shared/fixtures/degrade (x2 bicubic, rotations, flips).
# Go and Python run alternately ROUNDS times (default 3), so machine drift
# hits both; medians and the ratio of medians are printed. Python runs with
# torch's default intra-op thread count (what the reference scripts get) and
# with all CPUs.
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
N=${2:-24}
ROUNDS=${3:-3}
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
echo "images: $(ls "$IN" | wc -l) from $IN; CPUs: $(nproc); go $(go env GOVERSION); $($PY -c 'import torch, cv2, numpy; print("torch", torch.__version__, "cv2", cv2.__version__, "numpy", numpy.__version__)')"
"$WORK/degrade" -in "$IN" -out "$WORK/warm" -q >/dev/null # warm-up
: >"$WORK/results"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	rm -rf "$WORK/go" "$WORK/py" "$WORK/py2"
	g=$("$WORK/degrade" -in "$IN" -out "$WORK/go" -seed "$r" 2>&1 | sed -n 's/.*(\([0-9.]*\) images\/s).*/\1/p')
	p=$($PY scripts/bench_degrade.py "$IN" "$WORK/py" | sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p')
	a=$($PY scripts/bench_degrade.py "$IN" "$WORK/py2" --threads "$(nproc)" | sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p')
	echo "round $r: go $g img/s, python(default threads) $p img/s, python(all threads) $a img/s"
	echo "$g $p $a" >>"$WORK/results"
	r=$((r + 1))
done
$PY - "$WORK/results" <<'PYEOF'
import sys, statistics as st
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
g, p, a = (st.median(c) for c in zip(*rows))
print('median: go %.2f img/s | python default threads %.2f img/s -> ratio %.2fx | python all threads %.2f img/s -> ratio %.2fx'
      % (g, p, g / p, a, g / a))
print('per-round ratios vs python default: ' + ', '.join('%.2f' % (r[0] / r[1]) for r in rows))
PYEOF
