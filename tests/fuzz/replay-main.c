/* replay-main.c: runs a fuzz target once on each file named on the command
 * line (folders: each file in them), without libFuzzer.  Every build runs
 * each corpus this way, so a crash once found stays fixed under any
 * compiler and sanitizer. */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "mt-fuzz.h"

static guint
run_path (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length;
  guint n = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        g_error ("%s", error->message);
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_build_filename (path, name, NULL));
      g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
      for (guint i = 0; i < names->len; i++)
        n += run_path (g_ptr_array_index (names, i));
      return n;
    }
  if (!g_file_get_contents (path, &data, &length, &error))
    g_error ("%s", error->message);
  g_print ("%s (%" G_GSIZE_FORMAT " bytes)\n", path, length);
  /* A copy of just the file's bytes, so ASan sees any read past them. */
  {
    guint8 *copy = g_malloc (MAX (length, 1));
    memcpy (copy, data, length);
    LLVMFuzzerTestOneInput (copy, length);
    g_free (copy);
  }
  return 1;
}

int
main (int    argc,
      char **argv)
{
  guint n = 0;

  if (argc < 2)
    {
      g_printerr ("Usage: %s FILE-OR-FOLDER...\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    n += run_path (argv[i]);
  g_print ("%u inputs, no crash\n", n);
  return n > 0 ? 0 : 1;
}
