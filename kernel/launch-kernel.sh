#!/bin/sh
# Starts evcxr_jupyter for the "Rust (geoxr)" kernel with a build folder of its own
# that outlives the kernel, so the next start finds geoxr and its dependencies
# compiled (seconds instead of minutes). Each running kernel holds a lock on its
# slot, so two notebooks open at once never build in the same folder.
#
# usage: launch-kernel.sh EVCXR_JUPYTER SLOTS_DIR CONNECTION_FILE
set -eu
evcxr=$1
slots=$2
connection=$3
i=0
while [ "$i" -lt 8 ]; do
    dir="$slots/slot-$i"
    mkdir -p "$dir"
    exec 9>"$dir/.lock"
    if flock -n 9; then
        # The lock stays held on descriptor 9 for as long as the kernel runs.
        EVCXR_TMPDIR="$dir" exec "$evcxr" --control_file "$connection"
    fi
    exec 9>&-
    i=$((i + 1))
done
# Every slot is busy: a throw-away build folder (slower start, still correct).
exec "$evcxr" --control_file "$connection"
