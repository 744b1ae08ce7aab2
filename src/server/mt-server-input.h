/* mt-server-input.h: what clients send the server in JSON (the body of
 * POST /api/v1/feedback, a stream's text message), checked without any I/O
 * so the checks can be unit tested and fuzzed on their own. */
#pragma once

#include <glib.h>

#include "mt-library.h"
#include "mt-mood.h"
#include "mt-mood-strategies.h"

G_BEGIN_DECLS

/* A feedback body: {"song": id, "feedback": "liked", "mood": "happy"|null}. */
typedef struct {
  gint64     song_id;    /* > 0 */
  MtFeedback feedback;
  MtMood     mood;       /* MT_MOOD_NONE when absent or null */
} MtServerFeedbackInput;

/* A stream's config message: {"type": "config", "strategy": …, "limit": …}. */
typedef struct {
  gboolean   has_strategy;
  MtStrategy strategy;
  gboolean   has_limit;
  guint      limit;      /* 1 to 100 */
} MtServerControlInput;

/* Both take untrusted bytes (any length, any content), bound their nesting
 * depth before json-glib sees them and check every member's type; the
 * G_IO_ERROR_INVALID_DATA message is what the client is told. */
gboolean _mt_server_parse_feedback (const char            *data,
                                    gsize                  length,
                                    MtServerFeedbackInput *out,
                                    GError               **error);
gboolean _mt_server_parse_control  (const char            *data,
                                    gsize                  length,
                                    MtServerControlInput  *out,
                                    GError               **error);

G_END_DECLS
