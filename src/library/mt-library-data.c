#define G_LOG_DOMAIN "mt-library-data"

#include "config.h"

#include <gio/gio.h>

#include "mt-library-data.h"

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
