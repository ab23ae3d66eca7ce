#!/usr/bin/env bash
# Runs a command against libtorch 2.x: Debian trixie's libtorch-dev (2.6.0, CPU)
# inside a trixie root made with debootstrap from Debian's packages alone. The
# root is cached outside the checkout and reused; this machine's Go toolchain,
# module cache, the checkout and the reference fixtures are bind-mounted into it
# at the same paths, so the command sees the same files as on the host.
#
#   bash scripts/libtorch2.sh                 # the README's test command
#   bash scripts/libtorch2.sh go run ./examples/torchinfo
#   bash scripts/libtorch2.sh --setup         # only make (or check) the root
#
# Environment:
#   MIOIR_TRIXIE_ROOT  the root's folder (default /var/cache/gomioir/trixie-root)
#   MIOIR_FIXTURES     the reference fixtures (default ../shared/fixtures)
#   DEBIAN_MIRROR      the Debian mirror (default http://deb.debian.org/debian)
#
# It needs root (debootstrap, chroot, mount) and runs the command in a private
# mount namespace (unshare -m), so no mount outlives it. The command runs as
# root in the chroot, with the caller's GOFLAGS, GOMAXPROCS and MIOIR_* variables.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$(pwd -P)

root=${MIOIR_TRIXIE_ROOT:-/var/cache/gomioir/trixie-root}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# libopenblas0-pthread: with --no-install-recommends Debian otherwise picks the
# netlib reference BLAS and matmul-heavy models run about ten times slower.
# libgloo-dev: the c10d Gloo headers, for the distributed binding.
# python3-setuptools: torch.compile's inductor imports it to build its C++.
packages=(libtorch-dev python3-torch g++ libopenblas0-pthread libgloo-dev python3-setuptools ca-certificates)
stamp="$root/.gomioir-ready"
want="packages: ${packages[*]}"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# apt_in DIR: installs the package list into the root DIR (a private mount
# namespace holds /proc and /dev for apt and maintainer scripts).
apt_in() {
  $sudo cp /etc/resolv.conf "$1/etc/resolv.conf"
  $sudo unshare -m bash -c "
    set -e
    mount -t proc proc '$1/proc'
    mount --rbind /dev '$1/dev'
    chroot '$1' apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive chroot '$1' apt-get install -y -q --no-install-recommends ${packages[*]} >/dev/null
    chroot '$1' apt-get clean
  "
}

make_root() {
  if ! command -v debootstrap >/dev/null; then
    echo "libtorch2: installing debootstrap from Debian" >&2
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends debootstrap
  fi
  local tmp="$root.partial"
  # A run killed inside debootstrap can leave its /proc mounted in the root.
  awk -v p="$tmp/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    $sudo umount -l "$m" || true
  done
  $sudo rm -rf "$tmp"
  $sudo mkdir -p "$(dirname "$root")"
  echo "libtorch2: debootstrap trixie into $tmp" >&2
  local t0=$SECONDS
  $sudo debootstrap --variant=minbase trixie "$tmp" "$mirror" >/dev/null
  echo "libtorch2: base root in $((SECONDS - t0)) s; installing ${packages[*]}" >&2
  apt_in "$tmp"
  echo "$want" | $sudo tee "$tmp/.gomioir-ready" >/dev/null
  $sudo rm -rf "$root"
  $sudo mv "$tmp" "$root"
  echo "libtorch2: root ready in $((SECONDS - t0)) s" >&2
}

if [ ! -f "$stamp" ]; then
  make_root
elif [ "$(cat "$stamp")" != "$want" ]; then
  # A root made for an older package list gets what it lacks, not a new debootstrap.
  echo "libtorch2: adding packages to $root ($want)" >&2
  apt_in "$root"
  echo "$want" | $sudo tee "$stamp" >/dev/null
fi

if [ "${1:-}" = "--setup" ]; then
  $sudo chroot "$root" dpkg-query -W libtorch-dev python3-torch
  exit 0
fi
[ $# -gt 0 ] || set -- go test -count=1 ./...

goroot=$(go env GOROOT)
modcache=$(go env GOMODCACHE)
fixtures=${MIOIR_FIXTURES:-$checkout/../shared/fixtures}
[ -d "$fixtures" ] && fixtures=$(cd "$fixtures" && pwd -P)
# A build cache of its own: the objects compiled against libtorch 2.6's headers
# must not be mixed up with the host's, and the root may be cached across runs.
gocache="$root/var/cache/gomioir-go-build"
$sudo mkdir -p "$gocache" "$modcache"

# Every path is mounted at the same place inside the root.
mounts=("$goroot" "$modcache" "$checkout")
[ -d "$fixtures" ] && mounts+=("$fixtures")
script='set -e
mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount -t tmpfs tmpfs "$ROOT/tmp"
for p in "${@:2:$1}"; do mkdir -p "$ROOT$p"; mount --rbind "$p" "$ROOT$p"; done
shift $(($1 + 1))
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
exec chroot "$ROOT" /usr/bin/env -i \
  HOME=/root TMPDIR=/tmp LANG=C.UTF-8 \
  PATH="$GOROOT/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  GOROOT="$GOROOT" GOMODCACHE="$GOMODCACHE" GOCACHE=/var/cache/gomioir-go-build \
  GOFLAGS="$GOFLAGS" GOPROXY="$GOPROXY" GOTOOLCHAIN=local ${GOMAXPROCS:+GOMAXPROCS=$GOMAXPROCS} \
  MIOIR_FIXTURES="$FIXTURES" $MIOIR_ENV \
  bash -c "cd \"\$0\" && exec \"\$@\"" "$CHECKOUT" "$@"'
mioir_env=$(env | grep -E '^MIOIR_[A-Z_]+=' | grep -v '^MIOIR_FIXTURES=' | grep -v '^MIOIR_TRIXIE_ROOT=' | tr '\n' ' ' || true)
exec $sudo env ROOT="$root" GOROOT="$goroot" GOMODCACHE="$modcache" CHECKOUT="$checkout" \
  FIXTURES="$fixtures" GOFLAGS="${GOFLAGS:-}" GOPROXY="$(go env GOPROXY)" GOMAXPROCS="${GOMAXPROCS:-}" \
  MIOIR_ENV="$mioir_env" \
  unshare -m bash -c "$script" bash "${#mounts[@]}" "${mounts[@]}" "$@"
