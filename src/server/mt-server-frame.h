/* mt-server-frame.h: JPEG frames received from a client, decoded safely. */
#pragma once

#include <glib.h>

#include "mt-frame.h"

G_BEGIN_DECLS

/* A frame's decoded pixels are bounded by these before any decoding. */
#define MT_SERVER_FRAME_MAX_SIDE   4096
#define MT_SERVER_FRAME_MAX_PIXELS (4096 * 3072)
/* gdk-pixbuf decodes a progressive JPEG with one full output pass per scan:
 * a 2 MiB frame of thousands of tiny scans costs seconds of CPU.  libjpeg's
 * own progressive scripts use 10 scans (colour) or 6 (grey); the page sends
 * baseline JPEGs, which have one scan per frame. */
#define MT_SERVER_FRAME_MAX_SCANS  16

#define MT_SERVER_FRAME_ERROR (mt_server_frame_error_quark ())

typedef enum {
  MT_SERVER_FRAME_ERROR_NOT_JPEG,   /* no JPEG start, or no frame header */
  MT_SERVER_FRAME_ERROR_TOO_LARGE,  /* dimensions over the limits */
  MT_SERVER_FRAME_ERROR_DECODE,     /* the decoder failed */
  MT_SERVER_FRAME_ERROR_TOO_COMPLEX, /* more scans than MT_SERVER_FRAME_MAX_SCANS */
} MtServerFrameError;

typedef struct _MtServerFrame MtServerFrame;

GQuark         mt_server_frame_error_quark (void);

/* Reads the width and height from a JPEG's frame header (SOFn) without
 * decoding anything.  Only Huffman-coded baseline, extended and progressive
 * frames (SOF0-2) are taken; others fail with
 * MT_SERVER_FRAME_ERROR_TOO_COMPLEX. */
gboolean       mt_server_jpeg_read_size    (const guint8  *data,
                                            gsize          length,
                                            int           *width,
                                            int           *height,
                                            GError       **error);

/* Counts the scans (SOS markers) of a JPEG by walking its marker segments
 * and skipping the entropy-coded data between them; nothing is decoded.
 * Stops counting at EOI, at the end of @data or at malformed data. */
guint          mt_server_jpeg_count_scans  (const guint8  *data,
                                            gsize          length);

/* Decodes a JPEG after checking its header and its scan count against the
 * limits. */
MtServerFrame *mt_server_frame_decode      (GBytes        *jpeg,
                                            GError       **error);
const MtFrame *mt_server_frame_get_frame   (MtServerFrame *self);
void           mt_server_frame_free        (MtServerFrame *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtServerFrame, mt_server_frame_free)

G_END_DECLS
