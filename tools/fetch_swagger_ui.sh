#!/usr/bin/env bash
# Re-download the pinned swagger-ui-dist from the npm registry, check it against the
# integrity recorded here, and copy the files the docs page loads (with the licences)
# into api/static/swagger-ui/, rewriting SOURCE.md with their sha256.
#
# To move to another version: set VERSION and INTEGRITY (`npm view swagger-ui-dist@X
# dist.integrity`), run this script, then change SWAGGER_UI_VERSION in api/docs_ui.py and
# OPENAPI_SWAGGER_UI_URL in api/config.py to match (tests/test_docs_ui.py checks all three).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE=swagger-ui-dist
VERSION=5.35.0
INTEGRITY="sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ=="
# What flask-smorest's swagger_ui.html loads, and the licence texts that go with them.
FILES=(swagger-ui-bundle.js swagger-ui-standalone-preset.js swagger-ui.css
       LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt
       swagger-ui-standalone-preset.js.LICENSE.txt)
DEST=api/static/swagger-ui

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

npm pack --silent --pack-destination "$work" "$PACKAGE@$VERSION" >/dev/null
tarball="$work/$PACKAGE-$VERSION.tgz"
# node comes with npm; npm pack checks the registry's own record, this the pinned one.
actual="$(node -e 'const {createHash} = require("crypto");
process.stdout.write("sha512-" + createHash("sha512")
    .update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tarball")"
if [ "$actual" != "$INTEGRITY" ]; then
    echo "integrity mismatch for $PACKAGE@$VERSION: got $actual, want $INTEGRITY" >&2
    exit 1
fi
tar -xzf "$tarball" -C "$work"

mkdir -p "$DEST"
for file in "${FILES[@]}"; do
    install -m 0644 "$work/package/$file" "$DEST/$file"
done

{
    echo "# Swagger UI assets"
    echo
    echo "Served by api/docs_ui.py to the docs page (/api/v1/docs), so that it loads nothing"
    echo "from another origin. Written by tools/fetch_swagger_ui.sh; do not edit by hand."
    echo
    echo "- package: $PACKAGE"
    echo "- version: $VERSION"
    echo "- tarball: $PACKAGE-$VERSION.tgz from the npm registry (\`npm view $PACKAGE@$VERSION dist.tarball\`)"
    echo "- integrity: $INTEGRITY"
    echo "- licence: Apache-2.0 (LICENSE, NOTICE); bundled third-party notices in *.LICENSE.txt"
    echo
    echo "sha256 of each file:"
    echo
    echo '```'
    (cd "$DEST" && sha256sum "${FILES[@]}")
    echo '```'
} > "$DEST/SOURCE.md"

echo "$PACKAGE@$VERSION copied to $DEST (integrity verified)"
