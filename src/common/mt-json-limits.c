/* mt-json-limits.c: a linear scan for nesting depth, with no recursion. */
#define G_LOG_DOMAIN "mt-json-limits"

#include "config.h"

#include <gio/gio.h>

#include "mt-json-limits.h"

gboolean
mt_json_check_limits (const char  *data,
                      gsize        length,
                      guint        max_depth,
                      GError     **error)
{
  gboolean in_string = FALSE;
  guint depth = 0;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  for (gsize i = 0; i < length; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;          /* the escaped character cannot end the string */
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;
        case '[':
        case '{':
          if (++depth > max_depth)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "JSON nested deeper than %u levels", max_depth);
              return FALSE;
            }
          break;
        case ']':
        case '}':
          if (depth > 0)
            depth--;
          break;
        default:
          break;
        }
    }
  return TRUE;
}
