/* mt-server-range.h: an HTTP Range request header (RFC 9110 §14) read
 * against a file's size, without any I/O, so it can be unit tested and
 * fuzzed on its own. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MT_SERVER_RANGE_WHOLE,          /* no Range, another unit, or several ranges: 200, the whole file */
  MT_SERVER_RANGE_PARTIAL,        /* one satisfiable range: 206 with Content-Range */
  MT_SERVER_RANGE_UNSATISFIABLE,  /* malformed, backwards or beyond the end: 416 */
} MtServerRange;

/* Reads @header (the Range header's value, NULL when absent) for a file of
 * @size bytes.  For MT_SERVER_RANGE_PARTIAL, @first and @last are the
 * inclusive byte positions to send (first <= last < size); otherwise both
 * are 0.  Digits that overflow 64 bits count as "beyond any file". */
MtServerRange mt_server_parse_range (const char *header,
                                     guint64     size,
                                     guint64    *first,
                                     guint64    *last);

G_END_DECLS
