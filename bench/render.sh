#!/usr/bin/env bash
# bench/render.sh - the Render section for bench/run.sh (`make bench`):
# runs bench/render/run.sh and prints its Markdown section on stdout.
exec bash "$(dirname "$0")/render/run.sh" --no-write
