#!/usr/bin/env python3
"""The desktop integration files: desktop file, AppStream metainfo, GSettings
schema, translations (complete and compiling), every UI string marked for
translation (the Flatpak manifest: tests/install/test-flatpak-manifest.py).

usage: validate.py SOURCE-DIR BUILD-DIR
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SOURCE, BUILD = sys.argv[1:3]
APP_ID = "io.github.moodtunes.Moodtunes"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from mt_checks import check, exit_status  # noqa: E402

# Properties and attributes that people read: they must be translatable.
READABLE = {"label", "title", "subtitle", "description", "tooltip-text", "placeholder-text", "text",
            "application-name", "comments"}




def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def have(tool):
    if shutil.which(tool):
        return True
    print("skip - %s is not installed" % tool)
    return False


def main():
    desktop = os.path.join(BUILD, "data", APP_ID + ".desktop")
    metainfo = os.path.join(BUILD, "data", APP_ID + ".metainfo.xml")

    if have("desktop-file-validate"):
        r = run("desktop-file-validate", desktop)
        check(r.returncode == 0 and not r.stdout.strip(), "desktop-file-validate accepts the desktop file",
              r.stdout + r.stderr)
    text = open(desktop, encoding="utf-8").read()
    check("Exec=moodtunes" in text and "Icon=" + APP_ID in text, "the desktop file launches moodtunes with its icon")
    check("Name[de]=" in text or "Comment[de]=" in text, "the desktop file carries the German translation")

    if have("appstreamcli"):
        r = run("appstreamcli", "validate", "--no-net", "--pedantic", metainfo)
        check(r.returncode == 0, "appstreamcli validates the metainfo", r.stdout + r.stderr)
    root = ET.parse(metainfo).getroot()
    check(root.findtext("id") == APP_ID, "the metainfo id is the app id")
    check(root.find("screenshots/screenshot") is not None, "the metainfo lists screenshots")
    check(root.find("releases/release/description") is not None, "the metainfo has release notes")

    schema_dir = os.path.join(SOURCE, "data")
    r = run("glib-compile-schemas", "--strict", "--dry-run", schema_dir)
    check(r.returncode == 0, "glib-compile-schemas --strict accepts the schema", r.stderr)

    for icon in ("data/icons/hicolor/scalable/apps/%s.svg" % APP_ID,
                 "data/icons/hicolor/symbolic/apps/%s-symbolic.svg" % APP_ID):
        path = os.path.join(SOURCE, icon)
        ok = os.path.exists(path)
        if ok:
            ok = ET.parse(path).getroot().tag.endswith("svg")
        check(ok, "icon %s is an SVG" % os.path.basename(icon))

    # Translations.
    linguas = [l.strip() for l in open(os.path.join(SOURCE, "po", "LINGUAS")) if l.strip() and not l.startswith("#")]
    check(len(linguas) >= 1, "at least one translation is listed (%s)" % linguas)
    potfiles = [l.strip() for l in open(os.path.join(SOURCE, "po", "POTFILES"))
                if l.strip() and not l.startswith("#")]
    for name in potfiles:
        check(os.path.exists(os.path.join(SOURCE, name)), "POTFILES entry %s exists" % name)

    # Every source with marked strings is in POTFILES.
    marked = re.compile(r'\b(_|N_|C_|NC_|ngettext)\s*\(\s*"')
    for path in sorted(glob.glob(os.path.join(SOURCE, "src", "**", "*.c"), recursive=True)):
        rel = os.path.relpath(path, SOURCE)
        if marked.search(open(path, encoding="utf-8").read()):
            check(rel in potfiles, "%s (with marked strings) is in POTFILES" % rel)
    ui_files = sorted(glob.glob(os.path.join(SOURCE, "ui", "**", "*.ui"), recursive=True))
    for path in ui_files:
        rel = os.path.relpath(path, SOURCE)
        check(rel in potfiles, "%s is in POTFILES" % rel)

    # Every readable string in the templates is marked translatable.
    unmarked = []
    ui_strings = set()
    for path in ui_files:
        for element in ET.parse(path).iter():
            name = element.get("name")
            if element.tag in ("property", "attribute") and name in READABLE or element.tag == "item" and element.text:
                value = (element.text or "").strip()
                if not value:
                    continue
                if element.get("translatable") != "yes":
                    unmarked.append("%s: %s=%r" % (os.path.basename(path), name or element.tag, value))
                else:
                    ui_strings.add(value)
    check(not unmarked, "every readable UI string is marked translatable", "\n".join(unmarked))

    if have("xgettext"):
        with tempfile.TemporaryDirectory() as tmp:
            pot = os.path.join(tmp, "moodtunes.pot")
            r = subprocess.run(["xgettext", "--from-code=UTF-8", "--add-comments=Translators",
                                "--no-wrap", "--keyword=_", "--keyword=N_", "--keyword=C_:1c,2", "--keyword=NC_:1c,2",
                                "--keyword=g_dngettext:2,3", "--keyword=ngettext:1,2",
                                "--output=" + pot] + potfiles, cwd=SOURCE, capture_output=True, text=True)
            check(r.returncode == 0, "xgettext reads every file of POTFILES", r.stderr)
            extracted = open(pot, encoding="utf-8").read() if os.path.exists(pot) else ""
            missing = [s for s in ui_strings if '"%s"' % s.replace('"', '\\"') not in extracted
                       and s.split("\n")[0] not in extracted]
            check(len(ui_strings) > 50 and not missing, "xgettext finds the %d template strings" % len(ui_strings),
                  "\n".join(missing[:20]))
            for lang in linguas:
                po = os.path.join(SOURCE, "po", lang + ".po")
                r = run("msgfmt", "--check", "--statistics", "-o", os.path.join(tmp, lang + ".mo"), po)
                check(r.returncode == 0, "po/%s.po compiles (msgfmt --check)" % lang, r.stderr)
                # Complete against what the sources hold now.
                r = run("msgcmp", po, pot)
                check(r.returncode == 0, "po/%s.po translates every current string (msgcmp)" % lang, r.stderr)
                r = run("msgattrib", "--untranslated", po)
                r2 = run("msgattrib", "--only-fuzzy", po)
                check(not r.stdout.strip() and not r2.stdout.strip(),
                      "po/%s.po has no untranslated or fuzzy string" % lang, (r.stdout + r2.stdout)[:2000])
            # The compiled catalogue answers in German.
            if "de" in linguas and shutil.which("gettext"):
                domain_dir = os.path.join(tmp, "locale", "de", "LC_MESSAGES")
                os.makedirs(domain_dir)
                run("msgfmt", "-o", os.path.join(domain_dir, "moodtunes.mo"), os.path.join(SOURCE, "po", "de.po"))
                env = dict(os.environ, LANGUAGE="de", LC_ALL="C.UTF-8", TEXTDOMAINDIR=os.path.join(tmp, "locale"))
                r = subprocess.run(["gettext", "-d", "moodtunes", "Your Music Library Is Empty"], env=env,
                                   capture_output=True, text=True)
                check(r.stdout == "Ihre Musiksammlung ist leer", "the German catalogue translates (%r)" % r.stdout)

    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
