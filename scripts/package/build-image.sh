#!/usr/bin/env bash
# `npm run package:image`: build/dvs-image_<tag>.oci.tar, an OCI image archive
# (tag = the release version, scripts/package/version.mjs) made of Debian
# packages only, with no registry involved:
#  1. Base root file system: mmdebstrap, Debian 13 "trixie" (its nodejs is 20,
#     which the .deb depends on), variant essential plus the .deb's Depends and
#     Recommends. Cached in $DVS_IMAGE_CACHE (default /var/cache/dvs-image),
#     keyed by that recipe, and rebuilt when older than 7 days (security updates).
#  2. The .deb installed into a copy of it with dpkg in a chroot (its
#     postinst creates the dvs user there as on a host).
#  3. buildah, vfs storage in a private directory removed afterwards: the tree
#     becomes one layer, the config gets labels and the default command, and
#     the image is written to the archive as localhost/dvs:<tag>.
# Load it with `podman load -i …`, then `podman push` it to a registry
# (docs/install.md).
#   bash scripts/package/build-image.sh [--deb FILE] [--out DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
say() { printf '[image] %s\n' "$*" >&2; }

out=$repo/build
deb=
while [ $# -gt 0 ]; do
  case $1 in
    --deb) deb=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: build-image.sh [--deb FILE] [--out DIR]" >&2; exit 2 ;;
  esac
done

version=$(node "$repo/scripts/package/version.mjs")
tag=$(node "$repo/scripts/package/version.mjs" --image-tag)
arch=$(dpkg --print-architecture)
deb=${deb:-$repo/build/dvs_$(node "$repo/scripts/package/version.mjs" --deb)_$arch.deb}
[ -f "$deb" ] || { say "no package at $deb: run npm run package first"; exit 1; }
[ "$(id -u)" = 0 ] || { say "run as root (mmdebstrap, chroot and buildah's vfs storage need it)"; exit 1; }
for tool in mmdebstrap buildah; do
  command -v "$tool" >/dev/null || { say "$tool is missing: apt-get install $tool (scripts/bootstrap.sh does)"; exit 1; }
done

suite=trixie
# Package names of the .deb's Depends and Recommends, without versions or alternatives.
names() { dpkg-deb -f "$deb" "$1" | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/[[:space:]]//g' | grep -v '^$' || true; }
include=$( (names Depends; names Recommends) | sort -u | paste -sd, -)
dpkgopts=(
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
)
recipe="$suite $arch essential $include ${dpkgopts[*]}"
cache=${DVS_IMAGE_CACHE:-/var/cache/dvs-image}
base=$cache/base-$(printf '%s' "$recipe" | sha256sum | cut -c1-16).tar
mkdir -p "$cache" "$out"
if [ -z "$(find "$base" -mtime -7 2>/dev/null)" ]; then
  say "base root file system: mmdebstrap $suite with $include (cached in $cache)"
  started=$SECONDS
  tmp_base=$(mktemp --suffix=.tar "$base.XXXXXX")
  if ! mmdebstrap --quiet --format=tar --variant=essential --include="$include" "${dpkgopts[@]}" \
    --architectures="$arch" "$suite" "$tmp_base" >"$cache/mmdebstrap.log" 2>&1; then
    rm -f "$tmp_base"
    say "mmdebstrap failed, see $cache/mmdebstrap.log"
    tail -20 "$cache/mmdebstrap.log" >&2
    exit 1
  fi
  mv "$tmp_base" "$base"
  say "base built in $((SECONDS - started)) s"
else
  say "base root file system: $base (cached)"
fi

work=$(mktemp -d /var/tmp/dvs-image.XXXXXX)
store=(--root "$work/storage" --runroot "$work/run" --storage-driver vfs)
ctr=
cleanup() {
  if [ -n "$ctr" ]; then
    buildah "${store[@]}" umount "$ctr" >/dev/null 2>&1 || true
    buildah "${store[@]}" rm "$ctr" >/dev/null 2>&1 || true
  fi
  buildah "${store[@]}" rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

ctr=$(buildah "${store[@]}" from --quiet scratch)
root=$(buildah "${store[@]}" mount "$ctr")
tar -C "$root" --numeric-owner -xpf "$base"
cp "$deb" "$root/tmp/dvs.deb"
say "installing $(basename "$deb") into the image"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 chroot "$root" dpkg --install /tmp/dvs.deb >"$work/dpkg.log" 2>&1 || {
  say "dpkg --install in the image failed:"
  cat "$work/dpkg.log" >&2
  exit 1
}
rm -f "$root/tmp/dvs.deb"
# The runtime provides /dev; dpkg's logs and backups are build leftovers.
find "$root/dev" -mindepth 1 -delete
rm -f "$root"/var/log/dpkg.log "$root"/var/log/alternatives.log "$root"/var/cache/debconf/*-old "$root"/etc/*-
buildah "${store[@]}" umount "$ctr" >/dev/null

buildah "${store[@]}" config \
  --label org.opencontainers.image.title=dvs \
  --label org.opencontainers.image.description='dvs: dvs-agent, dvs-controller and the dvs CLI on Debian 13' \
  --label org.opencontainers.image.version="$version" \
  --label org.opencontainers.image.base.name="debian:$suite" \
  --workingdir / \
  --cmd '["dvs-agent", "--config", "/etc/dvs/agent.yaml"]' \
  "$ctr"
image=localhost/dvs:$tag
buildah "${store[@]}" commit --quiet --format oci --rm "$ctr" "$image" >/dev/null
ctr=
archive=$out/dvs-image_$tag.oci.tar
rm -f "$archive"
buildah "${store[@]}" push --quiet "$image" "oci-archive:$archive:$image"
say "$image written to $archive"
echo "$archive"
