#!/usr/bin/env bash
# Rebuilds what the service's pages (the portal's, and the API's sign-in pages) take from GOV.UK Frontend, at
# the pinned version below, from npm:
#   vendor/govuk-frontend/  the components' own Nunjucks templates and their published fixtures (this crate
#                           renders the templates; a test compares every fixture's HTML)
#   assets/                 the compiled stylesheet (Arial, no GDS Transport: that typeface and the crown are
#                           for GOV.UK's own services) and the JavaScript
# The results are committed, so building or running anything needs no npm. Run it after changing a version.
set -euo pipefail

GOVUK_FRONTEND_VERSION=6.6.0
SASS_VERSION=1.83.0

crate="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
cat > package.json <<JSON
{"name": "govuk-assets", "private": true,
 "dependencies": {"govuk-frontend": "$GOVUK_FRONTEND_VERSION", "sass": "$SASS_VERSION"}}
JSON
npm install --silent --no-audit --no-fund
govuk="$work/node_modules/govuk-frontend/dist/govuk"

cat > portal.scss <<'SCSS'
@use "govuk-frontend/dist/govuk" as govuk with (
  $govuk-font-family: (arial, sans-serif),
  $govuk-include-default-font-face: false,
  $govuk-assets-path: "/assets/"
);
SCSS
npx sass --no-source-map --style=compressed --quiet-deps --load-path=node_modules portal.scss \
    "$crate/assets/govuk-frontend.min.css" 2> sass.log || { cat sass.log >&2; exit 1; }
cp "$govuk/govuk-frontend.min.js" "$crate/assets/govuk-frontend.min.js"

vendor="$crate/vendor/govuk-frontend"
rm -rf "$vendor"
mkdir -p "$vendor"
(cd "$govuk" && find . \( -name '*.njk' -o -name 'fixtures.json' \) -print0 | xargs -0 cp --parents -t "$vendor")
echo "$GOVUK_FRONTEND_VERSION" > "$vendor/VERSION"
echo "govuk-frontend $GOVUK_FRONTEND_VERSION and sass $SASS_VERSION: rebuilt $(ls "$vendor"/components | wc -l) components"
