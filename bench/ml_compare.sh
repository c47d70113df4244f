#!/usr/bin/env bash
# SecurityAI's Isolation Forest and Random Forest side by side with
# scikit-learn's, on every dataset of ../shared/data/ml, in one run, both
# scored by ../shared/bench/ml_score.py. Prints a Markdown table.
#
#   bench/ml_compare.sh [--seeds N] [--only if|rf] [--sklearn-jobs N]
#
# Needs build/securityai (built here when missing) and scikit-learn: the
# system's, or an unpacked Debian python3-sklearn under $SKLEARN_ROOT
# (default /tmp/debroot; see the shared STACK.md). Exits 0 with a message
# when the shared data or scikit-learn is absent.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${SAI_SHARED:-$root/../shared}
if [ ! -d "$shared/data/ml" ] || [ ! -f "$shared/bench/ml_score.py" ]; then
    echo "ml_compare: $shared/data/ml or $shared/bench/ml_score.py not found; nothing to compare"
    exit 0
fi

py=/usr/bin/python3
if ! "$py" -c 'import sklearn, numpy' 2>/dev/null; then
    prefix=${SKLEARN_ROOT:-/tmp/debroot}
    export PYTHONPATH="$prefix/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}"
    export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    if ! "$py" -c 'import sklearn, numpy' 2>/dev/null; then
        echo "ml_compare: scikit-learn not found (system or \$SKLEARN_ROOT=$prefix); see STACK.md to unpack it"
        exit 0
    fi
fi

bin=${SECURITYAI_BIN:-$root/build/securityai}
if [ ! -x "$bin" ]; then
    cmake --preset release >/dev/null
    ninja -C "$root/build" -j2 securityai
fi

echo "ml_compare: $("$py" -c 'import sklearn; print("scikit-learn", sklearn.__version__)'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$py" "$root/bench/ml_compare.py" --bin "$bin" --shared "$shared" "$@"
