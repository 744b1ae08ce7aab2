#!/usr/bin/env python3
"""FER2013 PublicTest accuracy of each expression model, through the CLI.

Runs `moodtunes-analyze --whole-face --model NAME` over the class folders of
../shared/data/fer2013/publictest and prints overall and per-class accuracy
and the confusion matrix for every model.  Usage:
    bench/accuracy.py [BUILD_DIR] [--split publictest|train] [--models a,b] [--single-pass]
"""
import argparse
import json
import os
import subprocess
import sys

EMOTIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def evaluate(analyze, model, root, extra):
    truth = []
    files = []
    for label in EMOTIONS:
        folder = os.path.join(root, label)
        for name in sorted(os.listdir(folder)):
            files.append(os.path.join(folder, name))
            truth.append(label)
    # The build tree's program reads the tree's models (as meson devenv does).
    env = dict(os.environ, MT_MODELS_DIR=os.environ.get("MT_MODELS_DIR", os.path.join(TOP, "models")))
    proc = subprocess.run([analyze, "--whole-face", "--model", model, *extra, *files],
                          capture_output=True, text=True, check=False, env=env)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    if len(lines) != len(files):
        sys.exit(f"{model}: {len(lines)} results for {len(files)} files: {proc.stderr[-500:]}")
    confusion = {t: {p: 0 for p in EMOTIONS} for t in EMOTIONS}
    ms = []
    for label, line in zip(truth, lines):
        if "error" in line:
            sys.exit(f"{line['file']}: {line['error']}")
        confusion[label][line["faces"][0]["emotion"]] += 1
        ms.append(line["ms"])
    return confusion, sorted(ms)[len(ms) // 2]


def report(model, confusion, median_ms):
    total = sum(sum(row.values()) for row in confusion.values())
    right = sum(confusion[e][e] for e in EMOTIONS)
    print(f"\n== {model}: {100.0 * right / total:.2f}% top-1 ({right}/{total}), "
          f"median {median_ms:.2f} ms per face")
    print("per class: " + ", ".join(
        f"{e} {100.0 * confusion[e][e] / max(1, sum(confusion[e].values())):.1f}%" for e in EMOTIONS))
    print("confusion (rows: truth, columns: read as)")
    print(" " * 9 + "".join(f"{e[:7]:>8}" for e in EMOTIONS))
    for e in EMOTIONS:
        print(f"{e:>9}" + "".join(f"{confusion[e][p]:>8}" for p in EMOTIONS))
    return right / total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default=os.path.join(TOP, "build-bench"))
    parser.add_argument("--split", default="publictest")
    parser.add_argument("--models", default="emotion-xception,face-expression,ensemble,fitted-head")
    parser.add_argument("--single-pass", action="store_true",
                        help="read each face once, not also mirrored (as live video does)")
    args = parser.parse_args()
    analyze = os.path.join(args.build, "src", "cli", "moodtunes-analyze")
    root = os.path.join(TOP, "..", "shared", "data", "fer2013", args.split)
    if not os.path.isdir(root):
        sys.exit(f"{root} is not there")
    for model in args.models.split(","):
        extra = ["--single-pass"] if args.single_pass else []
        confusion, median_ms = evaluate(analyze, model, root, extra)
        report(model + (" (single pass)" if extra else ""), confusion, median_ms)


if __name__ == "__main__":
    main()
