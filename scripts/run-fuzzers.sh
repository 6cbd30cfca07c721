#!/bin/sh
# Runs each libFuzzer target for the given seconds on its corpus folder (created when missing).
set -eu
seconds=$1; shift
for f in "$@"; do
  name=$(basename "$f")
  corpus=fuzz/corpus/$name
  mkdir -p "$corpus" "build/fuzz/findings/$name"
  echo "fuzzing $name for ${seconds}s"
  "$f" -max_total_time="$seconds" -artifact_prefix="build/fuzz/findings/$name/" \
       -print_final_stats=1 "build/fuzz/findings/$name" "$corpus" 2>&1 | tail -n 12
done
