#!/usr/bin/python3
"""Expression accuracy on detected faces, for choosing a model's crop.

The whole-image figures (bench/accuracy.py) hand the networks FER2013's own
framing; live video hands them the detector's box times the model's
CropMargin, moved up by CropShift.  This bench pastes PublicTest faces
(the first --per-class of each class, at 160, 240 and 320 pixels, on a
light or a dark background) into 640x480 frames, lets the analyzer find and
read them (single pass, as live video does) with each crop asked for, and
prints the share of found faces read right.  Choose on PublicTest only.
Usage:
    bench/crop-accuracy.py BUILD_DIR --model NAME [--crops 1.15:0.05,0.75:0.15]
        [--per-class 50]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

from PIL import Image

MOODS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_frames(split, per_class, out):
    for mood in MOODS:
        os.makedirs(os.path.join(out, mood))
        for k, name in enumerate(sorted(os.listdir(os.path.join(split, mood)))[:per_class]):
            side = (160, 240, 320)[k % 3]
            with Image.open(os.path.join(split, mood, name)) as im:
                face = im.convert("RGB").resize((side, side), Image.BILINEAR)
            frame = Image.new("RGB", (640, 480), (235, 235, 235) if k % 2 else (90, 110, 130))
            frame.paste(face, ((640 - side) // 2, (480 - side) // 2))
            frame.save(os.path.join(out, mood, name + ".png"))


def models_with_crop(models, model, margin, shift, out):
    """A models folder: every file linked, the manifest with @model's crop set."""
    os.makedirs(out)
    for name in os.listdir(models):
        if name != "moodtunes-models.ini":
            os.symlink(os.path.join(models, name), os.path.join(out, name))
    lines, in_group = [], False
    with open(os.path.join(models, "moodtunes-models.ini"), encoding="utf-8") as f:
        for line in f:
            stripped = line.strip()
            if stripped.startswith("["):
                in_group = stripped == f"[Model {model}]"
                lines.append(line)
                if in_group:
                    lines.append(f"CropMargin={margin}\nCropShift={shift}\n")
                continue
            if in_group and stripped.split("=")[0] in ("CropMargin", "CropShift"):
                continue
            lines.append(line)
    with open(os.path.join(out, "moodtunes-models.ini"), "w", encoding="utf-8") as f:
        f.writelines(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", nargs="?", default=os.path.join(TOP, "build-bench"))
    parser.add_argument("--model", required=True)
    parser.add_argument("--crops", default="1.15:0.05,0.75:0.15", help="MARGIN:SHIFT,...")
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--split", default=os.path.join(TOP, "..", "shared", "data", "fer2013", "publictest"))
    args = parser.parse_args()
    analyze = os.path.join(args.build, "src", "cli", "moodtunes-analyze")
    models = os.environ.get("MT_MODELS_DIR", os.path.join(TOP, "models"))

    work = tempfile.mkdtemp(prefix="mt-crop-accuracy-")
    try:
        frames = os.path.join(work, "frames")
        make_frames(args.split, args.per_class, frames)
        for crop in args.crops.split(","):
            margin, shift = crop.split(":")
            folder = os.path.join(work, f"models-{margin}-{shift}")
            models_with_crop(models, args.model, margin, shift, folder)
            proc = subprocess.run([analyze, "--model", args.model, "--single-pass", frames],
                                  capture_output=True, text=True, env=dict(os.environ, MT_MODELS_DIR=folder))
            if proc.returncode != 0:
                sys.exit(f"moodtunes-analyze failed: {proc.stderr[-500:]}")
            n = found = right = 0
            for line in proc.stdout.splitlines():
                r = json.loads(line)
                n += 1
                if r.get("faces"):
                    found += 1
                    right += r["faces"][0]["emotion"] == r["file"].split("/")[-2]
            print(f"{args.model} CropMargin {margin} CropShift {shift}: {found} of {n} faces found, "
                  f"{100 * right / max(found, 1):.1f}% of them read right")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
