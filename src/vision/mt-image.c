#define G_LOG_DOMAIN "mt-image"

#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "mt-image.h"

struct _MtImage {
  GdkPixbuf *pixbuf;
  MtFrame    frame;
};

MtImage *
mt_image_load (const char  *path,
               GError     **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) local_error = NULL;
  GdkPixbufFormat *format;
  int width = 0, height = 0;
  MtImage *self;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "No such file");
      return NULL;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "Not a regular file");
      return NULL;
    }

  /* Look at the header first: a decompression bomb is refused unread. */
  format = gdk_pixbuf_get_file_info (path, &width, &height);
  if (format == NULL)
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID,
                   "Not an image file this program can read");
      return NULL;
    }
  if (width > MT_FRAME_MAX_SIDE || height > MT_FRAME_MAX_SIDE ||
      (gint64) width * height > MT_FRAME_MAX_PIXELS)
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID,
                   "The image is too large (%d×%d pixels, at most %d per side and %d megapixels)",
                   width, height, MT_FRAME_MAX_SIDE, MT_FRAME_MAX_PIXELS / (1024 * 1024));
      return NULL;
    }

  pixbuf = gdk_pixbuf_new_from_file (path, &local_error);
  if (pixbuf == NULL)
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID,
                   "Cannot decode the image: %s", local_error->message);
      return NULL;
    }
  if (gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB ||
      gdk_pixbuf_get_bits_per_sample (pixbuf) != 8)
    {
      g_set_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID,
                   "Unsupported pixel layout");
      return NULL;
    }

  self = g_new0 (MtImage, 1);
  self->pixbuf = g_steal_pointer (&pixbuf);
  self->frame.data = gdk_pixbuf_read_pixels (self->pixbuf);
  self->frame.width = gdk_pixbuf_get_width (self->pixbuf);
  self->frame.height = gdk_pixbuf_get_height (self->pixbuf);
  self->frame.stride = gdk_pixbuf_get_rowstride (self->pixbuf);
  self->frame.format = gdk_pixbuf_get_has_alpha (self->pixbuf) ? MT_PIXEL_FORMAT_RGBA
                                                               : MT_PIXEL_FORMAT_RGB;
  return self;
}

const MtFrame *
mt_image_get_frame (MtImage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->frame;
}

void
mt_image_free (MtImage *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->pixbuf);
  g_free (self);
}
