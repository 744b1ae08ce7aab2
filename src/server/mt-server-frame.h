/* mt-server-frame.h: JPEG frames received from a client, decoded safely. */
#pragma once

#include <glib.h>

#include "mt-frame.h"

G_BEGIN_DECLS

/* A frame's decoded pixels are bounded by these before any decoding. */
#define MT_SERVER_FRAME_MAX_SIDE   4096
#define MT_SERVER_FRAME_MAX_PIXELS (4096 * 3072)

#define MT_SERVER_FRAME_ERROR (mt_server_frame_error_quark ())

typedef enum {
  MT_SERVER_FRAME_ERROR_NOT_JPEG,   /* no JPEG start, or no frame header */
  MT_SERVER_FRAME_ERROR_TOO_LARGE,  /* dimensions over the limits */
  MT_SERVER_FRAME_ERROR_DECODE,     /* the decoder failed */
} MtServerFrameError;

typedef struct _MtServerFrame MtServerFrame;

GQuark         mt_server_frame_error_quark (void);

/* Reads the width and height from a JPEG's frame header (SOFn) without
 * decoding anything. */
gboolean       mt_server_jpeg_read_size    (const guint8  *data,
                                            gsize          length,
                                            int           *width,
                                            int           *height,
                                            GError       **error);

/* Decodes a JPEG after checking its header against the limits. */
MtServerFrame *mt_server_frame_decode      (GBytes        *jpeg,
                                            GError       **error);
const MtFrame *mt_server_frame_get_frame   (MtServerFrame *self);
void           mt_server_frame_free        (MtServerFrame *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtServerFrame, mt_server_frame_free)

G_END_DECLS
