#!/usr/bin/env bash
# npm-deps.sh - the test-only Node packages: ajv validates adapter output
# against the JSON Schemas in schemas/ (no C JSON Schema validator exists
# among our libraries, and writing one would be a project of its own);
# standardwebhooks checks real deliveries' signatures as a partner would
# (webhook-verify.js, e2e/stdwebhooks_test.c), an implementation not ours.
# Versions are pinned by package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/ajv ] || [ ! -d node_modules/ajv-formats ] ||
   [ ! -d node_modules/standardwebhooks ]; then
    npm install --no-audit --no-fund --silent >/dev/null 2>&1 ||
        npm install --no-audit --no-fund
fi
