#!/usr/bin/env bash
# Fails when `templ generate` would change the committed *_templ.go files.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
find web -name '*_templ.go' -exec cp --parents {} "$before" \;
go tool templ generate >/dev/null 2>&1
changed=0
while IFS= read -r f; do
  if ! cmp -s "$f" "$before/$f"; then
    echo "templ drift: $f changed after 'go tool templ generate' (commit the regenerated file)"
    changed=1
  fi
done < <(find web -name '*_templ.go')
for f in $(cd "$before" && find web -name '*_templ.go'); do
  [ -f "$f" ] || { echo "templ drift: $f has no .templ source any more"; changed=1; }
done
[ "$changed" = 0 ] && echo "templ: generated files are up to date"
exit "$changed"
