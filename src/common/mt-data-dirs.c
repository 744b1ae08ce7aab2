/* mt-data-dirs.c: the data folders, looked up in one place. */
#define G_LOG_DOMAIN "mt-data-dirs"

#include "config.h"

#include "mt-data-dirs.h"

const char *
mt_data_dirs_get_installed (void)
{
  return MT_PKGDATADIR;
}

char *
mt_data_dirs_find_file (const char  *name,
                        GError     **error)
{
  const char *dirs[2] = { g_getenv ("MT_DATA_DIR"), MT_PKGDATADIR };
  g_autoptr(GString) tried = g_string_new (NULL);

  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = NULL;

      if (dirs[i] == NULL || dirs[i][0] == '\0')
        continue;
      path = g_build_filename (dirs[i], name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
      g_string_append_printf (tried, "%s%s", tried->len ? ", " : "", dirs[i]);
    }

  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
               "Data file “%s” not found (looked in %s; set MT_DATA_DIR to the folder that holds it)",
               name, tried->str);
  return NULL;
}
