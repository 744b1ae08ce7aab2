#define G_LOG_DOMAIN "mt-server-frame"

#include "config.h"

#include <string.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "mt-server-frame.h"

struct _MtServerFrame {
  GdkPixbuf *pixbuf;
  MtFrame    frame;
};

G_DEFINE_QUARK (mt-server-frame-error-quark, mt_server_frame_error)

static gboolean
is_sof_marker (guint8 marker)
{
  /* SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
  return marker >= 0xC0 && marker <= 0xCF &&
         marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

gboolean
mt_server_jpeg_read_size (const guint8  *data,
                          gsize          length,
                          int           *width,
                          int           *height,
                          GError       **error)
{
  gsize pos = 2;

  if (data == NULL || length < 4 || data[0] != 0xFF || data[1] != 0xD8)
    {
      g_set_error_literal (error, MT_SERVER_FRAME_ERROR, MT_SERVER_FRAME_ERROR_NOT_JPEG,
                           "Not a JPEG image (frames must be binary JPEG data)");
      return FALSE;
    }

  /* Walk the marker segments up to the frame header; the scan data comes
   * after it, so a valid file always has it within its headers. */
  while (pos + 4 <= length)
    {
      guint8 marker;
      gsize segment;

      if (data[pos] != 0xFF)
        break;
      marker = data[pos + 1];
      if (marker == 0xFF)
        {
          pos++;   /* fill byte */
          continue;
        }
      if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
        {
          pos += 2;   /* markers without a length */
          continue;
        }
      if (marker == 0xD9 || marker == 0xDA)
        break;   /* end of image or start of scan before any frame header */

      segment = ((gsize) data[pos + 2] << 8) | data[pos + 3];
      if (segment < 2 || pos + 2 + segment > length)
        break;
      if (is_sof_marker (marker))
        {
          /* Huffman-coded baseline, extended and progressive only (what
           * browsers and cameras write): libjpeg's arithmetic decoder loops
           * for good on some damaged data (found by fuzz-server-frame), and
           * lossless and hierarchical frames are never a webcam's. */
          if (marker != 0xC0 && marker != 0xC1 && marker != 0xC2)
            {
              g_set_error (error, MT_SERVER_FRAME_ERROR, MT_SERVER_FRAME_ERROR_TOO_COMPLEX,
                           "The frame uses a JPEG coding the server does not decode (SOF%d): "
                           "send baseline or progressive JPEGs", marker - 0xC0);
              return FALSE;
            }
          if (segment < 7)
            break;
          *height = (data[pos + 5] << 8) | data[pos + 6];
          *width = (data[pos + 7] << 8) | data[pos + 8];
          if (*width == 0 || *height == 0)
            break;
          return TRUE;
        }
      pos += 2 + segment;
    }

  g_set_error_literal (error, MT_SERVER_FRAME_ERROR, MT_SERVER_FRAME_ERROR_NOT_JPEG,
                       "The JPEG data is truncated or has no usable frame header");
  return FALSE;
}

guint
mt_server_jpeg_count_scans (const guint8 *data,
                            gsize         length)
{
  gsize pos = 2;
  guint scans = 0;

  if (data == NULL || length < 4 || data[0] != 0xFF || data[1] != 0xD8)
    return 0;

  while (pos + 2 <= length)
    {
      const guint8 *next;
      guint8 marker;
      gsize segment;

      if (data[pos] != 0xFF)
        {
          /* libjpeg skips stray bytes up to the next marker (a warning,
           * not an error): so must we, or scans could hide behind them. */
          next = memchr (data + pos, 0xFF, length - pos);
          if (next == NULL)
            break;
          pos = next - data;
          continue;
        }
      marker = data[pos + 1];
      if (marker == 0xFF)
        {
          pos++;   /* fill byte */
          continue;
        }
      if (marker == 0xD9)
        break;   /* end of image */
      if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
        {
          pos += 2;   /* markers without a length */
          continue;
        }
      if (pos + 4 > length)
        break;
      segment = ((gsize) data[pos + 2] << 8) | data[pos + 3];
      if (segment < 2 || segment > length - pos - 2)
        break;   /* truncated: the decoder cannot get past it either */
      pos += 2 + segment;
      if (marker != 0xDA)
        continue;

      scans++;
      /* The scan's entropy-coded data runs to the next marker: 0xFF 0x00 is
       * a stuffed data byte and RSTn markers belong to the scan. */
      while (pos < length)
        {
          next = memchr (data + pos, 0xFF, length - pos);
          if (next == NULL || (gsize) (next - data) + 1 >= length)
            return scans;
          pos = next - data;
          if (next[1] == 0x00 || (next[1] >= 0xD0 && next[1] <= 0xD7))
            pos += 2;
          else if (next[1] == 0xFF)
            pos++;
          else
            break;   /* the next marker */
        }
    }
  return scans;
}

static void
on_size_prepared (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         user_data)
{
  gboolean *too_large = user_data;

  /* The decoder's own idea of the size must agree with the limits too. */
  if (width > MT_SERVER_FRAME_MAX_SIDE || height > MT_SERVER_FRAME_MAX_SIDE ||
      (gint64) width * height > MT_SERVER_FRAME_MAX_PIXELS)
    {
      *too_large = TRUE;
      gdk_pixbuf_loader_set_size (loader, 1, 1);
    }
}

MtServerFrame *
mt_server_frame_decode (GBytes  *jpeg,
                        GError **error)
{
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) local_error = NULL;
  const guint8 *data;
  gsize length;
  int width = 0, height = 0;
  guint scans;
  gboolean too_large = FALSE;
  GdkPixbuf *pixbuf;
  MtServerFrame *self;

  g_return_val_if_fail (jpeg != NULL, NULL);

  data = g_bytes_get_data (jpeg, &length);
  if (!mt_server_jpeg_read_size (data, length, &width, &height, error))
    return NULL;
  if (width > MT_SERVER_FRAME_MAX_SIDE || height > MT_SERVER_FRAME_MAX_SIDE ||
      (gint64) width * height > MT_SERVER_FRAME_MAX_PIXELS)
    {
      g_set_error (error, MT_SERVER_FRAME_ERROR, MT_SERVER_FRAME_ERROR_TOO_LARGE,
                   "The frame is too large (%d×%d pixels; at most %d per side and %d pixels)",
                   width, height, MT_SERVER_FRAME_MAX_SIDE, MT_SERVER_FRAME_MAX_PIXELS);
      return NULL;
    }
  scans = mt_server_jpeg_count_scans (data, length);
  if (scans > MT_SERVER_FRAME_MAX_SCANS)
    {
      g_set_error (error, MT_SERVER_FRAME_ERROR, MT_SERVER_FRAME_ERROR_TOO_COMPLEX,
                   "The frame has too many scans to decode (%u; at most %d): send baseline JPEGs",
                   scans, MT_SERVER_FRAME_MAX_SCANS);
      return NULL;
    }

  loader = gdk_pixbuf_loader_new_with_type ("jpeg", &local_error);
  if (loader == NULL)
    {
      g_set_error (error, MT_SERVER_FRAME_ERROR, MT_SERVER_FRAME_ERROR_DECODE,
                   "No JPEG decoder available: %s", local_error->message);
      return NULL;
    }
  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &too_large);

  if (!gdk_pixbuf_loader_write (loader, data, length, &local_error) ||
      !gdk_pixbuf_loader_close (loader, &local_error))
    {
      /* close() must run even after a failed write, or the loader warns. */
      if (local_error == NULL)
        g_set_error_literal (&local_error, G_IO_ERROR, G_IO_ERROR_FAILED, "unknown error");
      gdk_pixbuf_loader_close (loader, NULL);
      g_set_error (error, MT_SERVER_FRAME_ERROR, MT_SERVER_FRAME_ERROR_DECODE,
                   "Cannot decode the JPEG frame: %s", local_error->message);
      return NULL;
    }
  if (too_large)
    {
      g_set_error_literal (error, MT_SERVER_FRAME_ERROR, MT_SERVER_FRAME_ERROR_TOO_LARGE,
                           "The frame is too large for the decoder's limits");
      return NULL;
    }

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf == NULL ||
      gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB ||
      gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 ||
      gdk_pixbuf_get_width (pixbuf) != width ||
      gdk_pixbuf_get_height (pixbuf) != height)
    {
      g_set_error_literal (error, MT_SERVER_FRAME_ERROR, MT_SERVER_FRAME_ERROR_DECODE,
                           "Cannot decode the JPEG frame: unexpected pixel layout");
      return NULL;
    }

  self = g_new0 (MtServerFrame, 1);
  self->pixbuf = g_object_ref (pixbuf);
  self->frame.data = gdk_pixbuf_read_pixels (pixbuf);
  self->frame.width = width;
  self->frame.height = height;
  self->frame.stride = gdk_pixbuf_get_rowstride (pixbuf);
  self->frame.format = gdk_pixbuf_get_has_alpha (pixbuf) ? MT_PIXEL_FORMAT_RGBA : MT_PIXEL_FORMAT_RGB;
  return self;
}

const MtFrame *
mt_server_frame_get_frame (MtServerFrame *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->frame;
}

void
mt_server_frame_free (MtServerFrame *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->pixbuf);
  g_free (self);
}
