#!/usr/bin/env python3
"""What a user gets: Moodtunes configured for a temporary prefix, built,
`meson install`ed, then run from outside the source tree with a clean
environment (only XDG_DATA_DIRS names the prefix; no GSETTINGS_SCHEMA_DIR, no
MT_* variable): the analyzer on a photo, the audio analyzer helper on a
clip, the server's status and page, every expression model the installed
manifest lists, and the app under Xvfb with the installed demo camera until
the mood comes from the face.  Any GLib or
GStreamer CRITICAL or WARNING from our programs fails the test.

usage: test-install.py SOURCE-DIR ARTIFACT-DIR
"""
import configparser
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SOURCE, ARTIFACTS = sys.argv[1:3]
SHARED = os.environ.get("MT_SHARED_DIR", os.path.join(SOURCE, "..", "shared"))
PHOTO = os.path.join(SHARED, "media", "astronaut.png")
APP_ID = "io.github.moodtunes.Moodtunes"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from mt_checks import check, exit_status  # noqa: E402




def noisy_lines(text):
    """GLib and GStreamer criticals and warnings (of any domain)."""
    return [line for line in text.splitlines()
            if "-CRITICAL **" in line or "-WARNING **" in line or "CRITICAL" in line and "GStreamer" in line]


def build_and_install(work):
    build, prefix = os.path.join(work, "build"), os.path.join(work, "prefix")
    # A plain build, as a user or a distribution makes it (no sanitizers),
    # with nothing of the test environment leaking into it.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MT_", "ASAN_", "UBSAN_", "MESON_"))}
    steps = [["meson", "setup", build, SOURCE, "--prefix=" + prefix, "-Dbuildtype=debugoptimized"],
             ["meson", "compile", "-C", build],
             ["meson", "install", "-C", build]]
    for step in steps:
        r = subprocess.run(step, env=env, capture_output=True, text=True)
        if not check(r.returncode == 0, " ".join(step[:2]) + " succeeds", r.stdout + r.stderr):
            return None
        if step[1] == "install":
            install_log = r.stdout + r.stderr
    print(install_log[-1500:])
    return prefix


class CleanSession:
    """A new user's desktop: own home and XDG folders, a private session bus,
    XDG_DATA_DIRS with the prefix first, and nothing else of ours."""

    def __init__(self, work, prefix):
        self.dir = os.path.join(work, "user")
        os.makedirs(self.dir)
        self.env = {
            "PATH": os.path.join(prefix, "bin") + ":/usr/bin:/bin",
            "HOME": self.dir,
            "LANG": "C.UTF-8",
            "XDG_DATA_DIRS": os.path.join(prefix, "share") + ":/usr/local/share:/usr/share",
            "XDG_RUNTIME_DIR": os.path.join(self.dir, "runtime"),
            "GSETTINGS_BACKEND": "memory",
            "GTK_A11Y": "none",
            "GSK_RENDERER": "cairo",
        }
        for name in ("DISPLAY", "XAUTHORITY"):
            if name in os.environ:
                self.env[name] = os.environ[name]
        os.makedirs(self.env["XDG_RUNTIME_DIR"], mode=0o700)
        self.bus_pid = None
        if shutil.which("dbus-daemon"):
            out = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
                                 capture_output=True, text=True, env=self.env, check=True).stdout.split()
            self.env["DBUS_SESSION_BUS_ADDRESS"], self.bus_pid = out[0], int(out[1])

    def run(self, *cmd, timeout=120):
        return subprocess.run(cmd, env=self.env, cwd=self.dir, capture_output=True, text=True, timeout=timeout)

    def close(self):
        if self.bus_pid:
            os.kill(self.bus_pid, signal.SIGTERM)


def check_files(prefix):
    share = os.path.join(prefix, "share")
    models = os.path.join(share, "moodtunes", "models")
    manifest = os.path.join(models, "moodtunes-models.ini")
    check(os.path.isfile(os.path.join(share, "glib-2.0", "schemas", "gschemas.compiled")),
          "the settings schemas are compiled on install")
    check(os.path.isfile(os.path.join(share, "applications", APP_ID + ".desktop")), "the desktop file is installed")
    check(os.path.isfile(os.path.join(share, "metainfo", APP_ID + ".metainfo.xml")), "the metainfo is installed")
    check(os.path.isfile(os.path.join(share, "moodtunes", "demo", "astronaut.jpg")), "the demo picture is installed")
    check(os.path.isfile(os.path.join(prefix, "libexec", "moodtunes-tag-reader")), "the tag reader is installed")
    if not check(os.path.isfile(manifest), "the models manifest is installed"):
        return []
    # The install rule reads the manifest (models/meson.build); this reads it
    # the way the analyzer does and looks for every network it names.
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(manifest)
    needed = set()
    for section in parser.sections():
        if section.startswith("Network "):
            needed.update(section[len("Network "):] + ext for ext in (".cfg", ".weights", ".names"))
        for key in ("Network", "Head", "Networks"):
            for name in parser[section].get(key, "").split(";"):
                if name.strip():
                    needed.update(name.strip() + ext for ext in (".cfg", ".weights", ".names"))
    missing = sorted(f for f in needed if not os.path.isfile(os.path.join(models, f)))
    check(not missing, "every network the manifest names is installed (%d files)" % len(needed), str(missing))
    return [s[len("Model "):] for s in parser.sections() if s.startswith("Model ")]


def check_no_tree_paths(prefix):
    """Nothing compiled into an installed program points into the source
    tree (debug info aside: it names sources by design)."""
    tree = os.path.realpath(SOURCE).encode()
    programs = [os.path.join(prefix, "bin", p) for p in os.listdir(os.path.join(prefix, "bin"))]
    programs += [os.path.join(prefix, "libexec", name) for name in ("moodtunes-tag-reader", "moodtunes-audio-analyzer")]
    with tempfile.TemporaryDirectory() as tmp:
        for program in programs:
            stripped = os.path.join(tmp, os.path.basename(program))
            subprocess.run(["objcopy", "--strip-debug", program, stripped], check=True)
            with open(stripped, "rb") as f:
                data = f.read()
            check(tree not in data, "%s holds no source-tree path" % os.path.basename(program))


def check_audio_analyzer(session, prefix):
    """The installed audio analyzer helper analyses a 5 s clip made here,
    through its JSON-lines protocol, from outside the tree."""
    helper = os.path.join(prefix, "libexec", "moodtunes-audio-analyzer")
    if not check(os.access(helper, os.X_OK), "the audio analyzer helper is installed"):
        return
    clip = os.path.join(session.dir, "clip.ogg")
    r = session.run("gst-launch-1.0", "-q", "audiotestsrc", "wave=pink-noise", "volume=0.2",
                    "samplesperbuffer=4410", "num-buffers=50", "!", "audio/x-raw,rate=44100,channels=1",
                    "!", "audioconvert", "!", "vorbisenc", "!", "oggmux", "!", "filesink", "location=" + clip)
    if not check(r.returncode == 0 and os.path.exists(clip), "a 5 s clip is made with GStreamer", r.stderr):
        return
    request = json.dumps({"id": 1, "uri": "file://" + clip}) + "\n"
    r = subprocess.run([helper], input=request, env=session.env, cwd=session.dir, capture_output=True,
                       text=True, timeout=60)
    try:
        reply = json.loads(r.stdout.splitlines()[0])
    except (ValueError, IndexError):
        reply = {}
    features = reply.get("features") or {}
    check(r.returncode == 0 and reply.get("id") == 1 and reply.get("ok") is True,
          "the installed audio analyzer answers the request", r.stdout[:500] + r.stderr)
    check(len(features) > 20 and all(isinstance(v, (int, float)) for v in features.values())
          and 4500 <= reply.get("analysed_ms", 0) <= 5100 and features.get("loudness_integrated", -70) > -40,
          "it analyses the clip: %d descriptors, %s ms, %s LUFS"
          % (len(features), reply.get("analysed_ms"), features.get("loudness_integrated")))
    check(not noisy_lines(r.stderr), "the audio analyzer prints no criticals or warnings", r.stderr)
    check_library_audio(session, prefix, clip)


def check_library_audio(session, prefix, clip):
    """The installed moodtunes-library imports the clip and reads its mood
    from its sound with the installed model and mapping."""
    share = os.path.join(prefix, "share", "moodtunes")
    for name in ("moodtunes-audio-model.json", "moodtunes-audio-moods.json", "moodtunes-mood-rules.json"):
        check(os.path.isfile(os.path.join(share, name)), "%s is installed" % name)
    music = os.path.join(session.dir, "music")
    os.makedirs(music, exist_ok=True)
    shutil.copy(clip, music)
    db = os.path.join(session.dir, "library.db")
    r = session.run("moodtunes-library", "--db", db, "import", music)
    check(r.returncode == 0, "the installed moodtunes-library imports and analyses a folder (status %d)"
          % r.returncode, r.stdout + r.stderr)
    check(not noisy_lines(r.stderr), "the import prints no criticals or warnings", r.stderr)
    r = session.run("moodtunes-library", "--db", db, "list", "--json")
    try:
        songs = json.loads(r.stdout)
        songs = songs if isinstance(songs, list) else songs["songs"]
        song = songs[0]
    except (ValueError, KeyError, IndexError, TypeError):
        song = {}
    check(isinstance(song.get("valence"), float) and isinstance(song.get("arousal"), float)
          and isinstance(song.get("loudness"), float),
          "the song has a valence, arousal and loudness from its sound (%s, %s, %s)"
          % (song.get("valence"), song.get("arousal"), song.get("loudness")), r.stdout[:500])


def check_desktop_file(session, prefix):
    """The menu's launcher starts the installed program."""
    path = os.path.join(prefix, "share", "applications", APP_ID + ".desktop")
    lines = open(path, encoding="utf-8").read().splitlines() if os.path.exists(path) else []
    command = next((l.split("=", 1)[1].split()[0] for l in lines if l.startswith("Exec=")), None)
    found = shutil.which(command or "", path=session.env["PATH"])
    check(found == os.path.join(prefix, "bin", "moodtunes"),
          "the desktop file's Exec (%s) is the installed moodtunes (%s)" % (command, found))


def check_analyze(session, models):
    r = session.run("moodtunes-analyze", PHOTO)
    check(r.returncode == 0, "the installed moodtunes-analyze reads the photo (status %d)" % r.returncode,
          r.stdout + r.stderr)
    check(not noisy_lines(r.stderr), "moodtunes-analyze prints no criticals or warnings", r.stderr)
    try:
        result = json.loads(r.stdout)
        faces = result[0]["faces"] if isinstance(result, list) else result["faces"]
    except (ValueError, KeyError, IndexError, TypeError):
        faces = None
    check(faces is not None and len(faces) == 1 and faces[0]["emotion"] == "happy",
          "one happy face in the photo", r.stdout)
    for model in models:
        r = session.run("moodtunes-analyze", "--model", model, PHOTO)
        check(r.returncode == 0 and '"happy"' in r.stdout, "the installed model %s loads and reads the face" % model,
              r.stdout + r.stderr)


def check_user_models(session, prefix):
    """A person's own model in ~/.local/share/moodtunes/models is offered
    beside the installed ones (and may be the default); a broken manifest
    there is reported and the installed models still run."""
    installed = os.path.join(prefix, "share", "moodtunes", "models")
    user = os.path.join(session.dir, ".local", "share", "moodtunes", "models")
    os.makedirs(user)
    for ext in (".cfg", ".weights", ".names"):
        shutil.copy(os.path.join(installed, "face-expression" + ext), os.path.join(user, "mine" + ext))
    manifest = os.path.join(user, "moodtunes-models.ini")
    with open(manifest, "w") as f:
        f.write("[Expression]\nDefault=mine\n"
                "[Network mine]\nChannels=3\nMean=122.782;117.001;104.298\nScale=0.00392156862745098\n"
                "[Model mine]\nNetworks=mine\nMirror=false\n")
    try:
        r = session.run("moodtunes-analyze", "--help")
        check("moodtunes-ensemble, fitted-head, ensemble, emotion-xception, face-expression, moodtunes-expression, "
              "mine (default)" in r.stdout,
              "--help lists the installed models and one's own, the default one's own", r.stdout)
        r = session.run("moodtunes-analyze", PHOTO)
        check(r.returncode == 0 and '"happy"' in r.stdout and not noisy_lines(r.stderr),
              "one's own model reads the photo", r.stdout + r.stderr)
        with open(manifest, "w") as f:
            f.write("[Model mine]\nNetworks=mine\nColour=red\n")
        r = session.run("moodtunes-analyze", PHOTO)
        check(r.returncode == 0 and '"happy"' in r.stdout, "a broken manifest of one's own leaves the installed "
              "models running", r.stdout + r.stderr)
        check("Your own expression models are left out" in r.stderr and "unknown key" in r.stderr,
              "and it is reported", r.stderr)
    finally:
        shutil.rmtree(user)


def check_server(session):
    proc = subprocess.Popen(["moodtunes-server", "--port", "0", "--no-settings"], env=session.env, cwd=session.dir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "listening on" in line:
            url = line.split("listening on", 1)[1].strip()
            break
    if check(url is not None, "the installed moodtunes-server starts (%s)" % url):
        host_port = url.split("://", 1)[1].split("/", 1)[0]
        path_query = "/" + url.split("://", 1)[1].split("/", 1)[1] if "/" in url.split("://", 1)[1] else "/"
        # The printed address carries the token, needed on loopback too.
        token = path_query.split("token=", 1)[1] if "token=" in path_query else None
        check(token is not None, "the printed address carries the access token (%s)" % url)
        conn = http.client.HTTPConnection(host_port, timeout=10)
        conn.request("GET", "/api/v1/status", headers={"Authorization": "Bearer %s" % token})
        resp = conn.getresponse()
        status = json.loads(resp.read() or b"{}")
        check(resp.status == 200, "GET /api/v1/status answers 200 (%d)" % resp.status)
        check(status.get("models", {}).get("available"), "the status lists the installed models (%s)"
              % status.get("models"))
        # The printed address keeps the token in a cookie, then the page loads with it.
        conn.request("GET", path_query)
        resp = conn.getresponse()
        resp.read()
        cookie = (resp.getheader("Set-Cookie") or "").split(";", 1)[0]
        check(resp.status == 303 and cookie == "moodtunes_token=%s" % token,
              "the printed address sets the token cookie (%d %s)" % (resp.status, cookie))
        conn.request("GET", "/", headers={"Cookie": cookie})
        resp = conn.getresponse()
        page = resp.read()
        check(resp.status == 200 and b"<html" in page.lower(), "the companion page is served (%d)" % resp.status)
        conn.close()
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    check(proc.returncode == 0, "the server stops cleanly on SIGTERM (%s)" % proc.returncode, err)
    check(not noisy_lines(err), "the server prints no criticals or warnings", err)


def check_app(session):
    if "DISPLAY" not in session.env:
        print("skip - no X display for the app (the test runner starts Xvfb)")
        return
    shot = os.path.join(ARTIFACTS, "installed-app.png")
    if os.path.exists(shot):
        os.unlink(shot)
    proc = subprocess.Popen(["moodtunes", "--test-report", "--camera=demo", "--audio-sink=fakesink",
                             "--quit-after=25", "--screenshot=" + shot],
                            env=session.env, cwd=session.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    events, err = [], []
    threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True).start()
    for line in proc.stdout:
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    try:
        status = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        status = proc.wait()
    time.sleep(0.2)
    stderr = "".join(err)
    check(status == 0, "the installed app runs and quits with status 0 (%s)" % status, stderr)
    check(not noisy_lines(stderr), "the app prints no criticals or warnings", stderr)
    errors = [e for e in events if e.get("event") == "camera" and e.get("state") == "error"]
    check(not errors, "the demo camera starts", json.dumps(errors))
    analyses = [e for e in events if e.get("event") == "analysis"]
    with_face = [a for a in analyses if a.get("faces")]
    check(len(with_face) >= 5, "the demo camera's face is found (%d of %d frames)" % (len(with_face), len(analyses)))
    moods = [e["mood"] for e in events if e.get("event") == "mood" and e.get("source") == "face"
             and e.get("mood") != "none"]
    check("happy" in moods, "the mood comes from the face: happy (%s)" % moods)
    check(os.path.exists(shot), "the installed app's window is captured (%s)" % shot)


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    work = tempfile.mkdtemp(prefix="mt-install-test-")
    session = None
    try:
        prefix = build_and_install(work)
        if prefix is None:
            return 1
        models = check_files(prefix)
        check_no_tree_paths(prefix)
        session = CleanSession(work, prefix)
        check_desktop_file(session, prefix)
        check_audio_analyzer(session, prefix)
        check_analyze(session, models)
        check_user_models(session, prefix)
        check_server(session)
        check_app(session)
    finally:
        if session:
            session.close()
        shutil.rmtree(work, ignore_errors=True)
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
