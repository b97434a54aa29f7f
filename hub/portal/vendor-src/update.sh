#!/usr/bin/env bash
# Re-vendor the portal's front-end packages from the npm registry (pinned in package.json,
# locked in package-lock.json) into hub/portal/static/vendor. The built files are committed
# so the portal installs with pip alone and works offline; run this only to upgrade them.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../static/vendor
rm -rf "$out" && mkdir -p "$out/leaflet/images" "$out/uplot" "$out/axe-core"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$out/leaflet/"
cp node_modules/leaflet/dist/images/*.png "$out/leaflet/images/"
cp node_modules/leaflet/LICENSE "$out/leaflet/LICENSE"
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css "$out/uplot/"
cp node_modules/uplot/LICENSE "$out/uplot/LICENSE"
# axe-core: the accessibility checker the browser tests inject (not served to pages).
cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE "$out/axe-core/"
node texas.js > "$out/texas.geojson"
cp node_modules/us-atlas/LICENSE "$out/texas.LICENSE"
{
  echo "Vendored by hub/portal/vendor-src/update.sh from the npm registry:"
  node -e 'const l=require("./package-lock.json").packages; for (const [k,v] of Object.entries(l)) if (k) console.log(`  ${k.replace("node_modules/","")} ${v.version}`)'
} > "$out/VERSIONS.txt"
