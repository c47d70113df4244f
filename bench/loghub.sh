#!/usr/bin/env bash
# Log parser on the Loghub-2k benchmark: accuracy (GA, PA, ...) of `securityai logparse`
# on every dataset under ../shared/data/loghub2k, scored by ../shared/bench/loghub_score.py
# and printed next to Drain's published grouping accuracy; then single-thread speed on the
# datasets repeated to at least 1,000,000 lines.
#
#   bench/loghub.sh [BUILD_DIR]          (default build/; SHARED=/path/to/shared overrides ../shared)
#
# One configuration per dataset: the built-in format of that system plus the masks in
# bench/loghub/<System>.toml when that file exists; miner parameters are the defaults.
# Exits 0 with a message when the shared data is absent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-$root/build}
shared=${SHARED:-$root/../shared}
data=$shared/data/loghub2k
scorer=$shared/bench/loghub_score.py
if [[ ! -d $data || ! -f $scorer ]]; then
    echo "loghub.sh: $data or $scorer not found; skipping (the Loghub data is not part of the repository)"
    exit 0
fi
bin=$build/securityai
[[ -x $bin ]] || { echo "loghub.sh: $bin not built (ninja -C build securityai)" >&2; exit 1; }
py=/usr/bin/python3
[[ -x $py ]] || py=python3

# Built-in format of each Loghub system (held-out systems included, for when their data is present).
declare -A format=(
    [Android]=android [Apache]=apache-error [BGL]=bgl [HDFS]=hdfs [HPC]=hpc [Hadoop]=hadoop
    [HealthApp]=healthapp [Linux]=linux [Mac]=mac [OpenSSH]=openssh [OpenStack]=openstack
    [Proxifier]=proxifier [Spark]=spark [Thunderbird]=thunderbird [Windows]=windows-cbs [Zookeeper]=zookeeper)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
systems=()
for dir in "$data"/*/; do
    s=$(basename "$dir")
    log=$dir/${s}_2k.log
    [[ -f $log ]] || continue
    fmt=${format[$s]:-}
    if [[ -z $fmt ]]; then
        echo "loghub.sh: no built-in format for $s; skipped" >&2
        continue
    fi
    args=(logparse --format "$fmt" --final --no-entities)
    [[ -f $here/loghub/$s.toml ]] && args+=(--config "$here/loghub/$s.toml")
    "$bin" "${args[@]}" "$log" > "$out/$s.jsonl"
    systems+=("$s")
done

for labels in corrected original; do
    "$py" "$scorer" --suite "$data" "$out" --labels "$labels" --json-out "$out/score-$labels.json" > /dev/null
done
"$py" - "$out" "${systems[@]}" <<'PY'
import json, sys
out, systems = sys.argv[1], sys.argv[2:]
# Drain's grouping accuracy as published (Zhu et al., ICSE-SEIP 2019, original labels).
drain = dict(a.split("=") for a in """Android=0.911 Apache=1.000 BGL=0.963 HDFS=0.998 HPC=0.887 Hadoop=0.948
HealthApp=0.780 Linux=0.690 Mac=0.787 OpenSSH=0.788 OpenStack=0.733 Proxifier=0.527 Spark=0.920
Thunderbird=0.955 Windows=0.997 Zookeeper=0.967""".split())
def load(labels):
    d = json.load(open(f"{out}/score-{labels}.json"))
    rows = d["datasets"]
    return {r["name"]: r for r in rows}, d
cor, cor_all = load("corrected")
org, _ = load("original")
print("| System | GA | PA | FGA | FTA | GA (original labels) | Drain GA (published, original labels) |")
print("|---|---|---|---|---|---|---|")
sums = [0.0] * 6; n = 0; dsum = 0.0
for s in systems:
    c, o = cor.get(s), org.get(s)
    if not c:
        continue
    vals = [c.get("GA"), c.get("PA"), c.get("FGA"), c.get("FTA"), o.get("GA") if o else None]
    fmt = lambda v: "-" if v is None else f"{v:.3f}"
    print(f"| {s} | " + " | ".join(fmt(v) for v in vals) + f" | {drain.get(s, '-')} |")
    for i, v in enumerate(vals):
        sums[i] += v or 0.0
    n += 1
    dsum += float(drain.get(s, 0))
if n:
    print("| **average** | " + " | ".join(f"**{v / n:.3f}**" for v in sums[:5]) + f" | {dsum / n:.3f} |")
    print(f"\nmin GA (corrected): {min(cor[s]['GA'] for s in systems if s in cor):.3f} over {n} systems")
PY

[[ ${LOGHUB_SKIP_SPEED:-0} == 1 ]] && exit 0
# Speed: every dataset repeated until the total reaches 1,000,000 lines, one process per
# dataset, single thread; lines/s counts CPU time of parsing only (input is read first).
# LOGHUB_RUNS=N runs each dataset N times and counts its least CPU time: on a shared or
# virtual machine other work only ever adds time, so the least is the steadiest figure.
runs=${LOGHUB_RUNS:-1}
total=0
for s in "${systems[@]}"; do total=$((total + $(wc -l < "$data/$s/${s}_2k.log"))); done
repeat=$(( (1000000 + total - 1) / total ))
for s in "${systems[@]}"; do
    for ((i = 0; i < repeat; i++)); do cat "$data/$s/${s}_2k.log"; done > "$out/$s.big"
done
for mode in entities no-entities; do
    lines=0
    secs=0
    for s in "${systems[@]}"; do
        args=(logparse --format "${format[$s]}" --quiet --stats)
        [[ $mode == no-entities ]] && args+=(--no-entities)
        [[ -f $here/loghub/$s.toml ]] && args+=(--config "$here/loghub/$s.toml")
        t=
        for ((run = 0; run < runs; run++)); do
            stat=$("$bin" "${args[@]}" "$out/$s.big" 2>&1 >/dev/null)
            l=$(sed -E 's/.*lines ([0-9]+) .*/\1/' <<<"$stat")
            t=$("$py" -c "import sys; print(min(float(v) for v in sys.argv[1:]))" $t \
                "$(sed -E 's/.*parse cpu seconds ([0-9.]+) .*/\1/' <<<"$stat")")
        done
        lines=$((lines + l))
        secs=$("$py" -c "print($secs + $t)")
    done
    what="header + template + entities"
    [[ $mode == no-entities ]] && what="header + template"
    "$py" -c "print(f'speed ($what): {$lines:,} lines ({$repeat}x the ${#systems[@]} datasets), {$secs:.2f} CPU s, {$lines / $secs:,.0f} lines/s on one core' + (' (least of $runs runs per dataset)' if $runs > 1 else ''))"
done
