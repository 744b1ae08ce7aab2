"""Camera clips made at run time from FER2013 faces (never committed): each
face upscaled onto a light background for one second, as a 640x480 MJPEG AVI.
Shared by tests/app/test-app.py and bench/app-latency.py."""
import json
import os
import shutil
import subprocess


def pick_fer_faces(analyze, fer_dir, label, count, min_probability=0.7):
    """Faces of one class that the classifier reads as that class."""
    folder = os.path.join(fer_dir, label)
    names = sorted(os.listdir(folder))[:80]
    out = subprocess.run([analyze, "--whole-face"] + [os.path.join(folder, n) for n in names],
                         capture_output=True, text=True)
    chosen = []
    for line in out.stdout.splitlines():
        result = json.loads(line)
        faces = result.get("faces") or []
        if faces and faces[0]["emotion"] == label and faces[0]["emotions"][label] >= min_probability:
            chosen.append(result["file"])
        if len(chosen) == count:
            break
    return chosen


def make_fer_clip(directory, segments):
    """Writes directory/fer-clip.avi: the faces of each segment in order, one
    second each.  Returns its path."""
    frames = os.path.join(directory, "frames")
    os.makedirs(frames, exist_ok=True)
    index = 0
    for files in segments:
        for path in files:
            shutil.copy(path, os.path.join(frames, "img%03d.jpg" % index))
            index += 1
    clip = os.path.join(directory, "fer-clip.avi")
    subprocess.run(["gst-launch-1.0", "-q",
                    "multifilesrc", "location=" + os.path.join(frames, "img%03d.jpg"), "index=0",
                    "stop-index=%d" % (index - 1), "caps=image/jpeg,framerate=1/1", "!",
                    "jpegdec", "!", "videoconvert", "!", "videoscale", "!", "video/x-raw,width=240,height=240", "!",
                    "videobox", "left=-200", "right=-200", "top=-120", "bottom=-120", "fill=white", "!",
                    "videorate", "!", "video/x-raw,framerate=15/1", "!", "videoconvert", "!",
                    "jpegenc", "!", "avimux", "!", "filesink", "location=" + clip], check=True)
    return clip
