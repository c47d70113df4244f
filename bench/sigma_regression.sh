#!/usr/bin/env bash
# The detection engine on real SigmaHQ rules and regression cases (../shared/data/sigma,
# not in the repo): compiles every rule and groups the failure reasons, then feeds every
# regression case through the real ingest mapping (securityai hunt = model::event_from_json
# + the engine) and reports how many named rules fire and how many other rules fire too.
# Usage: bench/sigma_regression.sh [sigma-dir]   (exit 0 with a message when absent)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sigma="${1:-$here/../shared/data/sigma}"
bin="${SECURITYAI_BIN:-$here/build/securityai}"
if [ ! -d "$sigma/regression" ]; then
    echo "no Sigma data at $sigma: nothing to check"
    exit 0
fi
[ -x "$bin" ] || { echo "build first: ninja -C build securityai"; exit 1; }
rules=("$sigma"/rules*)
rule_args=()
for r in "${rules[@]}"; do rule_args+=(--rules "$r"); done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" rules check --json "${rules[@]}" >"$tmp/check.json" || true
find "$sigma/regression" -name '*.json' | sort >"$tmp/json.list"
find "$sigma/regression" -name '*.raw' | sort >"$tmp/raw.list"
xargs -d '\n' "$bin" hunt "${rule_args[@]}" -- <"$tmp/json.list" >"$tmp/hits.jsonl" 2>"$tmp/hunt.err" || true
if [ -s "$tmp/raw.list" ]; then
    xargs -d '\n' "$bin" hunt "${rule_args[@]}" --input-format raw -- <"$tmp/raw.list" >>"$tmp/hits.jsonl" 2>>"$tmp/hunt.err" || true
fi

/usr/bin/python3 - "$sigma" "$tmp" <<'PY'
import collections, json, os, re, sys
sigma, tmp = sys.argv[1], sys.argv[2]
check = json.load(open(os.path.join(tmp, "check.json")))
print(f"rules: {check['total']} documents, {check['compiled']} compiled "
      f"({100.0 * check['compiled'] / max(1, check['total']):.2f}%), {len(check['failed'])} failed")
reasons = collections.Counter(re.sub(r"'[^']*'", "'…'", f["reason"]) for f in check["failed"])
for reason, n in reasons.most_common():
    print(f"  {n:5d}  {reason}")

hits = collections.defaultdict(set)
for line in open(os.path.join(tmp, "hits.jsonl")):
    d = json.loads(line)
    hits[os.path.dirname(d["file"])].add(d["rule_id"])
cases = passed = 0
others = collections.Counter()
noisy_cases = 0
failures = []
for case in sorted(os.listdir(os.path.join(sigma, "regression"))):
    folder = os.path.join(sigma, "regression", case)
    info = open(os.path.join(folder, "info.yml")).read()
    ids = re.findall(r"^\s*-\s*id:\s*([0-9a-f-]{36})", info, re.M)
    if not ids:
        continue
    cases += 1
    fired = hits.get(folder, set())
    if all(i in fired for i in ids):
        passed += 1
    else:
        failures.append(case)
    noisy_cases += bool(fired - set(ids))
    for r in fired - set(ids):
        others[r] += 1
print(f"regression: {passed}/{cases} cases fire their rule ({100.0 * passed / max(1, cases):.1f}%)")
print(f"  other rules firing: {sum(others.values())} detections of {len(others)} distinct rules "
      f"on {noisy_cases} cases")
for r, n in others.most_common(5):
    print(f"    {n:3d}  {r}")
for case in failures:
    print(f"  MISSED {case}")
PY
grep -v '^securityai: ' "$tmp/hunt.err" | head -20 || true
