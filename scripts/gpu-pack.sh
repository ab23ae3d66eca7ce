#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a CUDA machine that has no Go and no
# network: a minimal Go toolchain (the go command, the compiler, assembler,
# linker, cgo and vet, the standard library's sources without tests) and a
# module cache holding only this module's dependencies, in one zstd archive;
# beside it a zstd decompressor for machines without one.
#
#   bash scripts/gpu-pack.sh [DIR]      # default DIR: .gpu (git-ignored)
#
# DIR then holds gokit.tar.zst, zstd and libzstd.so.1; carry DIR to the device
# machine with the working tree (the device tool's `carry`), where
# `bash scripts/gpu-check.sh` finds and unpacks it.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.gpu}
command -v zstd >/dev/null || { echo "gpu-pack: zstd is missing (apt-get install zstd)" >&2; exit 1; }

goroot=$(go env GOROOT)
gover=$(go env GOVERSION)
tool="pkg/tool/$(go env GOOS)_$(go env GOARCH)"
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

# The toolchain: go test builds the standard library from src/ (there are no
# precompiled packages since Go 1.20) and runs vet; cmd/ sources, tests,
# testdata, docs and the other tools are not needed to build and test.
kit="$tmp/gokit"
mkdir -p "$kit/go/bin" "$kit/go/$tool"
cp "$goroot/bin/go" "$kit/go/bin/"
for t in asm cgo compile link vet buildid; do
  if [ -f "$goroot/$tool/$t" ]; then cp "$goroot/$tool/$t" "$kit/go/$tool/"; fi
done
cp "$goroot/VERSION" "$kit/go/"
if [ -f "$goroot/go.env" ]; then cp "$goroot/go.env" "$kit/go/"; fi
cp -r "$goroot/pkg/include" "$kit/go/pkg/"
(cd "$goroot" && find src -path src/cmd -prune -o -type f ! -name '*_test.go' ! -path '*/testdata/*' -print0 |
  tar --null -T - -cf -) | tar -xf - -C "$kit/go"
# go.mod of src/cmd is looked up by some go commands; the folder itself is not needed.
mkdir -p "$kit/go/src/cmd" && cp "$goroot/src/cmd/go.mod" "$kit/go/src/cmd/"

# The module cache: this module's dependencies only, downloaded into a fresh
# cache; the zip files are dropped (the extracted trees, .mod, .info and
# .ziphash files are what an offline build with GOFLAGS=-mod=mod reads).
GOMODCACHE="$kit/mod" GOFLAGS=-modcacherw go mod download -x 2>/dev/null
GOMODCACHE="$kit/mod" GOFLAGS=-modcacherw go list -deps -test ./... >/dev/null
find "$kit/mod/cache/download" -name '*.zip' -delete
rm -rf "$kit/mod/cache/vcs"
echo "$gover" >"$kit/GOVERSION"

mkdir -p "$dir"
tar -C "$tmp" -cf - gokit | zstd -q -19 -T0 -f -o "$dir/gokit.tar.zst"
cp "$(command -v zstd)" "$dir/zstd"
lib=$(ldd "$(command -v zstd)" | awk '/libzstd\.so/ {print $3}')
if [ -n "$lib" ]; then cp -L "$lib" "$dir/libzstd.so.1"; fi
size=$(cat "$dir"/gokit.tar.zst "$dir"/zstd "$dir"/libzstd.so.1 2>/dev/null | wc -c)
echo "gpu-pack: $dir/gokit.tar.zst ($gover, $(du -sh "$kit/go" | cut -f1) toolchain, $(du -sh "$kit/mod" | cut -f1) modules):" \
  "$(awk -v b="$size" 'BEGIN {printf "%.1f MiB", b / 1048576}') to carry with zstd"
