#!/usr/bin/env bash
# The house checks (run by .ci/run before the tests; any failure fails CI):
# lint and format, types of the core, and the import contract (the core never imports the GUI stack).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m ruff check .
python3 -m ruff format --check .
python3 -m mypy
lint-imports
