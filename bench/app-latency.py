#!/usr/bin/env python3
"""Camera-to-mood latency and preview frame rate of the desktop app.

A clip made from FER2013 faces (happy for 6 s, then sad for 8 s) is the
camera; the app runs with --test-report under the current display (use
xvfb-run).  Prints:
  - frame-to-result latency: a frame's arrival at the analysis branch to its
    analysis reaching the main loop (median, p95), and the analysis time;
  - camera-to-mood latency: the first frame after the change (6 s into the
    clip) arriving, to the steady mood turning "sad";
  - preview frames per second and analyses per second while analyzing, and
    frames skipped because the worker was busy;
for each GTK renderer given (default: cairo and gl); then the preview and
analysis rates on the shared 30 frames/s webcam-like clip.

usage: xvfb-run -a bench/app-latency.py BUILD-DIR [RENDERER...]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "app"))
from fer_clip import make_fer_clip, pick_fer_faces  # noqa: E402

CHANGE_MS = 6000


def run(build, clip, renderer, tmp):
    env = dict(os.environ, GSK_RENDERER=renderer, GSETTINGS_BACKEND="memory",
               GSETTINGS_SCHEMA_DIR=os.path.join(build, "data"), GTK_A11Y="none",
               MT_MODELS_DIR=os.path.join(HERE, "..", "models"), MT_DATA_DIR=os.path.join(HERE, "..", "data"),
               MT_TAG_READER=os.path.join(build, "src", "library", "moodtunes-tag-reader"))
    for name in ("DATA", "CONFIG", "CACHE"):
        env["XDG_%s_HOME" % name] = os.path.join(tmp, name.lower())
    out = subprocess.run([os.path.join(build, "src", "app", "moodtunes"), "--test-report", "--camera=" + clip,
                          "--quit-at-end", "--audio-sink=fakesink"], env=env, capture_output=True, text=True,
                         timeout=120)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def report(renderer, events):
    analyses = [e for e in events if e["event"] == "analysis"]
    stats = [e for e in events if e["event"] == "stats" and e["analysis_fps"] > 0 and e["preview_fps"] > 0]
    moods = [e for e in events if e["event"] == "mood" and e["source"] == "face"]
    print("renderer %s:" % renderer)
    if not analyses:
        print("  no analysis happened")
        return
    frame_latency = [e["t"] - e["arrival_ms"] for e in analyses]
    print("  frame-to-result latency: median %.0f ms, p95 %.0f ms (analysis alone: median %.0f ms)"
          % (statistics.median(frame_latency), percentile(frame_latency, 95),
             statistics.median(e["ms"] for e in analyses)))
    after = [e for e in analyses if e["position_ms"] >= CHANGE_MS]
    sad = [m for m in moods if m["mood"] == "sad"]
    if after and sad:
        print("  camera-to-mood latency (happy -> sad at %.1f s): %.2f s (first frame after the change at %.2f s "
              "into the clip, mood turned at a frame %.2f s into the clip)"
              % (CHANGE_MS / 1000.0, (sad[0]["t"] - after[0]["arrival_ms"]) / 1000.0,
                 after[0]["position_ms"] / 1000.0, sad[0]["position_ms"] / 1000.0))
    else:
        print("  the mood never turned sad (moods: %s)" % [m["mood"] for m in moods])
    happy = [m for m in moods if m["mood"] == "happy"]
    if happy:
        print("  first steady mood (happy) after %.2f s of clip" % (happy[0]["position_ms"] / 1000.0))
    if stats:
        print("  preview %.1f frames/s (min %.1f), analysis %.1f frames/s, %d frames skipped while busy"
              % (statistics.mean(s["preview_fps"] for s in stats), min(s["preview_fps"] for s in stats),
                 statistics.mean(s["analysis_fps"] for s in stats), stats[-1]["dropped"]))
    with_face = sum(1 for e in analyses if e["faces"])
    print("  faces found in %d of %d analyses" % (with_face, len(analyses)))


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    build = os.path.abspath(sys.argv[1])
    renderers = sys.argv[2:] or ["cairo", "gl"]
    shared = os.environ.get("MT_SHARED_DIR", os.path.join(HERE, "..", "..", "shared"))
    fer = os.path.join(shared, "data", "fer2013", "publictest")
    analyze = os.path.join(build, "src", "cli", "moodtunes-analyze")
    with tempfile.TemporaryDirectory() as tmp:
        happy = pick_fer_faces(analyze, fer, "happy", 6)
        sad = pick_fer_faces(analyze, fer, "sad", 8)
        clip = make_fer_clip(tmp, [happy, sad])
        print("clip: %d happy faces then %d sad faces, 1 s each, 640x480 at 15 frames/s; %d processors"
              % (len(happy), len(sad), os.cpu_count()))
        for renderer in renderers:
            report(renderer, run(build, clip, renderer, tmp))
        hamilton = os.path.join(shared, "media", "short_hamilton_clip.mp4")
        if os.path.exists(hamilton):
            print("clip: short_hamilton_clip.mp4, 640x360 at 30 frames/s, one face")
            for renderer in renderers:
                events = run(build, hamilton, renderer, tmp)
                stats = [e for e in events if e["event"] == "stats" and e["analysis_fps"] > 0 and e["preview_fps"] > 0]
                analyses = [e for e in events if e["event"] == "analysis"]
                if stats and analyses:
                    print("  renderer %s: preview %.1f frames/s (min %.1f), analysis %.1f frames/s "
                          "(median %.0f ms each), %d frames skipped while busy"
                          % (renderer, statistics.mean(e["preview_fps"] for e in stats),
                             min(e["preview_fps"] for e in stats),
                             statistics.mean(e["analysis_fps"] for e in stats),
                             statistics.median(e["ms"] for e in analyses), stats[-1]["dropped"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
