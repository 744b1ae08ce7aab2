#!/usr/bin/python3
"""Chooses an ensemble's weights on FER2013 PublicTest.

Each single-network model of the manifest is run once over the split through
the CLI (`moodtunes-analyze --whole-face`, mirrored unless --single-pass),
its probabilities kept in a cache; then every weighting of the networks on a
grid (steps of --step, summing to 1) is scored from them, and the best
weights of each combination of two or more networks are printed with their
accuracy and per-class accuracy.  Choose on PublicTest, never on a test's
answer.  Usage:
    bench/ensemble-weights.py BUILD_DIR --models a,b,c [--split publictest]
        [--step 0.05] [--single-pass] [--cache DIR]
"""
import argparse
import itertools
import json
import os
import subprocess
import sys

import numpy as np

MOODS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def split_files(root):
    files, truth = [], []
    for label, mood in enumerate(MOODS):
        folder = os.path.join(root, mood)
        for name in sorted(os.listdir(folder)):
            files.append(os.path.join(folder, name))
            truth.append(label)
    return files, np.array(truth)


def readings(analyze, model, files, single_pass, cache):
    key = os.path.join(cache, f"{model}-{'single' if single_pass else 'mirror'}-{len(files)}.npy")
    if os.path.exists(key):
        return np.load(key)
    env = dict(os.environ, MT_MODELS_DIR=os.environ.get("MT_MODELS_DIR", os.path.join(TOP, "models")))
    extra = ["--single-pass"] if single_pass else []
    proc = subprocess.run([analyze, "--whole-face", "--model", model, *extra, *files],
                          capture_output=True, text=True, env=env)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    if proc.returncode != 0 or len(lines) != len(files):
        sys.exit(f"{model}: {len(lines)} results for {len(files)} files: {proc.stderr[-500:]}")
    p = np.array([[line["faces"][0]["emotions"][m] for m in MOODS] for line in lines])
    os.makedirs(cache, exist_ok=True)
    np.save(key, p)
    return p


def report(name, p, truth):
    predicted = p.argmax(1)
    per_class = [100 * float((predicted[truth == c] == c).mean()) for c in range(len(MOODS))]
    return f"{100 * float((predicted == truth).mean()):6.2f}%  " + " ".join(
        f"{m[:3]} {a:4.1f}" for m, a in zip(MOODS, per_class)) + f"  {name}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", nargs="?", default=os.path.join(TOP, "_build"))
    parser.add_argument("--models", required=True, help="single-network models of the manifest")
    parser.add_argument("--split", default=os.path.join(TOP, "..", "shared", "data", "fer2013", "publictest"))
    parser.add_argument("--step", type=float, default=0.05)
    parser.add_argument("--single-pass", action="store_true")
    parser.add_argument("--cache", default=os.path.join(TOP, "_build-bench-cache"))
    args = parser.parse_args()

    analyze = os.path.join(args.build, "src", "cli", "moodtunes-analyze")
    files, truth = split_files(args.split)
    models = args.models.split(",")
    probs = {m: readings(analyze, m, files, args.single_pass, args.cache) for m in models}
    print(f"{len(files)} images of {args.split}, {'single pass' if args.single_pass else 'mirrored'}")
    for m in models:
        print(report(m, probs[m], truth))
    n_steps = int(round(1 / args.step))
    for size in range(2, len(models) + 1):
        for combo in itertools.combinations(models, size):
            best = None
            for parts in itertools.product(range(1, n_steps), repeat=size - 1):
                if sum(parts) >= n_steps:
                    continue
                weights = [p / n_steps for p in parts] + [(n_steps - sum(parts)) / n_steps]
                p = sum(w * probs[m] for w, m in zip(weights, combo))
                score = float((p.argmax(1) == truth).mean())
                if best is None or score > best[0]:
                    best = (score, weights, p)
            label = " + ".join(f"{w:.2f} {m}" for w, m in zip(best[1], combo))
            print(report(label, best[2], truth))


if __name__ == "__main__":
    main()
