#!/usr/bin/env python3
"""The Flatpak manifest against what meson installs: it builds the same
meson project (no files added or removed behind meson's back), Darknet from
pinned source at the prefix the app is configured with, runs an installed
program, and every permission it grants is one a feature needs and
flatpak/README.md explains.  The Flatpak itself cannot be built here (the
runtime is downloaded).

usage: test-flatpak-manifest.py SOURCE-DIR BUILD-DIR
"""
import fnmatch
import json
import os
import re
import subprocess
import sys

SOURCE, BUILD = sys.argv[1:3]
APP_ID = "io.github.moodtunes.Moodtunes"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from mt_checks import check, exit_status  # noqa: E402

# Built before the app, in this order: what the audio analysis links and the
# GNOME runtime lacks.
AUDIO_LIBRARIES = ["fftw3f", "libebur128", "aubio"]

# What each permission is for; a permission outside this list fails.
NEEDED = {
    "--share=ipc": "the GTK window (X11 shared memory)",
    "--socket=wayland": "the GTK window",
    "--socket=fallback-x11": "the GTK window without Wayland",
    "--device=dri": "GPU drawing of the window",
    "--socket=pulseaudio": "playback",
    "--filesystem=xdg-music:ro": "the music folder, read only",
    "--own-name=org.mpris.MediaPlayer2.moodtunes": "MPRIS media controls",
    "--share=network": "the local server: the companion page's browser must reach it",
}




def installed_files():
    """meson's own install list for this build: {destination: source}."""
    r = subprocess.run(["meson", "introspect", "--installed", BUILD], capture_output=True, text=True)
    check(r.returncode == 0, "meson lists what it installs", r.stderr)
    prefix = json.loads(subprocess.run(["meson", "introspect", "--buildoptions", BUILD], capture_output=True,
                                       text=True).stdout or "[]")
    prefix = next((o["value"] for o in prefix if o["name"] == "prefix"), "/usr/local")
    return {os.path.relpath(dest, prefix): src for src, dest in json.loads(r.stdout or "{}").items()}


def main():
    manifest = json.load(open(os.path.join(SOURCE, "flatpak", APP_ID + ".json")))
    readme = open(os.path.join(SOURCE, "flatpak", "README.md"), encoding="utf-8").read()
    installed = installed_files()

    check(manifest.get("id") == APP_ID, "the manifest's id is the app id")
    check(manifest.get("runtime") == "org.gnome.Platform" and manifest.get("sdk") == "org.gnome.Sdk",
          "the manifest uses the GNOME runtime and SDK")
    command = manifest.get("command")
    check(os.path.join("bin", command or "") in installed, "the manifest's command %s is a program meson installs"
          % command)
    for needed in ("share/applications/%s.desktop" % APP_ID, "share/metainfo/%s.metainfo.xml" % APP_ID,
                   "share/glib-2.0/schemas/%s.gschema.xml" % APP_ID,
                   "share/icons/hicolor/scalable/apps/%s.svg" % APP_ID,
                   "share/moodtunes/models/moodtunes-models.ini", "share/moodtunes/demo/astronaut.jpg",
                   "libexec/moodtunes-tag-reader", "libexec/moodtunes-audio-analyzer"):
        check(needed in installed, "meson installs %s, which the Flatpak ships" % needed)

    # Permissions: each one needed, explained, and nothing broad.
    args = manifest.get("finish-args", [])
    for arg in args:
        check(arg in NEEDED, "permission %s is one a feature needs" % arg)
        check("`%s`" % arg in readme, "flatpak/README.md says why %s is there" % arg)
    for arg in NEEDED:
        check(arg in args, "the manifest grants %s (%s)" % (arg, NEEDED[arg]))
    mpris = "".join(open(os.path.join(SOURCE, "src", "app", name), encoding="utf-8").read()
                    for name in ("mt-mpris.c", "mt-mpris.h"))
    check("org.mpris.MediaPlayer2.moodtunes" in mpris, "the MPRIS name owned is the one the app takes")

    modules = {m["name"]: m for m in manifest["modules"] if isinstance(m, dict)}
    check(list(modules) == ["darknet"] + AUDIO_LIBRARIES + ["moodtunes"],
          "the modules: Darknet, the audio libraries, then Moodtunes (%s)" % list(modules))
    # The libraries the GNOME runtime lacks, each from a pinned release
    # archive (aubio needs FFTW in single precision, built before it).
    for name in AUDIO_LIBRARIES:
        sources = modules.get(name, {}).get("sources", [])
        check(sources and all(s.get("type") == "archive" and s.get("url", "").startswith("https://")
                              and re.fullmatch(r"[0-9a-f]{64}", s.get("sha256", "")) for s in sources),
              "%s is built from a release archive pinned by its sha256" % name, json.dumps(sources))
    check("--enable-single" in modules.get("fftw3f", {}).get("config-opts", []),
          "FFTW is built in single precision (the libfftw3f aubio links)")
    check("--enable-fftw3f" in " ".join(modules.get("aubio", {}).get("build-commands", [])),
          "aubio is built on that FFTW")
    darknet = modules.get("darknet", {})
    commands = " ".join(darknet.get("build-commands", []))
    check(all(s.get("commit") or s.get("sha256") for s in darknet.get("sources", [])) and darknet.get("sources"),
          "Darknet is built from pinned source")
    check("OPENCV=0" in commands, "Darknet is built without OpenCV")
    app = modules.get("moodtunes", {})
    check(app.get("buildsystem") == "meson", "Moodtunes is built with meson")
    check(not any(k in app for k in ("build-commands", "post-install", "make-install-args")),
          "the Flatpak installs exactly what meson installs (no extra commands)")
    check(app.get("sources") == [{"type": "dir", "path": ".."}], "Moodtunes is built from this tree")
    opts = app.get("config-opts", [])
    prefix = next((o.split("=", 1)[1] for o in opts if o.startswith("-Ddarknet_prefix=")), None)
    check(prefix is not None and "%s/libdarknet.so" % prefix in commands and "%s/include/darknet.h" % prefix in commands,
          "the app is configured with the prefix Darknet is installed to (%s)" % prefix)
    meson_options = open(os.path.join(SOURCE, "meson_options.txt"), encoding="utf-8").read()
    for opt in opts:
        name = re.match(r"-D([a-z_]+)=", opt)
        check(name is not None and (name.group(1) in ("buildtype", "prefix") or
                                    "'%s'" % name.group(1) in meson_options),
              "config option %s is one meson knows" % opt)

    # Cleanup must not remove anything meson installs.
    removed = [f for f in installed for pattern in manifest.get("cleanup", [])
               if fnmatch.fnmatch("/" + f, pattern if pattern.startswith("/") else "*/" + pattern)
               or ("/" + f).startswith(pattern.rstrip("*") + "/")]
    check(not removed, "the manifest's cleanup keeps every file meson installs", str(removed))

    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
