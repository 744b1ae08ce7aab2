#define G_LOG_DOMAIN "mt-convert"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "mt-convert-error.h"
#include "mt-darknet-writer.h"

typedef struct {
  int w, h, c;
} Shape;

struct _MtDarknetWriter {
  GString    *cfg;
  GByteArray *weights;
  GArray     *shapes;   /* Shape per layer */
  Shape       input;
  gboolean    has_input;
};

static const char *
activation_name (MtDarknetActivation activation)
{
  switch (activation)
    {
    case MT_DARKNET_LINEAR: return "linear";
    case MT_DARKNET_RELU: return "relu";
    case MT_DARKNET_LEAKY: return "leaky";
    case MT_DARKNET_LOGISTIC: return "logistic";
    default: g_assert_not_reached ();
    }
}

MtDarknetWriter *
mt_darknet_writer_new (void)
{
  MtDarknetWriter *self = g_new0 (MtDarknetWriter, 1);

  self->cfg = g_string_new (NULL);
  self->weights = g_byte_array_new ();
  self->shapes = g_array_new (FALSE, FALSE, sizeof (Shape));
  return self;
}

void
mt_darknet_writer_free (MtDarknetWriter *self)
{
  if (self == NULL)
    return;
  g_string_free (self->cfg, TRUE);
  g_byte_array_unref (self->weights);
  g_array_unref (self->shapes);
  g_free (self);
}

void
mt_darknet_writer_comment (MtDarknetWriter *self,
                           const char      *format,
                           ...)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  /* Empty lines stay blank: they separate parts of the cfg. */
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] != '\0')
        g_string_append_printf (self->cfg, "# %s", lines[i]);
      g_string_append_c (self->cfg, '\n');
    }
}

void
mt_darknet_writer_set_input (MtDarknetWriter *self,
                             int              width,
                             int              height,
                             int              channels)
{
  g_return_if_fail (!self->has_input);
  g_return_if_fail (width > 0 && height > 0 && channels > 0);

  self->input = (Shape) { width, height, channels };
  self->has_input = TRUE;
  g_string_append_printf (self->cfg,
                          "[net]\nbatch=1\nsubdivisions=1\nwidth=%d\nheight=%d\nchannels=%d\n",
                          width, height, channels);
}

static Shape
current_shape (MtDarknetWriter *self)
{
  if (self->shapes->len == 0)
    return self->input;
  return g_array_index (self->shapes, Shape, self->shapes->len - 1);
}

void
mt_darknet_writer_get_shape (MtDarknetWriter *self,
                             int             *width,
                             int             *height,
                             int             *channels)
{
  Shape s = current_shape (self);

  if (width)
    *width = s.w;
  if (height)
    *height = s.h;
  if (channels)
    *channels = s.c;
}

static void
append_floats (MtDarknetWriter *self,
               const float     *values,
               gsize            n)
{
  /* .weights files are little-endian float32. */
  for (gsize i = 0; i < n; i++)
    {
      guint32 bits = 0;

      if (values != NULL)
        memcpy (&bits, &values[i], 4);
      bits = GUINT32_TO_LE (bits);
      g_byte_array_append (self->weights, (const guint8 *) &bits, 4);
    }
}

/* Starts a section: a blank line, a comment naming the layer, its shape. */
static int
begin_layer (MtDarknetWriter *self,
             const char      *section,
             const char      *note,
             Shape            out)
{
  int index = (int) self->shapes->len;

  g_string_append_printf (self->cfg, "\n# %d: %s -> %dx%dx%d\n[%s]\n",
                          index, note, out.w, out.h, out.c, section);
  g_array_append_val (self->shapes, out);
  return index;
}

static gboolean
check_ready (MtDarknetWriter *self,
             GError         **error)
{
  if (!self->has_input)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_UNSUPPORTED,
                   "a layer was added before the network input was set");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_layer_ref (MtDarknetWriter *self,
                 int              layer,
                 GError         **error)
{
  if (layer < 0 || layer >= (int) self->shapes->len)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_UNSUPPORTED,
                   "layer %d refers to layer %d, which does not exist yet",
                   (int) self->shapes->len, layer);
      return FALSE;
    }
  return TRUE;
}

int
mt_darknet_writer_add_conv (MtDarknetWriter     *self,
                            const char          *note,
                            const MtDarknetConv *conv,
                            GError             **error)
{
  Shape in, out;
  int index;

  if (!check_ready (self, error))
    return -1;
  in = current_shape (self);

  if (conv->filters < 1 || conv->size < 1 || conv->stride < 1 || conv->padding < 0 ||
      conv->groups < 1 || in.c % conv->groups != 0 || conv->filters % conv->groups != 0)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_UNSUPPORTED,
                   "convolution “%s”: invalid geometry (filters %d, size %d, stride %d, groups %d, %d input channels)",
                   note, conv->filters, conv->size, conv->stride, conv->groups, in.c);
      return -1;
    }
  /* Darknet skips im2col for 1x1 kernels and so ignores their stride. */
  if (conv->size == 1 && conv->stride != 1)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_UNSUPPORTED,
                   "convolution “%s”: Darknet computes a 1x1 convolution with stride %d wrongly",
                   note, conv->stride);
      return -1;
    }
  out.w = (in.w + 2 * conv->padding - conv->size) / conv->stride + 1;
  out.h = (in.h + 2 * conv->padding - conv->size) / conv->stride + 1;
  out.c = conv->filters;
  if (out.w < 1 || out.h < 1)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_UNSUPPORTED,
                   "convolution “%s” leaves no output on a %dx%d input", note, in.w, in.h);
      return -1;
    }

  index = begin_layer (self, "convolutional", note, out);
  g_string_append_printf (self->cfg,
                          "batch_normalize=0\nfilters=%d\nsize=%d\nstride=%d\npadding=%d\n",
                          conv->filters, conv->size, conv->stride, conv->padding);
  if (conv->groups != 1)
    g_string_append_printf (self->cfg, "groups=%d\n", conv->groups);
  g_string_append_printf (self->cfg, "activation=%s\n", activation_name (conv->activation));

  append_floats (self, conv->biases, (gsize) conv->filters);
  append_floats (self, conv->weights,
                 (gsize) conv->filters * (gsize) (in.c / conv->groups) * (gsize) conv->size * (gsize) conv->size);
  return index;
}

int
mt_darknet_writer_add_maxpool (MtDarknetWriter *self,
                               const char      *note,
                               int              size,
                               int              stride,
                               int              padding,
                               GError         **error)
{
  Shape in, out;
  int index;

  if (!check_ready (self, error))
    return -1;
  in = current_shape (self);
  /* Darknet's maxpool pads @padding / 2 before and the rest after. */
  out.w = (in.w + padding - size) / stride + 1;
  out.h = (in.h + padding - size) / stride + 1;
  out.c = in.c;
  if (size < 1 || stride < 1 || padding < 0 || out.w < 1 || out.h < 1)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_UNSUPPORTED,
                   "maxpool “%s”: invalid geometry", note);
      return -1;
    }

  index = begin_layer (self, "maxpool", note, out);
  g_string_append_printf (self->cfg, "size=%d\nstride=%d\npadding=%d\n", size, stride, padding);
  return index;
}

int
mt_darknet_writer_add_avgpool (MtDarknetWriter *self,
                               const char      *note,
                               GError         **error)
{
  Shape out;

  if (!check_ready (self, error))
    return -1;
  out = current_shape (self);
  out.w = out.h = 1;
  return begin_layer (self, "avgpool", note, out);
}

int
mt_darknet_writer_add_shortcut (MtDarknetWriter     *self,
                                const char          *note,
                                int                  from,
                                MtDarknetActivation  activation,
                                GError             **error)
{
  Shape in, other;
  int index;

  if (!check_ready (self, error) || !check_layer_ref (self, from, error))
    return -1;
  in = current_shape (self);
  other = g_array_index (self->shapes, Shape, from);
  /* Darknet would resample a differently sized input silently.  A layer of
   * fewer channels is added to the first ones, the rest pass unchanged:
   * TensorFlow's zero padding of the channels after the others. */
  if (in.w != other.w || in.h != other.h || other.c > in.c)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_UNSUPPORTED,
                   "shortcut “%s” adds %dx%dx%d to %dx%dx%d", note,
                   other.w, other.h, other.c, in.w, in.h, in.c);
      return -1;
    }

  index = begin_layer (self, "shortcut", note, in);
  g_string_append_printf (self->cfg, "from=%d\nactivation=%s\n",
                          from - index, activation_name (activation));
  return index;
}

int
mt_darknet_writer_add_route (MtDarknetWriter *self,
                             const char      *note,
                             int              layer,
                             GError         **error)
{
  int index;

  if (!check_ready (self, error) || !check_layer_ref (self, layer, error))
    return -1;

  index = begin_layer (self, "route", note, g_array_index (self->shapes, Shape, layer));
  g_string_append_printf (self->cfg, "layers=%d\n", layer - index);
  return index;
}

int
mt_darknet_writer_add_connected (MtDarknetWriter     *self,
                                 const char          *note,
                                 int                  outputs,
                                 MtDarknetActivation  activation,
                                 const float         *biases,
                                 const float         *weights,
                                 GError             **error)
{
  Shape in;
  int index;

  if (!check_ready (self, error))
    return -1;
  in = current_shape (self);
  if (outputs < 1)
    {
      g_set_error (error, MT_CONVERT_ERROR, MT_CONVERT_ERROR_UNSUPPORTED,
                   "connected layer “%s” has no outputs", note);
      return -1;
    }

  index = begin_layer (self, "connected", note, (Shape) { 1, 1, outputs });
  g_string_append_printf (self->cfg, "output=%d\nactivation=%s\n",
                          outputs, activation_name (activation));
  append_floats (self, biases, (gsize) outputs);
  append_floats (self, weights, (gsize) outputs * (gsize) in.w * (gsize) in.h * (gsize) in.c);
  return index;
}

int
mt_darknet_writer_add_softmax (MtDarknetWriter *self,
                               const char      *note,
                               GError         **error)
{
  int index;

  if (!check_ready (self, error))
    return -1;
  index = begin_layer (self, "softmax", note, current_shape (self));
  g_string_append (self->cfg, "groups=1\n");
  return index;
}

gboolean
mt_darknet_writer_save (MtDarknetWriter    *self,
                        const char         *dir,
                        const char         *basename,
                        const char * const *names,
                        GError            **error)
{
  g_autofree char *cfg_path = NULL;
  g_autofree char *weights_path = NULL;
  g_autofree char *names_path = NULL;
  g_autoptr(GByteArray) weights = g_byte_array_new ();
  g_autoptr(GString) names_text = g_string_new (NULL);
  /* Header: version 0.2.0, then a 64-bit count of images seen (none). */
  const guint32 header[3] = { GUINT32_TO_LE (0), GUINT32_TO_LE (2), GUINT32_TO_LE (0) };
  const guint64 seen = GUINT64_TO_LE (0);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "Cannot create the output folder “%s”: %s", dir, g_strerror (errno));
      return FALSE;
    }

  g_byte_array_append (weights, (const guint8 *) header, sizeof header);
  g_byte_array_append (weights, (const guint8 *) &seen, sizeof seen);
  g_byte_array_append (weights, self->weights->data, self->weights->len);

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    g_string_append_printf (names_text, "%s\n", names[i]);

  cfg_path = g_strdup_printf ("%s/%s.cfg", dir, basename);
  weights_path = g_strdup_printf ("%s/%s.weights", dir, basename);
  names_path = g_strdup_printf ("%s/%s.names", dir, basename);

  return g_file_set_contents (cfg_path, self->cfg->str, (gssize) self->cfg->len, error) &&
         g_file_set_contents (weights_path, (const char *) weights->data, (gssize) weights->len, error) &&
         g_file_set_contents (names_path, names_text->str, (gssize) names_text->len, error);
}
