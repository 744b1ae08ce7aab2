/* mt-json-limits.h: bounds checked on untrusted JSON before a parser sees it.
 *
 * json-glib 1.6 parses recursively with no depth limit, so a message of a
 * million "[" overflows the stack of whatever thread parses it.  Every piece
 * of JSON that comes from outside (WebSocket messages, REST bodies, the tag
 * reader's replies) passes mt_json_check_limits() first. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Deeper than any message Moodtunes reads (they nest two or three levels). */
#define MT_JSON_MAX_DEPTH 32

/* Checks that @data (@length bytes) nests arrays and objects at most
 * @max_depth deep, counting only brackets outside strings.  It does not
 * validate the JSON: the parser does that afterwards, safely.  Errors are
 * G_IO_ERROR_INVALID_DATA and say how deep. */
gboolean mt_json_check_limits (const char  *data,
                               gsize        length,
                               guint        max_depth,
                               GError     **error);

G_END_DECLS
