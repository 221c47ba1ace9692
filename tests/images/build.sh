#!/usr/bin/env bash
# Builds the container images the verification tests run items in, offline
# from the Debian archive: debootstrap a minimal root file system, tar it and
# `docker import` it. Root file systems are cached as tarballs, so a rerun
# only re-imports (and skips images that already exist with the same
# content).
#
#   tests/images/build.sh [old] [new] [broken] [py2] [real] [real-rebuild]
#                         [real-noyaml] [real-nodateparser]   (default: old new broken)
#
# Images (names and tags configurable through the environment):
#   old     $DOCKERBUMP_TEST_IMAGE_OLD     demisto/python3:3.11.9.100001
#           bookworm, python3 + python3-yaml + python3-pytest
#   new     $DOCKERBUMP_TEST_IMAGE_NEW     demisto/python3:3.11.10.100002
#           the same packages: everything that works in old works here
#   broken  $DOCKERBUMP_TEST_IMAGE_BROKEN  demisto/python3:3.12.1.100003
#           the same, but the yaml module is deleted: items importing it
#           regress
#   py2     $DOCKERBUMP_TEST_IMAGE_PY2     demisto/python:2.7.18.100004
#           bullseye, python2.7 with `python` on PATH and no python3
#
# For real content (the CommonServerPython of demisto/content and items that
# import requests, dateparser, bs4, pytz, ... and test with pytest-mock and
# requests-mock), the packages those imports need:
#   real               $DOCKERBUMP_TEST_IMAGE_REAL          demisto/python3:3.11.2.200001
#   real-rebuild       $DOCKERBUMP_TEST_IMAGE_REAL_REBUILD  demisto/python3:3.11.2.200002
#                      the same root file system imported again: another image
#                      id, the same content (an identical rebuild)
#   real-noyaml        $DOCKERBUMP_TEST_IMAGE_REAL_NOYAML   demisto/python3:3.11.2.200003
#                      without the yaml module
#   real-nodateparser  $DOCKERBUMP_TEST_IMAGE_REAL_NODATEPARSER
#                                                           demisto/python3:3.11.2.200004
#                      without the dateparser module
#
# Environment:
#   DOCKERBUMP_TEST_CACHE    tarball cache   (default /var/cache/dockerbump-test)
#   DOCKERBUMP_TEST_MIRROR   Debian mirror   (default http://deb.debian.org/debian)
#   DOCKERBUMP_TEST_RUNTIME  docker, podman or a path (default docker)
# Needs root (debootstrap) and a running engine.
set -euo pipefail

cache=${DOCKERBUMP_TEST_CACHE:-/var/cache/dockerbump-test}
mirror=${DOCKERBUMP_TEST_MIRROR:-http://deb.debian.org/debian}
runtime=${DOCKERBUMP_TEST_RUNTIME:-docker}
img_old=${DOCKERBUMP_TEST_IMAGE_OLD:-demisto/python3:3.11.9.100001}
img_new=${DOCKERBUMP_TEST_IMAGE_NEW:-demisto/python3:3.11.10.100002}
img_broken=${DOCKERBUMP_TEST_IMAGE_BROKEN:-demisto/python3:3.12.1.100003}
img_py2=${DOCKERBUMP_TEST_IMAGE_PY2:-demisto/python:2.7.18.100004}
img_real=${DOCKERBUMP_TEST_IMAGE_REAL:-demisto/python3:3.11.2.200001}
img_real_rebuild=${DOCKERBUMP_TEST_IMAGE_REAL_REBUILD:-demisto/python3:3.11.2.200002}
img_real_noyaml=${DOCKERBUMP_TEST_IMAGE_REAL_NOYAML:-demisto/python3:3.11.2.200003}
img_real_nodateparser=${DOCKERBUMP_TEST_IMAGE_REAL_NODATEPARSER:-demisto/python3:3.11.2.200004}

py3_suite=bookworm
py3_packages=python3,python3-yaml,python3-pytest
py2_suite=bullseye
py2_packages=python2.7,python-is-python2
real_packages=python3,python3-distutils,python3-yaml,python3-pytest,python3-pytest-mock
real_packages+=,python3-requests,python3-requests-mock,python3-urllib3,python3-dateparser
real_packages+=,python3-tz,python3-dateutil,python3-bs4
# Deleted from the "broken" image: the module the test items import.
broken_path=./usr/lib/python3/dist-packages/yaml
dateparser_path=./usr/lib/python3/dist-packages/dateparser

log() { printf 'images: %s\n' "$*" >&2; }

# rootfs SUITE PACKAGES: prints the path of the cached tarball, building it
# first when it is missing. The name carries the inputs, so a change of the
# package list builds a new one.
rootfs() {
	local suite=$1 packages=$2 key tarball dir
	key=$(printf '%s %s %s' "$suite" "$packages" "$mirror" | sha256sum | cut -c1-16)
	tarball=$cache/rootfs-$suite-$key.tar
	if [[ -s $tarball ]]; then
		printf '%s\n' "$tarball"
		return
	fi
	command -v debootstrap >/dev/null || { log "debootstrap is not installed"; exit 1; }
	dir=$(mktemp -d "$cache/build-$suite.XXXXXX")
	log "debootstrap $suite ($packages) into $dir"
	if ! debootstrap --variant=minbase --include="$packages" "$suite" "$dir" "$mirror" \
		>"$dir.log" 2>&1; then
		tail -n 20 "$dir.log" >&2
		rm -rf "$dir" "$dir.log"
		log "debootstrap $suite failed"
		exit 1
	fi
	# Package caches and lists only make the image bigger.
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
	tar -C "$dir" --numeric-owner -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$dir" "$dir.log"
	printf '%s\n' "$tarball"
}

# import NAME TARBALL [PATH_TO_DELETE [BUILD]]: imports the tarball as NAME
# unless an image of that name was already imported from the same input. BUILD
# tells two imports of the same input apart (another image id, same content).
import_image() {
	local name=$1 tarball=$2 delete=${3:-} build=${4:-} want have
	want=$(basename "$tarball")${delete:+-without-${delete//\//_}}${build:+-build-$build}
	have=$("$runtime" image inspect --format '{{index .Config.Labels "dockerbump.test.input"}}' \
		"$name" 2>/dev/null || true)
	if [[ $have == "$want" ]]; then
		log "$name is up to date"
		return
	fi
	log "importing $name"
	if [[ -n $delete ]]; then
		tar --delete -f - "$delete" <"$tarball" |
			"$runtime" import --change "LABEL dockerbump.test.input=$want" - "$name" >/dev/null
	else
		"$runtime" import --change "LABEL dockerbump.test.input=$want" "$tarball" "$name" >/dev/null
	fi
}

main() {
	local targets=("$@") t py3 py2 real
	[[ ${#targets[@]} -gt 0 ]] || targets=(old new broken)
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9
	for t in "${targets[@]}"; do
		case $t in
		old | new | broken)
			py3=$(rootfs "$py3_suite" "$py3_packages")
			case $t in
			old) import_image "$img_old" "$py3" ;;
			new) import_image "$img_new" "$py3" ;;
			broken) import_image "$img_broken" "$py3" "$broken_path" ;;
			esac
			;;
		py2)
			py2=$(rootfs "$py2_suite" "$py2_packages")
			import_image "$img_py2" "$py2"
			;;
		real | real-rebuild | real-noyaml | real-nodateparser)
			real=$(rootfs "$py3_suite" "$real_packages")
			case $t in
			real) import_image "$img_real" "$real" ;;
			real-rebuild) import_image "$img_real_rebuild" "$real" "" 2 ;;
			real-noyaml) import_image "$img_real_noyaml" "$real" "$broken_path" ;;
			real-nodateparser) import_image "$img_real_nodateparser" "$real" "$dateparser_path" ;;
			esac
			;;
		*)
			log "unknown image '$t' (old, new, broken, py2, real, real-rebuild, real-noyaml, real-nodateparser)"
			exit 2
			;;
		esac
	done
}

main "$@"
