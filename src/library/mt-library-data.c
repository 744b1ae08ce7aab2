#define G_LOG_DOMAIN "mt-library-data"

#include "config.h"

#include <gio/gio.h>

#include "mt-library-config.h"
#include "mt-library-data.h"

char *
mt_library_find_data_file (const char  *name,
                           GError     **error)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) tried = g_string_new (NULL);
  const char *env;

  g_return_val_if_fail (name != NULL, NULL);

  if ((env = g_getenv ("MT_LIBRARY_DATA_DIR")) && env[0])
    g_ptr_array_add (dirs, g_strdup (env));
  if ((env = g_getenv ("MT_SOURCE_DIR")) && env[0])
    g_ptr_array_add (dirs, g_build_filename (env, "data", NULL));
  g_ptr_array_add (dirs, g_strdup (MT_LIBRARY_PKGDATADIR));
  g_ptr_array_add (dirs, g_strdup (MT_LIBRARY_SOURCE_DATADIR));

  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *path = g_build_filename (g_ptr_array_index (dirs, i), name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
      g_string_append_printf (tried, "%s%s", tried->len ? ", " : "", (char *) g_ptr_array_index (dirs, i));
    }

  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
               "Data file “%s” not found (looked in %s; set MT_LIBRARY_DATA_DIR to its folder)",
               name, tried->str);
  return NULL;
}

JsonObject *
mt_library_load_data_object (JsonParser  *parser,
                             const char  *path,
                             const char  *what,
                             GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!json_parser_load_from_file (parser, path, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s “%s” could not be read: %s", what, path, local_error->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s “%s”: the top level must be an object", what, path);
      return NULL;
    }
  return json_node_get_object (json_parser_get_root (parser));
}
