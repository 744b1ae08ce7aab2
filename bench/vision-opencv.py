#!/usr/bin/python3
"""Times OpenCV DNN (Debian's python3-opencv, one thread) on our own networks.

    /usr/bin/python3 bench/vision-opencv.py FRAMES_DIR [RUNS] [MODELS_DIR]

FRAMES_DIR is what bench-vision --frames-dir writes (raw 640x480 RGB frames
and frames.txt with each frame's face).  Every network is read from our own
models/NAME.cfg and NAME.weights with cv2.dnn.readNetFromDarknet and fed the
input bench-vision feeds ours (the frame at the top left of a black square,
scaled to the detector's size; the face crop for the classifiers), so the
per-network figures time the same work: setInput() and forward() of the
network alone, as bench-vision times mt_net_forward().  The whole-frame
figure adds OpenCV's own preprocessing (blobFromImage, cvtColor) to the
detector pass and one face's expression networks; it leaves out decoding
the detector's output and NMS, which mt_analyzer_analyze() does as well.

Prints a table, then "opencv KEY MS" lines (medians) for bench/vision.sh.
Benchmark only: python3-opencv is a [tests] package
(build-aux/apt-bench.txt), never a dependency of the app.
"""

import os
import statistics
import sys
import time

try:
    import cv2
    import numpy as np
except ImportError as e:
    print(f"OpenCV is not installed ({e}): bash build-aux/setup-deps.sh --tests")
    sys.exit(77)

FRAME_W, FRAME_H = 640, 480
TINY_SIZES = (224, 320, 416)
BLAZEFACE_SIZES = (192, 256)
# The analyzer's detector (models/moodtunes-models.ini: blazeface-back at 192).
ANALYZER_DETECTOR = ("blazeface", 192)
FACE_EXPRESSION_MEAN = (122.782, 117.001, 104.298)


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


def time_runs(fn, runs):
    """Median and 90th percentile wall-clock ms of RUNS calls after 3 untimed."""
    for i in range(3):
        fn(i)
    ms = []
    for i in range(runs):
        t0 = time.perf_counter()
        fn(i)
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms), percentile(ms, 0.9)


def load(models, name):
    net = cv2.dnn.readNetFromDarknet(os.path.join(models, name + ".cfg"),
                                     os.path.join(models, name + ".weights"))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    return net


def square(frame):
    """The frame at the top left of a black square, as our detectors see it."""
    padded = np.zeros((FRAME_W, FRAME_W, 3), np.uint8)
    padded[:FRAME_H, :FRAME_W] = frame
    return padded


def crop(frame, face):
    x, y, w, h = (int(round(v)) for v in face)
    x0, y0 = max(0, x), max(0, y)
    return frame[y0:min(FRAME_H, y0 + h), x0:min(FRAME_W, x0 + w)]


def detector_blob(image, kind, size):
    if kind == "blazeface":
        # [-1, 1], as mt-face-detector.c feeds BlazeFace.
        return cv2.dnn.blobFromImage(image, 1 / 127.5, (size, size), (127.5, 127.5, 127.5),
                                     swapRB=False, crop=False)
    return cv2.dnn.blobFromImage(image, 1 / 255.0, (size, size), swapRB=False, crop=False)


def expression_blob(face):
    return cv2.dnn.blobFromImage(face, 1 / 255.0, (112, 112), FACE_EXPRESSION_MEAN,
                                 swapRB=False, crop=False)


def xception_blob(face):
    gray = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
    return cv2.dnn.blobFromImage(gray, 1 / 255.0, (64, 64), swapRB=False, crop=False)


def ours_blob(face):
    # models/moodtunes-models.ini: [Network moodtunes-expression], 48x48 luma,
    # (value - 128) / 64.
    gray = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
    return cv2.dnn.blobFromImage(gray, 1 / 64.0, (48, 48), (128,), swapRB=False, crop=False)


BLOBS = {"face-expression": expression_blob, "emotion-xception": xception_blob,
         "moodtunes-expression": ours_blob}


def default_networks(models):
    """The networks the manifest's default expression model reads."""
    import configparser
    ini = configparser.ConfigParser(interpolation=None, strict=False, comment_prefixes=("#",))
    ini.optionxform = str
    ini.read(os.path.join(models, "moodtunes-models.ini"), encoding="utf-8")
    model = ini.get("Expression", "Default", fallback="fitted-head")
    return [n.strip() for n in ini.get(f"Model {model}", "Networks").split(";") if n.strip()], model


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().split("\n")[2])
        return 2
    frames_dir = sys.argv[1]
    runs = max(3, int(sys.argv[2]) if len(sys.argv) > 2 else 30)
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    models = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("MT_MODELS_DIR", os.path.join(top, "models"))

    cv2.setNumThreads(1)
    frames = []
    with open(os.path.join(frames_dir, "frames.txt")) as f:
        for line in f:
            name, w, h, *face = line.split()
            data = np.fromfile(os.path.join(frames_dir, name), np.uint8)
            frames.append((data.reshape(int(h), int(w), 3), [float(v) for v in face]))

    print(f"OpenCV DNN {cv2.__version__} (backend OpenCV, CPU, {cv2.getNumThreads()} thread), "
          f"{len(frames)} frames, {runs} runs")
    print(f"{'OpenCV DNN (ms)':34} {'median':>8} {'p90':>8}")
    results = []

    def report(key, label, t):
        print(f"{label:34} {t[0]:8.2f} {t[1]:8.2f}", flush=True)
        results.append(f"opencv {key} {t[0]:.3f}")

    def bench_net(key, label, net, blobs, outputs):
        def run(i):
            net.setInput(blobs[i % len(blobs)])
            net.forward(outputs)
        report(key, label, time_runs(run, runs))

    nets = {}
    detectors = [("tiny", "face-detector", s) for s in TINY_SIZES] + \
                [("blazeface", "blazeface-back", s) for s in BLAZEFACE_SIZES]
    for kind, name, size in detectors:
        try:
            net = nets.get(name) or load(models, name)
        except cv2.error as e:
            print(f"{name}: OpenCV cannot read it: {e}")
            continue
        nets[name] = net
        outputs = net.getUnconnectedOutLayersNames()
        blobs = [detector_blob(square(f), kind, size) for f, _ in frames]
        key = f"detector-{size}" if kind == "tiny" else f"blazeface-{size}"
        bench_net(key, f"{name} {size}x{size}", net, blobs, outputs)

    for name, make_blob in BLOBS.items():
        if not os.path.exists(os.path.join(models, name + ".cfg")):
            continue
        try:
            net = load(models, name)
        except cv2.error as e:
            print(f"{name}: OpenCV cannot read it: {e}")
            continue
        nets[name] = net
        blobs = [make_blob(crop(f, face)) for f, face in frames]
        size = blobs[0].shape[3]
        bench_net(name, f"{name} {size}x{size}", net, blobs, net.getUnconnectedOutLayersNames())

    # A whole frame: OpenCV's preprocessing, the analyzer's detector at its
    # size and the expression networks the default model reads, on one face
    # (a fitted head on their features is a 1-layer network, left out).
    kind, size = ANALYZER_DETECTOR
    networks, model = default_networks(models)
    if all(n in nets for n in ["blazeface-back", *networks]):
        det = nets["blazeface-back"]
        det_out = det.getUnconnectedOutLayersNames()

        def whole(i):
            frame, face = frames[i % len(frames)]
            det.setInput(detector_blob(square(frame), kind, size))
            det.forward(det_out)
            c = crop(frame, face)
            for n in networks:
                nets[n].setInput(BLOBS[n](c))
                nets[n].forward()
        report("analyze-single", f"whole frame (BlazeFace {size} + {model})", time_runs(whole, runs))
        results.append("opencv default-networks " + "+".join(networks))

    for line in results:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
