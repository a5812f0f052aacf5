#!/usr/bin/env bash
# npm-deps.sh - the test-only Node packages: ajv validates adapter output
# against the JSON Schemas in schemas/ (no C JSON Schema validator exists
# among our libraries, and writing one would be a project of its own).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/ajv ] || [ ! -d node_modules/ajv-formats ]; then
    npm install --no-audit --no-fund --silent >/dev/null 2>&1 ||
        npm install --no-audit --no-fund
fi
