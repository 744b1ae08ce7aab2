/* mt-tag-reader.h: reads a file's tags through the moodtunes-tag-reader helper.
 *
 * The helper process parses the file with GStreamer's discoverer; when it
 * crashes or hangs on a hostile file, this reports that file as unreadable
 * and starts a fresh helper for the next one.  One MtTagReader serves one
 * thread at a time.
 *
 * Each request carries an id the helper echoes in its reply, so a stray
 * line on the helper's stdout (a plugin printing there) is skipped instead
 * of shifting every later reply onto the wrong file.
 */
#pragma once

#include <glib-object.h>

#include "mt-song.h"

G_BEGIN_DECLS

#define MT_TAG_READER_ERROR (mt_tag_reader_error_quark ())

typedef enum {
  MT_TAG_READER_ERROR_UNREADABLE,   /* not an audio file we can read */
  MT_TAG_READER_ERROR_CRASHED,      /* the helper died reading this file */
  MT_TAG_READER_ERROR_TIMEOUT,      /* the helper did not answer in time */
  MT_TAG_READER_ERROR_HELPER,       /* the helper cannot be started */
  MT_TAG_READER_ERROR_BAD_REPLY,    /* the reply to this file is malformed or too long */
  MT_TAG_READER_ERROR_NOT_A_REPLY,  /* a line that is not the reply to this request */
} MtTagReaderError;

/* The longest reply line the helper may send (tags are cut to fit well
 * within it); a longer one is an error for that file, and the helper is
 * restarted. */
#define MT_TAG_READER_MAX_REPLY (64 * 1024)

#define MT_TYPE_TAG_READER (mt_tag_reader_get_type ())
G_DECLARE_FINAL_TYPE (MtTagReader, mt_tag_reader, MT, TAG_READER, GObject)

GQuark       mt_tag_reader_error_quark     (void);

/* The helper executable: $MT_TAG_READER (set by `meson devenv`), else the
 * one in $MT_BUILD_DIR (tests), else the installed one. */
char        *mt_tag_reader_find_helper     (void);

MtTagReader *mt_tag_reader_new             (void);
/* Seconds the discoverer may spend on one file (default 5). */
void         mt_tag_reader_set_timeout     (MtTagReader  *self,
                                            guint         seconds);
/* Fills title, artist, album, genre, track and duration_ms of @song (other
 * fields are left alone) from the file at @uri. */
gboolean     mt_tag_reader_read            (MtTagReader  *self,
                                            const char   *uri,
                                            MtSong       *song,
                                            GError      **error);
/* How many times the helper crashed or hung (and was replaced, or will be
 * on the next read). */
guint        mt_tag_reader_get_n_restarts  (MtTagReader  *self);

/* Parses one reply line of the helper (@length bytes, no newline) to the
 * request numbered @expected_id.  On success fills the fields
 * mt_tag_reader_read() fills; on failure leaves @song alone and sets
 * @error: MT_TAG_READER_ERROR_NOT_A_REPLY when the line is not a reply to
 * this request (not a JSON object, no "id" or another one: a stray line,
 * to be skipped), MT_TAG_READER_ERROR_BAD_REPLY when it is too long or is
 * the reply but malformed, MT_TAG_READER_ERROR_UNREADABLE when the helper
 * could not read the file.  Pure: no I/O, safe on any bytes. */
gboolean     mt_tag_reader_parse_reply     (const char   *line,
                                            gsize         length,
                                            guint64       expected_id,
                                            MtSong       *song,
                                            GError      **error);

G_END_DECLS
