/* What the fuzz targets found, as plain unit tests (the inputs themselves
 * are in tests/fuzz/corpus/, replayed by replay-NAME in every build).  The
 * other findings have their tests beside the code's own: the tag reader's in
 * tests/library/test-import.c, the server's in test-server-input.c. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "mt-model-check.h"

/* A cfg line quoted in an error was cut at 40 bytes, through a multi-byte
 * character (here a byte-order mark): the message was not UTF-8, and the app
 * shows these messages in its window. */
static void
test_model_check_quote_is_utf8 (void)
{
  const char *cfgs[] = {
    "oc1.7.15, model/face_exprecivn_nomocon\xef\xbb\xbfvr",
    "[net]\nwidth=8\nthis line has no equals sign, and then \xc3\xa9\xc3\xa9\xc3\xa9\n",
    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\n",
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mt-findings-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "model.cfg", NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cfgs); i++)
    {
      g_assert_true (g_file_set_contents (path, cfgs[i], -1, &error));
      g_assert_false (mt_model_check_cfg (path, NULL, &error));
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_clear_error (&error);
    }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fuzz-findings/model-check/quote-is-utf8", test_model_check_quote_is_utf8);
  return g_test_run ();
}
