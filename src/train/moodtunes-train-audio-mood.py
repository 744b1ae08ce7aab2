#!/usr/bin/python3
"""moodtunes-train-audio-mood: fits the model from a song's audio descriptors
to its valence and arousal (data/moodtunes-audio-model.json).

The descriptors come from the app's own analyzer helper (moodtunes-audio-
analyzer), so training sees exactly what a user's library gets.  The model is
a multinomial logistic regression over Russell's four quadrants (Q1 happy,
Q2 angry, Q3 sad, Q4 calm) on standardized descriptors; valence and arousal
are read off the quadrant probabilities:
    valence = P(Q1) + P(Q4) - P(Q2) - P(Q3)
    arousal = P(Q1) + P(Q2) - P(Q3) - P(Q4)
Every figure is from artist-grouped cross-validation (no artist in both the
fitting and the scoring folds), and the shipped model is then fitted on all
clips.  numpy only; a tool of the project, never a dependency of the app.

Usage:
  moodtunes-train-audio-mood.py --analyzer BUILD/src/audio/moodtunes-audio-analyzer
      --clips ../shared/data/mer4q [--cache FILE] [--output FILE] [--folds 5]
      [--limit N] [--seed 1]
"""
import argparse
import csv
import datetime
import hashlib
import json
import os
import subprocess
import sys
import threading

import numpy as np

QUADRANTS = ["Q1", "Q2", "Q3", "Q4"]
VALENCE_SIGN = np.array([1.0, -1.0, -1.0, 1.0])
AROUSAL_SIGN = np.array([1.0, 1.0, -1.0, -1.0])


def read_labels(clips_dir, limit):
    path = os.path.join(clips_dir, "labels.csv")
    if not os.path.isfile(path):
        raise SystemExit(f"{path} not found: --clips must be the 4Q folder (labels.csv and clips/)")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda r: r["file"])
    if limit:
        # A small subset with every quadrant (the test of this program).
        by_q = {q: [r for r in rows if r["quadrant"] == q] for q in QUADRANTS}
        rows = [r for i in range(limit) for q in QUADRANTS if i < len(by_q[q]) for r in [by_q[q][i]]][:limit * 4]
    return rows


def analyse_all(analyzer, paths, jobs):
    """Descriptors of each file through the helper's protocol, @jobs helpers."""
    results = {}
    chunks = [paths[i::jobs] for i in range(jobs)]

    def work(chunk):
        proc = subprocess.Popen([analyzer, "120"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, encoding="utf-8")
        for n, path in enumerate(chunk):
            proc.stdin.write(json.dumps({"id": n + 1, "uri": "file://" + os.path.abspath(path)}) + "\n")
            proc.stdin.flush()
            while True:
                line = proc.stdout.readline()
                if not line:
                    raise SystemExit(f"the analyzer died on {path}")
                try:
                    reply = json.loads(line)
                except ValueError:
                    continue
                if reply.get("id") == n + 1:
                    break
            if not reply.get("ok"):
                raise SystemExit(f"{path}: {reply.get('error')}")
            results[path] = reply
        proc.stdin.close()
        proc.wait()

    threads = [threading.Thread(target=work, args=(c,)) for c in chunks if c]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def load_features(args, rows):
    cache = {}
    if args.cache and os.path.exists(args.cache):
        with open(args.cache, encoding="utf-8") as f:
            cache = json.load(f)
    paths = [os.path.join(args.clips, "clips", r["file"]) for r in rows]
    todo = [p for p in paths if os.path.basename(p) not in cache]
    if todo:
        print(f"analysing {len(todo)} clips with {args.jobs} helpers", file=sys.stderr)
        for path, reply in analyse_all(args.analyzer, todo, args.jobs).items():
            cache[os.path.basename(path)] = reply
        if args.cache:
            with open(args.cache, "w", encoding="utf-8") as f:
                json.dump(cache, f)
    versions = {cache[os.path.basename(p)]["version"] for p in paths}
    if len(versions) != 1:
        raise SystemExit(f"the cache mixes feature versions {versions}: delete it")
    names = list(cache[os.path.basename(paths[0])]["features"].keys())
    x = np.array([[cache[os.path.basename(p)]["features"][n] for n in names] for p in paths])
    return names, x, versions.pop()


def artist_folds(rows, n_folds, seed):
    """Fold of each clip: artists hashed with the seed, so an artist's clips
    stay together and the split does not depend on the file order."""
    def key(artist):
        return hashlib.sha256(f"{seed}:{artist.strip().lower()}".encode()).hexdigest()
    artists = sorted({r["artist"].strip().lower() for r in rows}, key=key)
    fold_of = {a: i % n_folds for i, a in enumerate(artists)}
    return np.array([fold_of[r["artist"].strip().lower()] for r in rows])


# Values below this are taken as this before a logarithm (silence, no beat).
LOG_FLOOR = 1e-6


def choose_transforms(x):
    """log for descriptors that are positive on every clip (rates,
    frequencies, energies: skewed, multiplicative), none for the rest.
    Decided from the descriptors alone, never from the labels."""
    return ["log" if x[:, i].min() > 0 else "none" for i in range(x.shape[1])]


def transform(x, transforms):
    x = x.copy()
    for i, t in enumerate(transforms):
        if t == "log":
            x[:, i] = np.log(np.maximum(x[:, i], LOG_FLOOR))
    return x


def standardize(x_fit):
    mean = x_fit.mean(axis=0)
    scale = x_fit.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return mean, scale


def z_scores(x, mean, scale, clip):
    return np.clip((x - mean) / scale, -clip, clip)


def fit_softmax(z, y, l2, iters=300):
    """Multinomial logistic regression, L2 on the weights (not the bias),
    by Newton-free gradient descent with a fixed step (convex: converges)."""
    n, d = z.shape
    k = len(QUADRANTS)
    w = np.zeros((k, d))
    b = np.zeros(k)
    onehot = np.eye(k)[y]
    step = 0.5
    for _ in range(iters):
        logits = z @ w.T + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = p - onehot
        w -= step * (g.T @ z / n + l2 * w)
        b -= step * g.mean(axis=0)
    return w, b


def predict(z, w, b):
    logits = z @ w.T + b
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def figures(p, y):
    """Balanced quadrant accuracy from the signs of valence and arousal, the
    accuracy of each sign, and the confusion matrix."""
    valence = p @ VALENCE_SIGN
    arousal = p @ AROUSAL_SIGN
    pred = np.where(arousal >= 0, np.where(valence >= 0, 0, 1), np.where(valence >= 0, 3, 2))
    confusion = np.zeros((4, 4), dtype=int)
    for t, q in zip(y, pred):
        confusion[t, q] += 1
    recalls = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return {
        "balanced_quadrant_accuracy": round(float(recalls.mean()), 4),
        "quadrant_recall": {q: round(float(r), 4) for q, r in zip(QUADRANTS, recalls)},
        "valence_accuracy": round(float(np.mean((valence >= 0) == (VALENCE_SIGN[y] > 0))), 4),
        "arousal_accuracy": round(float(np.mean((arousal >= 0) == (AROUSAL_SIGN[y] > 0))), 4),
        "confusion": confusion.tolist(),
    }


def cross_validate(x, y, folds, l2, clip):
    p = np.zeros((len(y), 4))
    for f in sorted(set(folds)):
        fit = folds != f
        mean, scale = standardize(x[fit])
        w, b = fit_softmax(z_scores(x[fit], mean, scale, clip), y[fit], l2)
        p[~fit] = predict(z_scores(x[~fit], mean, scale, clip), w, b)
    return p


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--analyzer", required=True)
    parser.add_argument("--clips", required=True, help="the mer4q folder (labels.csv, clips/)")
    parser.add_argument("--cache", help="JSON file keeping the descriptors between runs")
    parser.add_argument("--output", help="model file to write (data/moodtunes-audio-model.json)")
    parser.add_argument("--cv-output", help="JSON file for the cross-validated predictions per clip")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5,
                        help="fold splits (seeds seed..seed+N-1) the regularization is chosen on")
    parser.add_argument("--limit", type=int, default=0, help="clips per quadrant (a quick subset)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--l2", type=float, nargs="+", default=[0.003, 0.01, 0.03, 0.1, 0.3])
    parser.add_argument("--clip-z", type=float, default=5.0)
    args = parser.parse_args()

    rows = read_labels(args.clips, args.limit)
    names, x, version = load_features(args, rows)
    y = np.array([QUADRANTS.index(r["quadrant"]) for r in rows])
    folds = artist_folds(rows, args.folds, args.seed)
    transforms = choose_transforms(x)
    x = transform(x, transforms)

    # The regularization is chosen by grouped cross-validation repeated on
    # several artist splits: one split's figures move by 0.02 with the
    # split alone, more than the choice changes them.
    splits = [folds] + [artist_folds(rows, args.folds, args.seed + r) for r in range(1, args.repeats)]
    best = None
    for l2 in args.l2:
        results = [figures(cross_validate(x, y, f, l2, args.clip_z), y) for f in splits]
        mean = float(np.mean([r["balanced_quadrant_accuracy"] for r in results]))
        print(f"l2 {l2:g}: balanced {mean:.3f} over {len(splits)} splits (first: "
              f"{results[0]['balanced_quadrant_accuracy']:.3f}, valence {results[0]['valence_accuracy']:.3f}, "
              f"arousal {results[0]['arousal_accuracy']:.3f})", file=sys.stderr)
        if best is None or mean > best[2]:
            best = (l2, results[0], mean)
    l2, cv, cv_mean = best
    cv = dict(cv, balanced_quadrant_accuracy_over_splits=round(cv_mean, 4), splits=len(splits))
    print(json.dumps({"l2": l2, "cv": cv}, indent=1))

    if args.cv_output:
        p = cross_validate(x, y, folds, l2, args.clip_z)
        with open(args.cv_output, "w", encoding="utf-8") as f:
            json.dump({r["file"]: {"fold": int(fo), "valence": float(pi @ VALENCE_SIGN),
                                   "arousal": float(pi @ AROUSAL_SIGN)}
                       for r, fo, pi in zip(rows, folds, p)}, f, indent=0)

    if args.output:
        mean, scale = standardize(x)
        w, b = fit_softmax(z_scores(x, mean, scale, args.clip_z), y, l2)
        model = {
            "comment": "Audio descriptors -> Russell quadrant probabilities (multinomial logistic regression on "
                       "z-scores, clipped to +-clip_z, of the descriptors after their transform: log(max(x, "
                       "log_floor)) or none); valence = P(Q1)+P(Q4)-P(Q2)-P(Q3), "
                       "arousal = P(Q1)+P(Q2)-P(Q3)-P(Q4). Written by src/train/moodtunes-train-audio-mood.py.",
            "version": datetime.date.today().isoformat() + "-l2-" + f"{l2:g}",
            "features_version": version,
            "provenance": {
                "dataset": "4Q audio emotion dataset (Panda, Malheiro & Paiva, IEEE TAFFC 2018), "
                           "the 600 clips of ../shared/data/mer4q (Opus 32 kb/s re-encodes)",
                "split": f"fitted on all {len(rows)} clips; figures from {args.folds}-fold cross-validation "
                         f"grouped by artist (seed {args.seed}; the regularization chosen on {args.repeats} "
                         f"such splits, seeds {args.seed}-{args.seed + args.repeats - 1})",
                "date": datetime.date.today().isoformat(),
                "command": "moodtunes-train-audio-mood.py " + " ".join(
                    "FILE" if a.startswith("/") else a for a in sys.argv[1:]),
                "l2": l2,
                "cross_validation": cv,
            },
            "classes": QUADRANTS,
            "clip_z": args.clip_z,
            "features": names,
            "transforms": transforms,
            "log_floor": LOG_FLOOR,
            "mean": [round(float(v), 8) for v in mean],
            "scale": [round(float(v), 8) for v in scale],
            "weights": [[round(float(v), 8) for v in row] for row in w],
            "bias": [round(float(v), 8) for v in b],
        }
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(model, f, indent=1)
            f.write("\n")
        print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
