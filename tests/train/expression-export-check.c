/* expression-export-check: shows that an expression network exported from
 * PyTorch (src/train/moodtunes-train-expression.py export --reference) gives
 * in Darknet the probabilities PyTorch gave, on the PublicTest images the
 * reference file names.
 *
 *   expression-export-check CFG WEIGHTS REFERENCE.json FER_DIR [TOLERANCE]
 *
 * The input is prepared as the reference file says ((luma - mean) * scale
 * on the 48x48 image) and run through Darknet's own layers and through our
 * fast kernels.  Prints the largest difference of each; fails when either
 * is above TOLERANCE (1e-4).  Exit 77 (skip) when the
 * shared FER2013 images are absent.
 */
#define G_LOG_DOMAIN "expression-export-check"

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <json-glib/json-glib.h>

#include "mt-darknet.h"

static gboolean
load_luma (const char  *path,
           int          width,
           int          height,
           float        mean,
           float        scale,
           float       *input,
           GError     **error)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, error);
  const guint8 *pixels;
  int stride, n_channels;

  if (pixbuf == NULL)
    return FALSE;
  if (gdk_pixbuf_get_width (pixbuf) != width || gdk_pixbuf_get_height (pixbuf) != height)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not %dx%d", path, width, height);
      return FALSE;
    }
  n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  pixels = gdk_pixbuf_read_pixels (pixbuf);
  /* FER2013 images are gray: the decoder gives R = G = B. */
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      input[y * width + x] = (pixels[y * stride + x * n_channels] - mean) * scale;
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtNet) net = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree float *input = NULL;
  double tolerance = argc > 5 ? g_ascii_strtod (argv[5], NULL) : 1e-4;
  double worst[2] = { 0, 0 };
  JsonObject *root;
  JsonArray *images;
  float mean, scale;
  int n_outputs;

  if (argc < 5)
    {
      fprintf (stderr, "usage: %s CFG WEIGHTS REFERENCE.json FER_DIR [TOLERANCE]\n", argv[0]);
      return 2;
    }
  if (!g_file_test (argv[4], G_FILE_TEST_IS_DIR))
    {
      printf ("SKIP: %s (the shared FER2013 images) is missing\n", argv[4]);
      return 77;
    }

  net = mt_net_load (argv[1], argv[2], &error);
  if (net == NULL || !json_parser_load_from_file (parser, argv[3], &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  images = json_object_get_array_member (root, "images");
  mean = json_object_get_double_member (root, "mean");
  scale = json_object_get_double_member (root, "scale");
  n_outputs = mt_net_get_output_size (net);
  input = g_new (float, mt_net_get_input_size (net));

  if (mt_net_get_channels (net) != 1 || json_array_get_length (images) == 0)
    {
      fprintf (stderr, "expected a one-channel network and at least one reference image\n");
      return 1;
    }

  for (guint i = 0; i < json_array_get_length (images); i++)
    {
      JsonObject *image = json_array_get_object_element (images, i);
      JsonArray *expected = json_object_get_array_member (image, "probabilities");
      g_autofree char *path = g_build_filename (argv[4], json_object_get_string_member (image, "path"), NULL);
      float reference[64];

      if ((int) json_array_get_length (expected) != n_outputs || n_outputs > 64)
        {
          fprintf (stderr, "%s: %u probabilities, the network has %d outputs\n",
                   path, json_array_get_length (expected), n_outputs);
          return 1;
        }
      for (int k = 0; k < n_outputs; k++)
        reference[k] = json_array_get_double_element (expected, k);

      for (int fast = 0; fast < 2; fast++)
        {
          const float *out;

          if (!load_luma (path, mt_net_get_width (net), mt_net_get_height (net), mean, scale, input, &error))
            {
              fprintf (stderr, "%s\n", error->message);
              return 1;
            }
          mt_net_set_fast (net, fast);
          out = mt_net_forward (net, input);
          for (int k = 0; k < n_outputs; k++)
            worst[fast] = MAX (worst[fast], fabs (out[k] - reference[k]));
        }
    }

  printf ("%u images: largest difference from PyTorch %.2g with Darknet's layers, %.2g with the fast "
          "kernels (tolerance %.0e)\n", json_array_get_length (images), worst[0], worst[1], tolerance);
  return worst[0] <= tolerance && worst[1] <= tolerance ? 0 : 1;
}
