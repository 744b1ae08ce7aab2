#!/usr/bin/python3
"""bench/audio-mood.py: how well Moodtunes reads a song's mood from its sound,
and what a user then hears.  Prints figures; asserts nothing.

1. Artist-grouped 5-fold cross-validation on the shared 4Q clips (the
   training program's own figures), then the same models scored on copies of
   the held-out clips re-encoded to MP3 and to Ogg Vorbis: the descriptors
   must not depend on the codec.
2. What a user hears: two halves split by artist; for each half the model is
   fitted on the other half only, a library of the half's clips is imported
   with the real CLI (tags read, audio analysed), and
   `recommend --mood M --limit 20` is scored: happy -> Q1, angry -> Q2,
   sad -> Q3, neutral -> Q4.  Once with the clips' own tags, once with
   untagged copies (raw MP3 streams, no ID3), and once with tags and no audio
   analysis (what Moodtunes did before).
3. Speed: seconds per track per core for the 30 s clips and for full-length
   tracks (Debian's singularity-music and asc-music).

Usage: bench/audio-mood.py --build BUILD [--work DIR] [--jobs N] [--quick]
"""
import argparse
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
MOODS = {"happy": "Q1", "angry": "Q2", "sad": "Q3", "neutral": "Q4"}

spec = importlib.util.spec_from_file_location(
    "train", os.path.join(TOP, "src", "train", "moodtunes-train-audio-mood.py"))
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)


def transcode(src, dst, kind):
    """A copy through another codec.  The MP3 is a bare stream (no ID3
    muxer): the untagged library of part 2."""
    if os.path.exists(dst):
        return
    encoder = {
        "mp3": ["lamemp3enc", "target=bitrate", "bitrate=96", "cbr=true"],
        "ogg": ["vorbisenc", "quality=0.3", "!", "oggmux"],
    }[kind]
    tmp = dst + ".part"
    subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={src}", "!", "decodebin", "!",
                    "audioconvert", "!", "audioresample", "!", "audio/x-raw,rate=32000,channels=2", "!",
                    *encoder, "!", "filesink", f"location={tmp}"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.replace(tmp, dst)


def features_of(analyzer, paths, jobs, cache_path):
    cache = {}
    if os.path.exists(cache_path):
        with open(cache_path, encoding="utf-8") as f:
            cache = json.load(f)
    todo = [p for p in paths if p not in cache]
    if todo:
        cache.update(train.analyse_all(analyzer, todo, jobs))
        with open(cache_path, "w", encoding="utf-8") as f:
            json.dump(cache, f)
    versions = {cache[p]["version"] for p in paths}
    if len(versions) != 1:
        raise SystemExit(f"{cache_path} mixes descriptor versions {versions}: delete it")
    names = list(cache[paths[0]]["features"].keys())
    return names, np.array([[cache[p]["features"][n] for n in names] for p in paths]), versions.pop()


def fit(x, y, transforms, l2, clip):
    xt = train.transform(x, transforms)
    mean, scale = train.standardize(xt)
    w, b = train.fit_softmax(train.z_scores(xt, mean, scale, clip), y, l2)
    return mean, scale, w, b


def predict(model, x, transforms, clip):
    mean, scale, w, b = model
    return train.predict(train.z_scores(train.transform(x, transforms), mean, scale, clip), w, b)


def write_model(path, names, features_version, transforms, model, clip, version):
    mean, scale, w, b = model
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"comment": "bench fold model", "version": version, "features_version": features_version,
                   "provenance": {"bench": "bench/audio-mood.py"}, "classes": train.QUADRANTS,
                   "clip_z": clip, "features": names, "transforms": transforms,
                   "log_floor": train.LOG_FLOOR, "mean": mean.tolist(), "scale": scale.tolist(),
                   "weights": w.tolist(), "bias": b.tolist()}, f)


def cli(build, env, *args):
    out = subprocess.run([os.path.join(build, "src", "cli", "moodtunes-library"), *args],
                         env=env, check=True, capture_output=True, text=True)
    return out.stdout


def precision(build, env, db, label_of):
    result = {}
    for mood, quadrant in MOODS.items():
        songs = json.loads(cli(build, env, "--db", db, "recommend", "--mood", mood, "--limit", "20", "--json"))
        if isinstance(songs, dict):
            songs = songs.get("songs", [])
        hits = [label_of[os.path.basename(s["uri"]).rsplit(".", 1)[0]] == quadrant for s in songs]
        result[mood] = sum(hits) / max(len(hits), 1)
    result["mean"] = sum(result.values()) / len(MOODS)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--clips", default=os.path.join(TOP, "..", "shared", "data", "mer4q"))
    parser.add_argument("--work", default="/tmp/moodtunes-bench-audio")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="skip the re-encoded copies and the speed runs")
    args = parser.parse_args()
    analyzer = os.path.join(args.build, "src", "audio", "moodtunes-audio-analyzer")
    os.makedirs(args.work, exist_ok=True)

    rows = train.read_labels(args.clips, 0)
    y = np.array([train.QUADRANTS.index(r["quadrant"]) for r in rows])
    label_of = {r["file"].rsplit(".", 1)[0]: r["quadrant"] for r in rows}
    opus = [os.path.abspath(os.path.join(args.clips, "clips", r["file"])) for r in rows]
    names, x, features_version = features_of(analyzer, opus, args.jobs,
                                             os.path.join(args.work, "features-opus.json"))
    transforms = train.choose_transforms(x)
    with open(os.path.join(TOP, "data", "moodtunes-audio-model.json"), encoding="utf-8") as f:
        shipped = json.load(f)
    l2, clip = shipped["provenance"]["l2"], shipped["clip_z"]

    # 1. Cross-validation, and the same fold models on re-encoded copies.
    folds = train.artist_folds(rows, 5, 1)
    copies = {"opus": x}
    if not args.quick:
        for kind in ("mp3", "ogg"):
            out_dir = os.path.join(args.work, kind)
            os.makedirs(out_dir, exist_ok=True)
            paths = [os.path.join(out_dir, os.path.basename(p).rsplit(".", 1)[0] + "." + kind) for p in opus]
            with ThreadPoolExecutor(args.jobs) as pool:
                list(pool.map(lambda sd: transcode(sd[0], sd[1], kind), zip(opus, paths)))
            copies[kind] = features_of(analyzer, paths, args.jobs,
                                       os.path.join(args.work, f"features-{kind}.json"))[1]
    print(f"== 1. artist-grouped 5-fold CV on {len(rows)} clips (l2 {l2}) ==")
    for kind, xc in copies.items():
        p = np.zeros((len(y), 4))
        for f in range(5):
            fit_rows = folds != f
            model = fit(x[fit_rows], y[fit_rows], transforms, l2, clip)
            p[~fit_rows] = predict(model, xc[~fit_rows], transforms, clip)
        r = train.figures(p, y)
        print(f"{kind:5s} balanced quadrant accuracy {r['balanced_quadrant_accuracy']:.3f}  "
              f"valence {r['valence_accuracy']:.3f}  arousal {r['arousal_accuracy']:.3f}  "
              f"recall {r['quadrant_recall']}")
        print(f"      confusion (rows true Q1..Q4, columns predicted): {r['confusion']}")

    # 2. What a user hears, through the real CLI.
    print("== 2. recommend --limit 20 precision, libraries of one half, model fitted on the other ==")
    halves = train.artist_folds(rows, 2, 1)
    results = {"tags only (no audio)": [], "audio + tags": [], "audio, untagged": []}
    for h in (0, 1):
        data_dir = os.path.join(args.work, f"data-{h}")
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.copytree(os.path.join(TOP, "data"), data_dir,
                        ignore=shutil.ignore_patterns("screenshots", "demo", "companion", "icons"))
        model = fit(x[halves != h], y[halves != h], transforms, l2, clip)
        write_model(os.path.join(data_dir, "moodtunes-audio-model.json"), names, features_version, transforms,
                    model, clip,
                    f"bench-half-{h}")
        env = dict(os.environ, MT_DATA_DIR=data_dir, MT_BUILD_DIR=os.path.abspath(args.build))
        mine = [i for i in range(len(rows)) if halves[i] == h]
        for name, source, audio in (("tags only (no audio)", "opus", False), ("audio + tags", "opus", True),
                                    ("audio, untagged", "mp3", True)):
            if source == "mp3" and args.quick:
                continue
            folder = os.path.join(args.work, f"lib-{h}-{source}")
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder)
            for i in mine:
                base = os.path.basename(opus[i]).rsplit(".", 1)[0]
                src = opus[i] if source == "opus" else os.path.join(args.work, "mp3", base + ".mp3")
                os.symlink(src, os.path.join(folder, base + "." + source))
            db = os.path.join(args.work, f"lib-{h}-{source}-{int(audio)}.db")
            if os.path.exists(db):
                os.remove(db)
            cli(args.build, env, "--db", db, "import", *([] if audio else ["--no-audio"]), folder)
            results[name].append(precision(args.build, env, db, label_of))
    for name, per_half in results.items():
        if not per_half:
            continue
        mean = {m: np.mean([r[m] for r in per_half]) for m in list(MOODS) + ["mean"]}
        print(f"{name:22s} " + "  ".join(f"{m} {v:.2f}" for m, v in mean.items()))

    if args.quick:
        return
    # 3. Speed: one helper, one file at a time.
    print("== 3. analysis time per track, one core ==")
    full = sorted(os.path.join(d, f) for d in ("/usr/share/games/singularity/music", "/usr/share/games/asc/music")
                  if os.path.isdir(d) for f in os.listdir(d) if f.endswith((".ogg", ".mp3")))
    for name, paths in (("30 s clips", opus[:40]), ("full-length tracks", full[:20])):
        if not paths:
            continue
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.monotonic()
        proc = subprocess.Popen([analyzer, "120"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        requests = "".join(json.dumps({"id": i + 1, "uri": "file://" + p}) + "\n" for i, p in enumerate(paths))
        out, _ = proc.communicate(requests)
        wall = time.monotonic() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        replies = [json.loads(line) for line in out.splitlines()]
        seconds = sum(r.get("duration_ms", 0) for r in replies) / 1000
        print(f"{name:20s} {len(paths)} tracks ({seconds / len(paths):.0f} s each): "
              f"{cpu / len(paths):.3f} s of CPU per track, {wall / len(paths):.3f} s wall "
              f"(one helper, its start included)")


if __name__ == "__main__":
    main()
