/* main.c: the moodtunes desktop app. */
#define G_LOG_DOMAIN "moodtunes"

#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>
#include <gst/gst.h>

#include "mt-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(MtApplication) app = NULL;

  const char *localedir = g_getenv ("MT_LOCALEDIR");

  setlocale (LC_ALL, "");
  /* MT_LOCALEDIR: the catalogues of a build tree (<build>/po), for tests. */
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : MT_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  gst_init (&argc, &argv);
  g_set_application_name (_("Moodtunes"));

  app = mt_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
