#!/usr/bin/env python3
"""moodtunes-analyze as a user runs it: JSON lines out, clear errors, exit codes."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

ANALYZE = sys.argv.pop(1)
SHARED = os.environ.get("MT_SHARED_DIR", "")
ASTRONAUT = os.path.join(SHARED, "media", "astronaut.png")
FER = os.path.join(SHARED, "data", "fer2013", "publictest")
# The [Network] group the shipped manifest gives face-expression.
FACE_EXPRESSION = (b"[Network face-expression]\nChannels=3\nMean=122.782;117.001;104.298\n"
                   b"Scale=0.00392156862745098\nFeatureLayer=3\nFeatureChannels=256\n")
MODELS = os.environ.get("MT_MODELS_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))


def run(*args, env=None):
    proc = subprocess.run([ANALYZE, *args], capture_output=True, text=True, env=env, timeout=600)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, lines, proc.stderr


@unittest.skipUnless(os.path.isfile(ASTRONAUT), "../shared/media/astronaut.png is not there")
class RealPhotos(unittest.TestCase):
    def test_astronaut_is_one_happy_face(self):
        code, lines, stderr = run(ASTRONAUT)
        self.assertEqual(code, 0, stderr)
        self.assertEqual(len(lines), 1)
        result = lines[0]
        self.assertEqual(result["file"], ASTRONAUT)
        self.assertEqual(len(result["faces"]), 1)
        face = result["faces"][0]
        self.assertEqual(face["emotion"], "happy")
        self.assertEqual(len(face["box"]), 4)
        self.assertGreater(face["score"], 0.5)
        self.assertEqual(sorted(face["emotions"]),
                         sorted(["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]))
        self.assertAlmostEqual(sum(face["emotions"].values()), 1.0, places=2)
        self.assertGreater(result["ms"], 0)

    def test_darknet_chatter_stays_out_of_the_terminal(self):
        code, _, stderr = run(ASTRONAUT)
        self.assertEqual(code, 0)
        self.assertNotIn("Loading weights", stderr)
        self.assertNotIn("layer", stderr)

    def test_every_model_reads_the_astronaut(self):
        for model in ("emotion-xception", "face-expression", "ensemble"):
            code, lines, stderr = run("--model", model, ASTRONAUT)
            self.assertEqual(code, 0, stderr)
            self.assertEqual(len(lines[0]["faces"]), 1, model)


class BadInput(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(data)
        return path

    def test_folder_with_broken_files_reports_each_and_keeps_going(self):
        self.write("a-notes.txt", b"these are not pixels\n")
        self.write("b-empty.jpg", b"")
        self.write("c-garbage.png", os.urandom(2048))
        if os.path.isfile(ASTRONAUT):
            with open(ASTRONAUT, "rb") as src:
                data = src.read()
            self.write("d-truncated.png", data[: len(data) // 3])
            self.write("sub/e-good.png", data)
        code, lines, stderr = run(self.dir)
        self.assertEqual(code, 1, "a broken file must make the exit status non-zero")
        names = [os.path.relpath(line["file"], self.dir) for line in lines]
        self.assertEqual(names, sorted(names), "folders are walked in sorted order")
        by_name = dict(zip(names, lines))
        for broken in ("a-notes.txt", "b-empty.jpg", "c-garbage.png"):
            self.assertIn("error", by_name[broken])
            self.assertTrue(by_name[broken]["error"])
        if os.path.isfile(ASTRONAUT):
            self.assertIn("error", by_name["d-truncated.png"])
            self.assertEqual(len(by_name[os.path.join("sub", "e-good.png")]["faces"]), 1)

    def test_huge_images_are_refused_unread(self):
        # A header that promises 16384x16384 (1 GiB decoded) in 70 bytes,
        # and one just over the pixel cap in a shape within the side cap.
        def png(width, height):
            def chunk(kind, data):
                return (struct.pack(">I", len(data)) + kind + data +
                        struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
            ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
            idat = zlib.compress(b"\0" * 64)
            return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
        for width, height in ((16384, 16384), (16384, 4097)):
            path = self.write("huge-%dx%d.png" % (width, height), png(width, height))
            code, lines, _ = run(path)
            self.assertEqual(code, 1)
            self.assertIn("too large", lines[0]["error"])
            self.assertIn("megapixels", lines[0]["error"])

    def test_missing_file(self):
        code, lines, _ = run(os.path.join(self.dir, "nope.jpg"))
        self.assertEqual(code, 1)
        self.assertIn("No such file", lines[0]["error"])

    def test_bad_models_are_a_clear_error(self):
        bad = os.path.join(self.dir, "models")
        os.makedirs(bad)
        code, lines, stderr = run("--models-dir", bad, ASTRONAUT)
        self.assertEqual(code, 3)
        self.assertIn("moodtunes-models.ini: cannot open", stderr)
        self.write("models/moodtunes-models.ini",
                   b"[Detector]\nNetwork=face-detector\n[Model m]\nNetworks=face-expression\n" + FACE_EXPRESSION)
        self.write("models/face-detector.cfg", b"[net]\nwidth=416\n[convolutional]\nfliters=3\n")
        self.write("models/face-detector.weights", b"\0" * 100)
        code, lines, stderr = run("--models-dir", bad, "--model", "m", ASTRONAUT)
        self.assertEqual(code, 3)
        self.assertEqual(lines, [])
        self.assertIn("cannot load the models", stderr)
        self.assertIn("face-detector", stderr)

    def test_detector_heads_are_checked_against_the_network(self):
        # BlazeFace's heads named wrongly: a clear error, not garbage boxes.
        bad = os.path.join(self.dir, "models")
        os.makedirs(bad)
        for ext in ("cfg", "weights", "names"):
            os.symlink(os.path.join(MODELS, "blazeface-back." + ext), os.path.join(bad, "blazeface-back." + ext))
        self.write("models/moodtunes-models.ini",
                   b"[Detector]\nNetwork=blazeface-back\nKind=blazeface\nHeads=99;104\n"
                   b"[Model m]\nNetworks=face-expression\n" + FACE_EXPRESSION)
        code, lines, stderr = run("--models-dir", bad, "--model", "m", ASTRONAUT)
        self.assertEqual(code, 3)
        self.assertEqual(lines, [])
        self.assertIn("layer 99 (16x16x96) is not a head", stderr.replace("\u00d7", "x"))
        self.write("models/moodtunes-models.ini",
                   b"[Detector]\nNetwork=blazeface-back\nKind=tiny-yolo\n[Model m]\nNetworks=face-expression\n"
                   + FACE_EXPRESSION)
        code, lines, stderr = run("--models-dir", bad, "--model", "m", ASTRONAUT)
        self.assertEqual(code, 3)
        self.assertIn("is not a face detector", stderr)

    def test_bad_manifests_are_a_clear_error(self):
        bad = os.path.join(self.dir, "models")
        os.makedirs(bad)
        cases = [
            (b"[Detector]\nNetwork=../../etc/passwd\n[Model m]\nNetworks=a\n", "not a plain file name"),
            (b"[Detector]\nNetwork=d\n[Model m]\nNetworks=a;b\n", "several networks need Weights"),
            (b"[Detector]\nNetwork=d\n[Model m]\nNetworks=a;b\nWeights=1;nan\n", "weight"),
            (b"[Detector]\nNetwork=d\n[Model m]\nNetworks=a;b\nWeights=1\n", "1 weights for 2 networks"),
            (b"[Detector]\nNetwork=d\n[Model m]\nNetworks=a;b;c;d;e\nWeights=1;1;1;1;1\n", "5 networks"),
            (b"[Detector]\nNetwork=d\n[Model m]\nNetworks=a\n", "[Model m]: network \u201ca\u201d has no [Network a] group"),
            (b"[Detector]\nNetwork=d\n[Model m]\nNetworks=a\n[Network a]\nChannels=3\nMean=1\nScale=1\nGamma=2\n",
             "[Network a]: unknown key"),
            (b"[Detector]\nNetwork=d\n[Model m]\nNetworks=a\n[Network a]\nChannels=1\nMean=0\n"
             b"[Expression]\nDefault=m\n", "[Network a]: Scale is missing"),
            (b"[Detector]\nNetwork=d\n[Model m]\nNetworks=a\n[Network a]\nChannels=1\nMean=0\nScale=1\n"
             b"[Expression]\nDefault=x\n", "[Expression]: Default \u201cx\u201d is no [Model NAME]"),
            (b"[Detector]\nNetwork=d\n[Model m]\nNetworks=a\nColour=red\n", "unknown key"),
            (b"[Detector]\nNetwork=d\n[Extra]\nX=1\n", "unknown group"),
            (b"[Model m]\nNetworks=a\n", "no [Detector] group"),
            (b"[Detector]\nNetwork=d\n", "no expression model"),
            (b"[Detector]\nNetwork=d\n[Model m]\nNetworks=a\nHead=h\n", "a Head reads exactly two"),
            (b"\xff\xfe garbage", "not UTF-8"),
            # Detectors: kinds, sizes, thresholds, heads and box mappings.
            (b"[Detector]\nNetwork=d\nKind=yolo9\n[Model m]\nNetworks=a\n", "unknown Kind"),
            (b"[Detector]\nNetwork=d\nKind=blazeface\n[Model m]\nNetworks=a\n", "needs Heads"),
            (b"[Detector]\nNetwork=d\nHeads=1;2\n[Model m]\nNetworks=a\n", "only a blazeface detector has Heads"),
            (b"[Detector]\nNetwork=d\nKind=blazeface\nHeads=9;3\n[Model m]\nNetworks=a\n", "increasing order"),
            (b"[Detector]\nNetwork=d\nKind=blazeface\nHeads=1;2;3;4;5\n[Model m]\nNetworks=a\n", "1 to 4 layer"),
            (b"[Detector]\nNetwork=d\nSize=100\n[Model m]\nNetworks=a\n", "Size must be a multiple of 32"),
            (b"[Detector]\nNetwork=d\nSize=2048\n[Model m]\nNetworks=a\n", "Size must be a multiple of 32"),
            (b"[Detector]\nNetwork=d\nThreshold=1.5\n[Model m]\nNetworks=a\n", "Threshold must be"),
            (b"[Detector]\nNetwork=d\nThreshold=nan\n[Model m]\nNetworks=a\n", "Threshold must be"),
            (b"[Detector]\nNetwork=d\nBoxScale=1.4\n[Model m]\nNetworks=a\n", "BoxScale must be two numbers"),
            (b"[Detector]\nNetwork=d\nBoxScale=1.4;9\n[Model m]\nNetworks=a\n", "BoxScale must be two numbers"),
            (b"[Detector]\nNetwork=d\nBoxShift=0;nan\n[Model m]\nNetworks=a\n", "BoxShift must be"),
            (b"[Detector]\nNetwork=d\n[Detector x y]\nNetwork=e\n[Model m]\nNetworks=a\n", "not a plain name"),
            (b"[Detector]\nNetwork=d\n[Detector other]\nNetwork=../e\n[Model m]\nNetworks=a\n",
             "not a plain file name"),
            (b"[Detector other]\nNetwork=e\n[Model m]\nNetworks=a\n", "no [Detector] group"),
            (b"[Detector]\nNetwork=d\n# " + b"x" * 70000 + b"\n", "at most"),
        ]
        for text, message in cases:
            with self.subTest(message=message):
                self.write("models/moodtunes-models.ini", text)
                code, lines, stderr = run("--models-dir", bad, ASTRONAUT)
                self.assertEqual(code, 3)
                self.assertEqual(lines, [])
                self.assertIn("moodtunes-models.ini", stderr)
                self.assertIn(message, stderr)

    def test_usage_errors(self):
        self.assertEqual(run()[0], 2)
        self.assertEqual(run("--no-such-option")[0], 2)
        self.assertEqual(run("--threshold", "7", ASTRONAUT)[0], 2)
        code, _, stderr = run("--model", "nonsense", ASTRONAUT)
        self.assertEqual(code, 3)
        self.assertIn("nonsense", stderr)

    def test_help_and_version(self):
        proc = subprocess.run([ANALYZE, "--help"], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0)
        self.assertIn("--whole-face", proc.stdout)
        # The models come from the manifest, the default marked.
        self.assertIn("moodtunes-ensemble (default), fitted-head, ensemble, emotion-xception, face-expression, "
                      "moodtunes-expression", proc.stdout)
        proc = subprocess.run([ANALYZE, "--version"], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0)
        self.assertRegex(proc.stdout, r"^moodtunes-analyze \d+\.\d+")


@unittest.skipUnless(os.path.isdir(FER), "../shared/data/fer2013/publictest is not there")
class WholeFace(unittest.TestCase):
    def test_fer_crops_read_as_one_face_each(self):
        folder = os.path.join(FER, "happy")
        files = sorted(os.listdir(folder))[:20]
        code, lines, stderr = run("--whole-face", *[os.path.join(folder, f) for f in files])
        self.assertEqual(code, 0, stderr)
        self.assertEqual(len(lines), 20)
        for line in lines:
            self.assertEqual(len(line["faces"]), 1)
            self.assertEqual(line["faces"][0]["box"], [0, 0, 48, 48])
        happy = sum(1 for line in lines if line["faces"][0]["emotion"] == "happy")
        self.assertGreaterEqual(happy, 14, "most clearly happy FER faces read as happy")


if __name__ == "__main__":
    unittest.main(verbosity=2)
