#!/usr/bin/env bash
# Build the local base image `dockreorder-test-base:latest` (no registry needed):
# a busybox-static rootfs plus the fake package-manager tools of tests/docker/fakes,
# loaded with `docker import`.
#
# usage: build-base.sh [--force] [--alias REF]... [--variant REF]...
#   --force        rebuild even if the image exists and is up to date
#   --alias REF    also tag the base image as REF (same image ID, so it shares the build
#                  cache with every other alias), e.g. --alias python:3.12-slim
#   --variant REF  build REF = base + /etc/dockreorder-variant containing REF: a base with
#                  its own image ID, so builds FROM it never share cache keys with builds
#                  FROM another variant (use one per test to keep cache counts independent)
#
# It is also tagged dockreorder-test-base:fakes-<hash of the inputs> (printed as
# "build-base.sh: pinned REF"): tests that must not see another checkout's fakes (the engine
# is shared, and each checkout retags :latest) build FROM that tag.
# The image is rebuilt automatically when the inputs (this script, the fakes, the busybox
# binary) change: their hash is stored as the import message (`.Comment` of the image).
# Environment: DOCKER (client binary; default /usr/bin/docker when present, else docker).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
IMAGE=dockreorder-test-base:latest
if [ -z "${DOCKER:-}" ]; then
	if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
BUSYBOX=${BUSYBOX:-/bin/busybox}

force=
aliases=()
variants=()
while [ $# -gt 0 ]; do
	case $1 in
	--force) force=1 ;;
	--alias) aliases+=("$2"); shift ;;
	--variant) variants+=("$2"); shift ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "build-base.sh: unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done

[ -x "$BUSYBOX" ] || { echo "build-base.sh: $BUSYBOX missing (apt-get install busybox-static)" >&2; exit 1; }
if ! "$BUSYBOX" --list >/dev/null 2>&1; then
	echo "build-base.sh: $BUSYBOX is not a working busybox" >&2; exit 1
fi

inputs_hash() {
	{
		sha256sum "$BUSYBOX" | cut -c1-64
		sha256sum "$here/build-base.sh" | cut -c1-64
		(cd "$here/fakes" && find . -type f | LC_ALL=C sort | xargs sha256sum)
	} | sha256sum | cut -c1-64
}
hash=$(inputs_hash)
want="dockreorder-test-base $hash"
have=$("$DOCKER" image inspect --format '{{.Comment}}' "$IMAGE" 2>/dev/null || true)
# The engine is shared: another checkout with other fakes may retag :latest at any time.
# PINNED names exactly these inputs, so a test that builds FROM it (instead of :latest)
# cannot see another checkout's fakes halfway through.
PINNED=dockreorder-test-base:fakes-${hash:0:16}
pinned_have=$("$DOCKER" image inspect --format '{{.Comment}}' "$PINNED" 2>/dev/null || true)
if [ -z "$force" ] && [ "$have" != "$want" ] && [ "$pinned_have" = "$want" ]; then
	"$DOCKER" tag "$PINNED" "$IMAGE"
	have=$want
fi

if [ -n "$force" ] || [ "$have" != "$want" ]; then
	tmp=$(mktemp -d /tmp/dockreorder-base.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	r=$tmp/rootfs
	mkdir -p "$r"
	(
		cd "$r"
		mkdir -p bin sbin etc root home tmp var/tmp var/lib var/cache var/log run opt srv mnt \
			usr/bin usr/sbin usr/lib usr/share usr/local/bin usr/local/sbin usr/local/lib/fakepm \
			usr/local/share proc sys dev
		cp "$BUSYBOX" bin/busybox
		chmod 755 bin/busybox
		for a in $("$BUSYBOX" --list); do
			[ "$a" = busybox ] && continue
			ln -s busybox "bin/$a"
		done
		ln -s /bin/busybox usr/bin/env
		chmod 1777 tmp var/tmp
		chmod 700 root
		printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >etc/passwd
		printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >etc/group
		printf '%s\n' 'NAME="dockreorder-test-base"' 'ID=dockreorder' 'PRETTY_NAME="dockreorder test base (busybox + fake package managers)"' >etc/os-release
		printf '%s\n' 'hosts: files dns' >etc/nsswitch.conf
		cp "$here/fakes/lib.sh" "$here/fakes/users.sh" usr/local/lib/fakepm/
		chmod 644 usr/local/lib/fakepm/*
		cp "$here"/fakes/bin/* usr/local/bin/
		cp "$here"/fakes/sbin/* usr/sbin/
		chmod 755 usr/local/bin/* usr/sbin/*
	)
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=gnu \
		-C "$r" -cf "$tmp/rootfs.tar" .
	"$DOCKER" import \
		-m "$want" \
		-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		-c 'CMD ["/bin/sh"]' \
		"$tmp/rootfs.tar" "$IMAGE" >/dev/null
	# smoke test: the shell and a fake run inside the image
	if ! out=$("$DOCKER" run --rm --network none "$IMAGE" sh -c 'pip --version && id -u' 2>&1); then
		echo "build-base.sh: smoke test of $IMAGE failed:" >&2
		echo "$out" >&2
		exit 1
	fi
	echo "build-base.sh: built $IMAGE ($("$DOCKER" image inspect --format '{{.Id}}' "$IMAGE"))"
else
	echo "build-base.sh: $IMAGE is up to date"
fi

"$DOCKER" tag "$IMAGE" "$PINNED"
echo "build-base.sh: pinned $PINNED"
for ref in "${aliases[@]}"; do
	"$DOCKER" tag "$IMAGE" "$ref"
done
for ref in "${variants[@]}"; do
	printf 'FROM %s\nRUN echo %s > /etc/dockreorder-variant\n' "$IMAGE" "'$ref'" |
		DOCKER_BUILDKIT=1 "$DOCKER" build -q --network=none -t "$ref" - >/dev/null
done
