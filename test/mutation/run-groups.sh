#!/usr/bin/env bash
# Runs the per-group Stryker configs written by suites.mjs, one after another (each with the config's
# 2 test processes, under nice), logging each group's start, end and output to <dir>/<group>.log.
#   bash test/mutation/run-groups.sh reports/sample-15-src60.json reports/msrc-15-60 engine manifest storage …
set -u
sample=$1; dir=$2; shift 2
for g in "$@"; do
  tests=$(node -e "const p=require('./$dir/plan.json').plan['$g'];console.log(p.suites.map(s=>'test/'+s).join(','))")
  echo "$(date -u +%T) start $g ($tests)" >> "$dir/times.log"
  MUTATE_SAMPLE=$sample MUTATE_TESTS=$tests nice -n 10 npx stryker run "$dir/$g.json" > "$dir/$g.log" 2>&1
  echo "$(date -u +%T) end $g rc=$?" >> "$dir/times.log"
done
