/* mt-helper-server.h: the helper side of the JSON-lines protocol that the
 * helper processes (tag reader, audio analyzer) speak with MtHelperProcess.
 *
 * A helper parses untrusted files in its own process; this runs its loop:
 * one request per line on stdin, {"id": N, "uri": "file:///…"}, and one
 * reply per line, {"id": N, "ok": true, …} or {"id": N, "ok": false,
 * "error": "why"}, echoing the request's id.  Replies go out on a copy of
 * the original stdout; fd 1 itself is pointed at stderr, so whatever a
 * plugin prints never reaches the client as a reply.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Fills @builder, an object already holding "id", with "ok" and the rest of
 * the reply to the file at @uri. */
typedef void (*MtHelperHandler) (const char  *uri,
                                 JsonBuilder *builder,
                                 gpointer     user_data);

/* Runs the request loop until stdin closes; returns the exit status.  For
 * the tests of the clients' recovery, the environment variable
 * @fault_env_prefix "_CRASH_ON" (resp. "_HANG_ON") makes the helper abort
 * (resp. hang) on a uri containing its value.  Call after gst_init(). */
int   mt_helper_serve            (const char      *program_name,
                                  const char      *fault_env_prefix,
                                  MtHelperHandler  handler,
                                  gpointer         user_data);

/* Adds "ok": false and "error": @message (made valid and bounded). */
void  mt_helper_reply_error      (JsonBuilder     *builder,
                                  const char      *message);

/* @text cut to at most @max_bytes bytes of valid UTF-8 (at a character). */
char *mt_helper_bounded_utf8     (const char      *text,
                                  gsize            max_bytes);

G_END_DECLS
