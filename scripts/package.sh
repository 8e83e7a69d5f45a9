#!/usr/bin/env bash
# Build the release package: dist/atrium-<version>-<os>-<arch>.zip holding the
# binary, migrations/, README.md, RUNBOOK.md, .env.example, LICENSE and NOTICE
# (the licenses of every linked module), plus the ZIP's .sha256 in sha256sum
# format. Two runs on one commit give byte-identical ZIPs: -trimpath, no build
# id or VCS stamp, sorted entries and one fixed timestamp (the commit's time).
# Only the files named below are copied, so .env, data/, databases and keys
# cannot slip in; mkzip refuses them anyway.
#
# Environment: VERSION (default: git describe, else "dev"), GOOS/GOARCH
# (default: this machine), DIST (default: dist), SOURCE_DATE_EPOCH (default:
# the commit time), GO (default: go).
set -euo pipefail
cd "$(dirname "$0")/.."

# APP names the binary (cmd/$APP) and the package; `make rename` sets it.
APP=atrium
GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
TARGET_OS=${GOOS:-$(env -u GOOS -u GOARCH "$GO" env GOOS)}
TARGET_ARCH=${GOARCH:-$(env -u GOOS -u GOARCH "$GO" env GOARCH)}
DIST=${DIST:-dist}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 315532800)}

name="$APP-$VERSION-$TARGET_OS-$TARGET_ARCH"
exe=""
[ "$TARGET_OS" = windows ] && exe=".exe"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/$name"
mkdir -p "$root/migrations/sqlite" "$root/migrations/postgres"

echo "==> building $name"
CGO_ENABLED=0 GOOS="$TARGET_OS" GOARCH="$TARGET_ARCH" GOFLAGS= "$GO" build -trimpath -buildvcs=false \
  -ldflags "-s -w -buildid= -X main.version=$VERSION" -o "$root/$APP$exe" ./cmd/$APP

cp migrations/sqlite/*.sql "$root/migrations/sqlite/"
cp migrations/postgres/*.sql "$root/migrations/postgres/"
cp README.md RUNBOOK.md .env.example LICENSE "$root/"
CGO_ENABLED=0 env -u GOOS -u GOARCH "$GO" run ./scripts/notice -goos "$TARGET_OS" -goarch "$TARGET_ARCH" ./cmd/$APP >"$root/NOTICE"

mkdir -p "$DIST"
env -u GOOS -u GOARCH "$GO" run ./scripts/mkzip -mtime "$SOURCE_DATE_EPOCH" -o "$DIST/$name.zip" "$stage"
echo "==> verify with: (cd $DIST && sha256sum -c $name.zip.sha256)"
