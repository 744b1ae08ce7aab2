/* fuzz-server-frame: a binary WebSocket message as the server's workers
 * take it: the JPEG header walk (mt_server_jpeg_read_size), then, through
 * mt_server_frame_decode, the limits and gdk-pixbuf's JPEG decoder.  A
 * decoded frame must be exactly as large as its header said, within the
 * limits, and readable to its last byte. */
#include "config.h"

#include "mt-frame.h"
#include "mt-fuzz.h"
#include "mt-server-frame.h"

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(MtServerFrame) frame = NULL;
  g_autoptr(GError) error = NULL;
  const MtFrame *pixels;
  int width = 0, height = 0;
  gboolean have_size;
  guint sum = 0;

  mt_fuzz_init ();

  have_size = mt_server_jpeg_read_size (data, size, &width, &height, NULL);
  if (have_size)
    MT_FUZZ_CHECK (width > 0 && height > 0 && width <= 65535 && height <= 65535);

  frame = mt_server_frame_decode (bytes, &error);
  MT_FUZZ_CHECK ((frame == NULL) == (error != NULL));
  if (frame == NULL)
    {
      MT_FUZZ_CHECK (error->domain == MT_SERVER_FRAME_ERROR);
      return 0;
    }

  pixels = mt_server_frame_get_frame (frame);
  MT_FUZZ_CHECK (have_size && pixels->width == width && pixels->height == height);
  MT_FUZZ_CHECK (width <= MT_SERVER_FRAME_MAX_SIDE && height <= MT_SERVER_FRAME_MAX_SIDE);
  MT_FUZZ_CHECK ((gint64) width * height <= MT_SERVER_FRAME_MAX_PIXELS);
  MT_FUZZ_CHECK (mt_frame_validate (pixels, NULL));
  /* Every row's bytes are there (ASan checks the reads). */
  for (int y = 0; y < pixels->height; y++)
    {
      const guint8 *row = pixels->data + (gsize) y * pixels->stride;
      gsize row_bytes = (gsize) pixels->width * mt_pixel_format_bpp (pixels->format);

      sum += row[0] + row[row_bytes - 1];
    }
  MT_FUZZ_CHECK (sum < G_MAXUINT);
  return 0;
}
