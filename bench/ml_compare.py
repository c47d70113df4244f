#!/usr/bin/env python3
"""Side-by-side comparison of SecurityAI's models with scikit-learn's, on the
shared ML datasets, with the protocols of shared/bench/ML_BASELINES.md.

Run through bench/ml_compare.sh, which finds scikit-learn and the binary.
Both sides are scored by the same tool (shared/bench/ml_score.py) from
prediction files written in the same format, in the same run.

  Isolation Forest: n_estimators=100, max_samples=256, fit and scored on all
    rows (label column excluded), ROC AUC mean over --seeds seeds.
  Random Forest: 100 trees, sklearn defaults, KDDTrain+_20Percent -> KDDTest+,
    protocol_type/service/flag one-hot, targets category and class3; accuracy
    and macro F1 mean over --seeds seeds.
Times: fit seconds and batch scoring rows/s (scoring only, data already in
memory on both sides), best of the seeds' runs and median.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.ensemble import IsolationForest, RandomForestClassifier
from sklearn.preprocessing import OneHotEncoder

IF_SETS = ["shuttle", "mammography", "smtp", "pima"]
NSL_TARGETS = ["category", "class3"]
NSL_DROP = ["attack", "difficulty", "category", "class3"]
NSL_CATEGORICAL = ["protocol_type", "service", "flag"]


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
    return p.stdout


def score(args, truth, pred, truth_col):
    return last_json(run([sys.executable, args.score, truth, pred, "--truth-col", truth_col]))


def read_table(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_scores(path, scores):
    with open(path, "w") as f:
        f.write("score\n")
        f.writelines("%.6f\n" % s for s in scores)


def write_classes(path, classes):
    with open(path, "w") as f:
        f.write("class\n")
        f.writelines("%s\n" % c for c in classes)


def ours_if(args, data, seed, tmp):
    model, pred = os.path.join(tmp, "if.saim"), os.path.join(tmp, "if_ours.csv")
    fit = last_json(run([args.bin, "train", "--model", "isolation_forest", "--data", data, "--label-column", "label",
                         "--param", "n_estimators=100", "--param", "max_samples=256", "--seed", str(seed),
                         "--out", model]))
    ev = last_json(run([args.bin, "evaluate", "--model", model, "--data", data, "--predictions", pred]))
    return fit["fit_seconds"], ev["rows_per_second"], score(args, data, pred, "label")["auc"]


def sklearn_if(args, data, seed, tmp):
    header, rows = read_table(data)
    li = header.index("label")
    X = np.array([[float(v) for j, v in enumerate(r) if j != li] for r in rows], dtype=np.float32)
    t = time.perf_counter()
    m = IsolationForest(n_estimators=100, max_samples=256, random_state=seed, n_jobs=args.sklearn_jobs).fit(X)
    fit = time.perf_counter() - t
    t = time.perf_counter()
    s = -m.score_samples(X)
    rate = len(X) / (time.perf_counter() - t)
    pred = os.path.join(tmp, "if_sklearn.csv")
    write_scores(pred, s)
    return fit, rate, score(args, data, pred, "label")["auc"]


def nsl_matrix(path, encoder=None):
    header, rows = read_table(path)
    cat = [header.index(c) for c in NSL_CATEGORICAL]
    drop = set(header.index(c) for c in NSL_DROP) | set(cat)
    num = np.array([[float(v) for j, v in enumerate(r) if j not in drop] for r in rows], dtype=np.float32)
    cats = [[r[j] for j in cat] for r in rows]
    if encoder is None:
        encoder = OneHotEncoder(handle_unknown="ignore").fit(cats)
    X = np.hstack([encoder.transform(cats).toarray().astype(np.float32), num])
    return X, header, rows, encoder


def ours_rf(args, train, test, target, seed, tmp):
    model, pred = os.path.join(tmp, "rf.saim"), os.path.join(tmp, "rf_ours.csv")
    ignore = []
    for c in NSL_DROP:
        if c != target:
            ignore += ["--ignore-column", c]
    fit = last_json(run([args.bin, "train", "--model", "random_forest", "--data", train, "--label-column", target,
                         "--param", "n_estimators=100", "--seed", str(seed), "--out", model] + ignore))
    ev = last_json(run([args.bin, "evaluate", "--model", model, "--data", test, "--predictions", pred]))
    s = score(args, test, pred, target)
    return fit["fit_seconds"], ev["rows_per_second"], s["accuracy"], s["macro_f1"]


def sklearn_rf(args, nsl, target, seed, tmp):
    Xtr, htr, rtr, Xte, hte, rte, test = nsl
    ytr = [r[htr.index(target)] for r in rtr]
    t = time.perf_counter()
    m = RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=args.sklearn_jobs).fit(Xtr, ytr)
    fit = time.perf_counter() - t
    t = time.perf_counter()
    p = m.predict_proba(Xte)
    rate = len(Xte) / (time.perf_counter() - t)
    pred = os.path.join(tmp, "rf_sklearn.csv")
    write_classes(pred, m.classes_[p.argmax(axis=1)])
    s = score(args, test, pred, target)
    return fit, rate, s["accuracy"], s["macro_f1"]


def summary(values, best=min):
    return "%.3f/%.3f" % (best(values), statistics.median(values))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--sklearn-jobs", type=int, default=-1, help="n_jobs for scikit-learn (default -1: all cores)")
    ap.add_argument("--only", choices=["if", "rf"], help="run one half")
    args = ap.parse_args()
    args.score = os.path.join(args.shared, "bench", "ml_score.py")
    data = os.path.join(args.shared, "data", "ml")
    seeds = list(range(args.seeds))
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "rf":
            lines.append("## Isolation Forest (100 trees, 256 samples; fit and scored on all rows; mean of %d seeds)" % len(seeds))
            lines.append("")
            lines.append("| dataset | rows | AUC ours | AUC sklearn | diff | fit s ours best/median | fit s sklearn best/median | batch rows/s ours best/median | batch rows/s sklearn best/median |")
            lines.append("|---|---|---|---|---|---|---|---|---|")
            for name in IF_SETS:
                path = os.path.join(data, name, name + ".csv")
                if not os.path.exists(path):
                    continue
                o = [ours_if(args, path, s, tmp) for s in seeds]
                k = [sklearn_if(args, path, s, tmp) for s in seeds]
                ao, ak = statistics.mean(x[2] for x in o), statistics.mean(x[2] for x in k)
                rows = sum(1 for _ in open(path)) - 1
                lines.append("| %s | %d | %.4f | %.4f | %+.4f | %s | %s | %s | %s |" % (
                    name, rows, ao, ak, ao - ak, summary([x[0] for x in o]), summary([x[0] for x in k]),
                    "%.0f/%.0f" % (max(x[1] for x in o), statistics.median(x[1] for x in o)),
                    "%.0f/%.0f" % (max(x[1] for x in k), statistics.median(x[1] for x in k))))
                print(lines[-1], flush=True)
            lines.append("")
        if args.only != "if":
            train = os.path.join(data, "nslkdd", "KDDTrain+_20Percent.csv")
            test = os.path.join(data, "nslkdd", "KDDTest+.csv")
            if os.path.exists(train) and os.path.exists(test):
                Xtr, htr, rtr, enc = nsl_matrix(train)
                Xte, hte, rte, _ = nsl_matrix(test, enc)
                nsl = (Xtr, htr, rtr, Xte, hte, rte, test)
                lines.append("## Random Forest (100 trees, sklearn defaults; KDDTrain+_20Percent -> KDDTest+; mean of %d seeds)" % len(seeds))
                lines.append("")
                lines.append("| target | accuracy ours | accuracy sklearn | macro F1 ours | macro F1 sklearn | fit s ours best/median | fit s sklearn best/median | batch rows/s ours best/median | batch rows/s sklearn best/median |")
                lines.append("|---|---|---|---|---|---|---|---|---|")
                for target in NSL_TARGETS:
                    o = [ours_rf(args, train, test, target, s, tmp) for s in seeds]
                    k = [sklearn_rf(args, nsl, target, s, tmp) for s in seeds]
                    lines.append("| %s | %.4f | %.4f | %.4f | %.4f | %s | %s | %s | %s |" % (
                        target, statistics.mean(x[2] for x in o), statistics.mean(x[2] for x in k),
                        statistics.mean(x[3] for x in o), statistics.mean(x[3] for x in k),
                        summary([x[0] for x in o]), summary([x[0] for x in k]),
                        "%.0f/%.0f" % (max(x[1] for x in o), statistics.median(x[1] for x in o)),
                        "%.0f/%.0f" % (max(x[1] for x in k), statistics.median(x[1] for x in k))))
                    print(lines[-1], flush=True)
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
