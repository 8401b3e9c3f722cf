#!/usr/bin/env bash
# Recipe for the local stand-in of python:3.11-slim-bookworm (no image registry is reachable here):
# a minimal Debian bookworm with Python 3.11, written as a root-filesystem tarball to $1.
# Its sha256 names the image, so editing this file rebuilds the base.
set -euo pipefail
out=$1
root=$(mktemp -d /var/tmp/kraken-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
  bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
# What the official image offers: `pip` on PATH and pip allowed to install into the system Python.
ln -sf pip3 "$root/usr/bin/pip"
rm -f "$root"/usr/lib/python3.11/EXTERNALLY-MANAGED
# No package lists, caches or docs: the runner's Dockerfile runs apt-get update itself.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
tar --numeric-owner -C "$root" -cf "$out.partial" .
mv "$out.partial" "$out"
