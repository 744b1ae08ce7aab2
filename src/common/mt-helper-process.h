/* mt-helper-process.h: a client for a helper process that answers JSON
 * requests, one line each way.
 *
 * Code that parses untrusted files (demuxers, decoders) runs in a helper
 * process, so that a crash or hang on a hostile file costs only the helper.
 * This owns what every such helper needs from its client: start it on the
 * first request (and again after it crashed or hung), number the requests
 * so that a stray line on its stdout is skipped instead of taken for the
 * reply, wait for the reply with a deadline, bound its length, and say how
 * the helper ended when it did.  What a reply means is the caller's: a
 * callback parses it.  One MtHelperProcess serves one thread at a time.
 *
 * Protocol: each request is one JSON object on a line with an "id" added
 * here; the helper answers each with one line {"id": N, "ok": true, …} or
 * {"id": N, "ok": false, "error": "why"}.
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MT_HELPER_PROCESS_ERROR (mt_helper_process_error_quark ())

typedef enum {
  MT_HELPER_PROCESS_ERROR_HELPER,       /* the helper cannot be started or does not take requests */
  MT_HELPER_PROCESS_ERROR_CRASHED,      /* the helper died before it answered */
  MT_HELPER_PROCESS_ERROR_TIMEOUT,      /* the helper did not answer in time (it is killed) */
  MT_HELPER_PROCESS_ERROR_BAD_REPLY,    /* the reply is too long or malformed (the helper is restarted) */
  MT_HELPER_PROCESS_ERROR_NOT_A_REPLY,  /* a line that is not the reply to this request */
  MT_HELPER_PROCESS_ERROR_FAILED,       /* the helper answered "ok": false; the message is its "error" */
} MtHelperProcessError;

/* Lines that are not the reply skipped while waiting for one before the
 * helper is deemed broken: a chatty plugin prints a line or two, not a
 * flood. */
#define MT_HELPER_PROCESS_MAX_STRAY_LINES 64

/* Parses one line the helper sent (@length bytes, no newline) as the reply
 * to request @expected_id.  Returns TRUE when it is that reply and was
 * taken; else FALSE with @error in MT_HELPER_PROCESS_ERROR: NOT_A_REPLY
 * (the line is skipped), FAILED (the helper could not do it: the request
 * fails with this error, the helper is kept) or anything else (a bad reply:
 * the helper is restarted). */
typedef gboolean (*MtHelperReplyFunc) (const char  *line,
                                       gsize        length,
                                       guint64      expected_id,
                                       gpointer     data,
                                       GError     **error);

#define MT_TYPE_HELPER_PROCESS (mt_helper_process_get_type ())
G_DECLARE_FINAL_TYPE (MtHelperProcess, mt_helper_process, MT, HELPER_PROCESS, GObject)

GQuark           mt_helper_process_error_quark      (void);

/* A helper executable: $@env_var when set, else @build_subpath (such as
 * "src/library/moodtunes-tag-reader") under $MT_BUILD_DIR when that is an
 * executable (tests), else @installed_path, also when it is missing
 * (starting it then says which file it wanted). */
char            *mt_helper_process_find             (const char         *env_var,
                                                     const char         *build_subpath,
                                                     const char         *installed_path);

/* A client for the helper run as @argv (argv[0] its path; copied).  It is
 * started on the first request.  A reply line longer than @max_reply bytes
 * is handed to the reply callback cut to @max_reply + 1 bytes, as soon as
 * that many have come, and the rest is never read.  Ignores SIGPIPE in the
 * whole process: writing to a helper that just died must be an error, not
 * the end of the program. */
MtHelperProcess *mt_helper_process_new              (const char *const  *argv,
                                                     gsize               max_reply);

/* How errors name the helper and what a request is about, for messages
 * such as "the tag reader crashed on this file (killed by signal 11)";
 * @env_var, when not NULL, is suggested when the helper cannot be started
 * ("set MT_TAG_READER to its path").  Defaults: "the helper", "this
 * request", none. */
void             mt_helper_process_set_name         (MtHelperProcess    *self,
                                                     const char         *name,
                                                     const char         *subject,
                                                     const char         *env_var);

/* Runs the helper at nice +10 (from the next start on), so that work that
 * can wait does not slow the desktop. */
void             mt_helper_process_set_low_priority (MtHelperProcess    *self,
                                                     gboolean            low_priority);

/* Sends @request (a JSON object without "id": the request's own is added
 * to a copy) and hands each line that comes back to @parse until it takes
 * one as the reply, for at most @timeout_s seconds.  A helper that died
 * before it took the request is restarted once.  Errors in
 * MT_HELPER_PROCESS_ERROR: HELPER, CRASHED, TIMEOUT, BAD_REPLY (also after
 * more than MT_HELPER_PROCESS_MAX_STRAY_LINES lines that were not the
 * reply) and FAILED as @parse set it.  After CRASHED, TIMEOUT and
 * BAD_REPLY the next request starts a fresh helper. */
gboolean         mt_helper_process_request          (MtHelperProcess    *self,
                                                     JsonObject         *request,
                                                     guint               timeout_s,
                                                     MtHelperReplyFunc   parse,
                                                     gpointer            parse_data,
                                                     GError            **error);

/* How many times the helper crashed, hung or sent a bad reply (and was
 * replaced, or will be on the next request). */
guint            mt_helper_process_get_n_restarts   (MtHelperProcess    *self);

/* Kills the helper now, if it runs; the next request starts another. */
void             mt_helper_process_stop             (MtHelperProcess    *self);

/* The common part of parsing a reply line (@length bytes, no newline) to
 * request @expected_id: at most @max_reply bytes, UTF-8 without NUL bytes,
 * nesting within MT_JSON_MAX_DEPTH, a JSON object whose "id" is
 * @expected_id and whose "ok" is true or false.  On "ok": true returns the
 * object (*@out_object, a new reference); else FALSE with NOT_A_REPLY (not
 * JSON, not an object, no id or another one), BAD_REPLY (too long, no
 * "ok", an "error" that is not a string) or FAILED (the helper's "error",
 * "no reason given" without one).
 * Pure: no I/O, safe on any bytes; every message is UTF-8. */
gboolean         mt_helper_process_parse_envelope   (const char         *line,
                                                     gsize               length,
                                                     guint64             expected_id,
                                                     gsize               max_reply,
                                                     JsonObject        **out_object,
                                                     GError            **error);

/* A string member of a reply: absent, null or "" is NULL; another type or
 * text that is not UTF-8 (json-glib decodes a lone UTF-16 surrogate to such
 * bytes) is BAD_REPLY. */
gboolean         mt_helper_process_reply_get_string (JsonObject         *object,
                                                     const char         *member,
                                                     char              **out_value,
                                                     GError            **error);

/* An integer member of a reply: absent or null is 0; another type
 * (a float too) is BAD_REPLY. */
gboolean         mt_helper_process_reply_get_int    (JsonObject         *object,
                                                     const char         *member,
                                                     gint64             *out_value,
                                                     GError            **error);

G_END_DECLS
