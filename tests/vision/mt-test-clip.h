/* mt-test-clip.h: decodes a video clip into frames for tests and benches. */
#pragma once

#include "mt-image.h"

G_BEGIN_DECLS

/* Decodes @video_path with GStreamer's gst-launch-1.0 into a temporary folder
 * (removed again) and loads the frames: a GPtrArray of MtImage, in order, or
 * NULL with @error set (gst-launch-1.0 missing, undecodable clip…). */
GPtrArray *mt_test_clip_decode (const char  *video_path,
                                GError     **error);

G_END_DECLS
