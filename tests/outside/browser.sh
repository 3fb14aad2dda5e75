#!/usr/bin/env bash
# The web client in headless Chromium against a running gateway: builds
# web/ (TypeScript generated from proto/ by buf + protoc-gen-es, bundled
# by esbuild), then web/test/browser.mjs drives it with playwright-core.
#   usage: browser.sh GATEWAY_URL PAGE_PORT
# Needs web/node_modules (make tools) and /usr/bin/chromium (or $CHROMIUM).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/web"
start=$SECONDS
npm run --silent build
node test/browser.mjs "$1" "$2"
echo "browser: build and test took $((SECONDS - start)) s"
