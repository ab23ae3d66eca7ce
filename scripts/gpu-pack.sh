#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a CUDA machine that has no Go and no
# network, into DIR (default .gpu, git-ignored):
#
#   gokit.tar.zst     a minimal Go toolchain (the go command, compiler,
#                     assembler, linker, cgo and vet; the sources of only the
#                     standard packages this module builds on) and a module
#                     cache holding only the packages this module imports
#   fixtures.tar.zst  the reference fixtures the CUDA checks read: the network
#                     checkpoints without their params_ema copies (half the
#                     size; the CUDA checks load params) and the .npy/.json files
#   zstd              a zstd decompressor, for machines without one
#
#   bash scripts/gpu-pack.sh [DIR]
#
# Carry DIR to the device machine with the working tree (the device tool's
# `carry`); there `bash scripts/gpu-check.sh` unpacks it. Everything must fit the
# 64 MiB a device call carries, the checkout included, so nothing that an
# offline `go test` does not read is packed. Needs zstd and, for the
# checkpoints, Debian's python3-torch (a fixture script's dependency only).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.gpu}
fixtures=${MIOIR_FIXTURES:-../shared/fixtures}
command -v zstd >/dev/null || { echo "gpu-pack: zstd is missing (apt-get install zstd)" >&2; exit 1; }
[ -d "$fixtures/models" ] || { echo "gpu-pack: no fixtures in $fixtures (set MIOIR_FIXTURES)" >&2; exit 1; }

goroot=$(go env GOROOT)
tool="pkg/tool/$(go env GOOS)_$(go env GOARCH)"
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

# copy_pkg SRC DST: a package folder's build inputs (no tests, no subfolders).
copy_pkg() {
  mkdir -p "$2"
  find "$1" -maxdepth 1 -type f ! -name '*_test.go' -exec cp {} "$2/" \;
}

# The toolchain. Since Go 1.20 there are no precompiled standard packages: go
# test compiles them from src/, so src/ must hold every standard package in
# this module's build graph (tests and examples included). vet stays although
# gpu-check.sh runs go test with -vet=off: go test asks it for its flags.
kit="$tmp/gokit"
mkdir -p "$kit/go/bin" "$kit/go/$tool" "$kit/go/src/cmd" "$kit/go/src/vendor"
cp "$goroot/bin/go" "$kit/go/bin/"
for t in asm cgo compile link vet buildid; do
  if [ -f "$goroot/$tool/$t" ]; then cp "$goroot/$tool/$t" "$kit/go/$tool/"; fi
done
for f in VERSION go.env; do
  if [ -f "$goroot/$f" ]; then cp "$goroot/$f" "$kit/go/"; fi
done
cp -r "$goroot/pkg/include" "$kit/go/pkg/"
cp "$goroot/src/go.mod" "$goroot/src/go.sum" "$kit/go/src/"
cp "$goroot/src/cmd/go.mod" "$kit/go/src/cmd/"
cp "$goroot/src/vendor/modules.txt" "$kit/go/src/vendor/"
go list -deps -test -f '{{if .Standard}}{{.Dir}}{{end}}' ./... | sort -u | while read -r d; do
  copy_pkg "$d" "$kit/go/${d#"$goroot"/}"
done

# The module cache: downloaded fresh, then cut down to the packages in the
# build graph. The cache/download metadata (.mod, .info, .ziphash) stays: an
# offline build with GOFLAGS=-mod=mod reads it; the zip files are dropped.
mod="$kit/mod"
GOMODCACHE="$mod" GOFLAGS=-modcacherw go mod download
keep="$tmp/keep"
GOMODCACHE="$mod" GOFLAGS=-modcacherw go list -deps -test \
  -f '{{if and (not .Standard) .Module}}{{if .Module.Dir}}{{.Module.Dir}} {{.Dir}}{{end}}{{end}}' ./... |
  grep -v "^$(pwd -P) " | sort -u >"$keep"
pruned="$tmp/mod"
mkdir -p "$pruned"
mv "$mod/cache" "$pruned/"
while read -r moddir pkgdir; do
  rel=${pkgdir#"$mod"/}
  copy_pkg "$pkgdir" "$pruned/$rel"
  for f in go.mod LICENSE; do
    if [ -f "$moddir/$f" ]; then cp "$moddir/$f" "$pruned/${moddir#"$mod"/}/"; fi
  done
done <"$keep"
chmod -R u+w "$mod" && rm -rf "$mod" && mv "$pruned" "$mod"
find "$mod/cache/download" -name '*.zip' -delete
rm -rf "$mod/cache/vcs"
go env GOVERSION >"$kit/GOVERSION"

mkdir -p "$dir"
tar -C "$tmp" -cf - gokit | zstd -q -19 --long=27 -T0 -f -o "$dir/gokit.tar.zst"

# The fixtures.
fx="$tmp/fixtures/models"
mkdir -p "$fx"
find "$fixtures/models" -maxdepth 1 -type f ! -name '*.pth' ! -name 'type7.npy' -exec cp {} "$fx/" \;
/usr/bin/python3 - "$fixtures/models" "$fx" <<'EOF'
import glob, os, sys
import torch
src, dst = sys.argv[1:]
for f in sorted(glob.glob(os.path.join(src, "*.pth"))):
    ckpt = torch.load(f, map_location="cpu")
    torch.save({"params": ckpt["params"]}, os.path.join(dst, os.path.basename(f)))
EOF
tar -C "$tmp" -cf - fixtures | zstd -q -19 --long=27 -T0 -f -o "$dir/fixtures.tar.zst"

cp "$(command -v zstd)" "$dir/zstd"
size=$(cat "$dir"/gokit.tar.zst "$dir"/fixtures.tar.zst "$dir"/zstd | wc -c)
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "gpu-pack: $dir: gokit.tar.zst $(mib "$(wc -c <"$dir/gokit.tar.zst")") ($(cat "$kit/GOVERSION");" \
  "toolchain $(du -sh "$kit/go" | cut -f1), modules $(du -sh "$kit/mod" | cut -f1))," \
  "fixtures.tar.zst $(mib "$(wc -c <"$dir/fixtures.tar.zst")"), $(mib "$size") with zstd"
