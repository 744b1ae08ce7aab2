/* reference-models-darknet: the Darknet half of the reference-models test.
 *
 * Prepares the exact float input tensors both sides see, writes them for the
 * Node half (tests/reference/compare-models.mjs, which runs the original
 * TensorFlow.js models), and runs the same tensors through the converted
 * Darknet models, writing their outputs beside them.
 *
 *   reference-models-darknet fer FER_DIR MODELS_DIR OUT_DIR
 *   reference-models-darknet detect GT_FILE MODELS_DIR SIZE STEP OUT_DIR
 *   reference-models-darknet blazeface GT_FILE MODELS_DIR OUT_DIR
 *
 * Resizing follows TensorFlow's resizeBilinear (align_corners and
 * half_pixel_centers false), which is what face-api and human use.
 */
#define G_LOG_DOMAIN "reference-models"

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "mt-darknet.h"

static const char * const classes[] = {
  "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
};

/* face-api: FaceFeatureExtractor's mean, TinyFaceDetector's anchors. */
static const double expression_mean[3] = { 122.782, 117.001, 104.298 };

typedef struct {
  int     width, height, channels;
  double *data;   /* HWC, 0..255 */
} Image;

static void
image_clear (Image *image)
{
  g_clear_pointer (&image->data, g_free);
}

static gboolean
image_load (const char  *path,
            Image       *image,
            GError     **error)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, error);
  const guint8 *pixels;
  int stride, n_channels;

  if (pixbuf == NULL)
    return FALSE;
  image->width = gdk_pixbuf_get_width (pixbuf);
  image->height = gdk_pixbuf_get_height (pixbuf);
  image->channels = 3;
  n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  pixels = gdk_pixbuf_read_pixels (pixbuf);
  image->data = g_new (double, (gsize) image->width * image->height * 3);
  for (int y = 0; y < image->height; y++)
    for (int x = 0; x < image->width; x++)
      for (int c = 0; c < 3; c++)
        image->data[((gsize) y * image->width + x) * 3 + c] = pixels[y * stride + x * n_channels + c];
  return TRUE;
}

/* tf.image.resizeBilinear(x, [out, out], false, false) on an HWC image. */
static double *
resize_bilinear (const double *src,
                 int           in_w,
                 int           in_h,
                 int           channels,
                 int           out_w,
                 int           out_h)
{
  double *dst = g_new (double, (gsize) out_w * out_h * channels);
  double ry = (double) in_h / out_h, rx = (double) in_w / out_w;

  for (int y = 0; y < out_h; y++)
    {
      double fy = ry * y;
      int y0 = (int) floor (fy), y1 = MIN (in_h - 1, (int) ceil (fy));
      double dy = fy - y0;

      for (int x = 0; x < out_w; x++)
        {
          double fx = rx * x;
          int x0 = (int) floor (fx), x1 = MIN (in_w - 1, (int) ceil (fx));
          double dx = fx - x0;

          for (int c = 0; c < channels; c++)
            {
              double tl = src[((gsize) y0 * in_w + x0) * channels + c];
              double tr = src[((gsize) y0 * in_w + x1) * channels + c];
              double bl = src[((gsize) y1 * in_w + x0) * channels + c];
              double br = src[((gsize) y1 * in_w + x1) * channels + c];
              double top = tl + (tr - tl) * dx;
              double bottom = bl + (br - bl) * dx;

              dst[((gsize) y * out_w + x) * channels + c] = top + (bottom - top) * dy;
            }
        }
    }
  return dst;
}

static gboolean
write_floats (FILE        *file,
              const float *values,
              gsize        n,
              GError     **error)
{
  if (fwrite (values, sizeof (float), n, file) != n)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "write failed");
      return FALSE;
    }
  return TRUE;
}

static FILE *
open_out (const char  *dir,
          const char  *name,
          GError     **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  FILE *file = fopen (path, "wb");

  if (file == NULL)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot write %s", path);
  return file;
}

static MtNet *
load_model (const char  *models_dir,
            const char  *name,
            GError     **error)
{
  g_autofree char *cfg = g_strdup_printf ("%s/%s.cfg", models_dir, name);
  g_autofree char *weights = g_strdup_printf ("%s/%s.weights", models_dir, name);

  return mt_net_load (cfg, weights, error);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static int
run_fer (const char *fer_dir,
         const char *models_dir,
         const char *out_dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtNet) expression = NULL;
  g_autoptr(MtNet) xception = NULL;
  g_autoptr(GString) labels = g_string_new (NULL);
  g_autofree float *expr_in = g_new (float, 3 * 112 * 112);
  g_autofree float *gray112 = g_new (float, 112 * 112);
  g_autofree float *gray64 = g_new (float, 64 * 64);
  FILE *expr_tensor, *xcep_tensor, *expr_out, *xcep_out;
  g_autofree char *labels_path = g_build_filename (out_dir, "fer-labels.txt", NULL);
  int n_images = 0;

  if (!(expression = load_model (models_dir, "face-expression", &error)) ||
      !(xception = load_model (models_dir, "emotion-xception", &error)))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (!(expr_tensor = open_out (out_dir, "fer-112.f32", &error)) ||
      !(xcep_tensor = open_out (out_dir, "fer-64.f32", &error)) ||
      !(expr_out = open_out (out_dir, "fer-expression-darknet.f32", &error)) ||
      !(xcep_out = open_out (out_dir, "fer-xception-darknet.f32", &error)))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  for (guint k = 0; k < G_N_ELEMENTS (classes); k++)
    {
      g_autofree char *dir_path = g_build_filename (fer_dir, classes[k], NULL);
      g_autoptr(GDir) dir = g_dir_open (dir_path, 0, &error);
      g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".jpg") || g_str_has_suffix (name, ".png"))
          g_ptr_array_add (files, g_strdup (name));
      g_ptr_array_sort (files, compare_names);

      for (guint i = 0; i < files->len; i++)
        {
          g_autofree char *path = g_build_filename (dir_path, files->pdata[i], NULL);
          g_autofree double *gray = NULL;
          g_autofree double *r112 = NULL;
          g_autofree double *r64 = NULL;
          Image image = { 0 };
          const float *out;

          if (!image_load (path, &image, &error))
            {
              g_printerr ("%s: %s\n", path, error->message);
              return 1;
            }
          /* FER2013 is gray: R = G = B, so one plane stands for all three. */
          gray = g_new (double, (gsize) image.width * image.height);
          for (gsize p = 0; p < (gsize) image.width * image.height; p++)
            gray[p] = image.data[p * 3];
          image_clear (&image);

          r112 = resize_bilinear (gray, image.width, image.height, 1, 112, 112);
          r64 = resize_bilinear (gray, image.width, image.height, 1, 64, 64);
          for (int p = 0; p < 112 * 112; p++)
            gray112[p] = (float) r112[p];
          for (int p = 0; p < 64 * 64; p++)
            gray64[p] = (float) (r64[p] / 255.0);

          /* face-expression: planar RGB, (value - mean) / 255. */
          for (int c = 0; c < 3; c++)
            for (int p = 0; p < 112 * 112; p++)
              expr_in[c * 112 * 112 + p] = (float) ((gray112[p] - expression_mean[c]) / 255.0);

          if (!write_floats (expr_tensor, gray112, 112 * 112, &error) ||
              !write_floats (xcep_tensor, gray64, 64 * 64, &error))
            {
              g_printerr ("%s\n", error->message);
              return 1;
            }
          out = mt_net_forward (expression, expr_in);
          if (!write_floats (expr_out, out, 7, &error))
            return 1;
          out = mt_net_forward (xception, gray64);
          if (!write_floats (xcep_out, out, 7, &error))
            return 1;
          g_string_append_printf (labels, "%u %s/%s\n", k, classes[k], (const char *) files->pdata[i]);
          n_images++;
        }
    }

  fclose (expr_tensor);
  fclose (xcep_tensor);
  fclose (expr_out);
  fclose (xcep_out);
  if (!g_file_set_contents (labels_path, labels->str, -1, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("darknet: %d FER2013 images through face-expression and emotion-xception\n", n_images);
  return 0;
}

/* The cfg is written for 416; Darknet sizes every layer from [net]. */
static char *
write_sized_cfg (const char  *models_dir,
                 int          size,
                 const char  *out_dir,
                 double       anchors[10],
                 GError     **error)
{
  g_autofree char *src = g_build_filename (models_dir, "face-detector.cfg", NULL);
  g_autofree char *dst = g_strdup_printf ("%s/face-detector-%d.cfg", out_dir, size);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  int n_anchors = 0;

  if (!g_file_get_contents (src, &text, NULL, error))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "width=") || g_str_has_prefix (lines[i], "height="))
        g_string_append_printf (out, "%.*s=%d", (int) (strchr (lines[i], '=') - lines[i]), lines[i], size);
      else
        g_string_append (out, lines[i]);
      if (lines[i + 1] != NULL)
        g_string_append_c (out, '\n');

      /* The decoder reads its anchors from the cfg, as the app will. */
      if (g_str_has_prefix (lines[i], "# anchors = "))
        {
          g_auto(GStrv) parts = g_strsplit_set (lines[i] + strlen ("# anchors = "), ", ", -1);

          for (guint j = 0; parts[j] != NULL; j++)
            if (parts[j][0] != '\0' && n_anchors < 10)
              anchors[n_anchors++] = g_ascii_strtod (parts[j], NULL);
        }
    }
  if (n_anchors != 10)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no line “# anchors = ” with 10 values", src);
      return NULL;
    }
  if (!g_file_set_contents (dst, out->str, -1, error))
    return NULL;
  return g_steal_pointer (&dst);
}

typedef struct {
  double score, x0, y0, x1, y1;
} Box;

static int
compare_score (gconstpointer a,
               gconstpointer b)
{
  const Box *ba = a, *bb = b;

  return (ba->score < bb->score) - (ba->score > bb->score);
}

static double
box_iou (const Box *a,
         const Box *b)
{
  double w = MAX (0.0, MIN (a->x1, b->x1) - MAX (a->x0, b->x0));
  double h = MAX (0.0, MIN (a->y1, b->y1) - MAX (a->y0, b->y0));
  double inter = w * h;

  return inter / ((a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - inter);
}

static double
sigmoid (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

/* Decodes the 25-channel grid (CHW) as face-api does: score threshold 0.5,
 * greedy non-maximum suppression at IoU 0.4; boxes relative to the square. */
static GArray *
decode_boxes (const float  *out,
              int           grid,
              const double *anchors)
{
  g_autoptr(GArray) candidates = g_array_new (FALSE, FALSE, sizeof (Box));
  GArray *kept = g_array_new (FALSE, FALSE, sizeof (Box));
  gsize plane = (gsize) grid * grid;

  for (int row = 0; row < grid; row++)
    for (int col = 0; col < grid; col++)
      for (int a = 0; a < 5; a++)
        {
          const float *v = out + (gsize) a * 5 * plane + (gsize) row * grid + col;
          double score = sigmoid (v[4 * plane]);
          double cx, cy, w, h;
          Box box;

          if (score <= 0.5)
            continue;
          cx = (col + sigmoid (v[0])) / grid;
          cy = (row + sigmoid (v[plane])) / grid;
          w = exp (v[2 * plane]) * anchors[2 * a] / grid;
          h = exp (v[3 * plane]) * anchors[2 * a + 1] / grid;
          box = (Box) { score, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2 };
          g_array_append_val (candidates, box);
        }

  g_array_sort (candidates, compare_score);
  for (guint i = 0; i < candidates->len; i++)
    {
      const Box *c = &g_array_index (candidates, Box, i);
      gboolean keep = TRUE;

      for (guint j = 0; j < kept->len && keep; j++)
        if (box_iou (c, &g_array_index (kept, Box, j)) > 0.4)
          keep = FALSE;
      if (keep)
        g_array_append_val (kept, *c);
    }
  return kept;
}

/* The photos a ground-truth file names, each once, in its order. */
static GPtrArray *
read_image_list (const char  *gt_file,
                 GError     **error)
{
  g_autofree char *gt_text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *images;

  if (!g_file_get_contents (gt_file, &gt_text, NULL, error))
    return NULL;
  images = g_ptr_array_new_with_free_func (g_free);
  lines = g_strsplit (gt_text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", 2);

      if (fields[0] == NULL || fields[0][0] == '\0' || g_hash_table_contains (seen, fields[0]))
        continue;
      g_ptr_array_add (images, g_strdup (fields[0]));
      g_hash_table_add (seen, images->pdata[images->len - 1]);
    }
  return images;
}

/* @path padded to a square with zeros below or to the right (as face-api,
 * and our detectors, do), resized to @size × @size as TensorFlow does (HWC,
 * 0..255); the photo's own size in @image. */
static double *
load_letterboxed (const char  *path,
                  int          size,
                  Image       *image,
                  GError     **error)
{
  g_autofree double *square = NULL;
  int side;

  if (!image_load (path, image, error))
    return NULL;
  side = MAX (image->width, image->height);
  square = g_new0 (double, (gsize) side * side * 3);
  for (int y = 0; y < image->height; y++)
    memcpy (square + (gsize) y * side * 3, image->data + (gsize) y * image->width * 3,
            (gsize) image->width * 3 * sizeof (double));
  if (side == size)
    return g_steal_pointer (&square);
  return resize_bilinear (square, side, side, 3, size, size);
}

/* The HWC float tensor both sides see, and the planar Darknet input
 * (value / @divisor + @offset, as the originals compute it) from it. */
static void
fill_tensors (const double *resized,
              int           size,
              float         divisor,
              float         offset,
              float        *tensor,
              float        *input)
{
  for (gsize p = 0; p < (gsize) size * size; p++)
    for (int c = 0; c < 3; c++)
      {
        tensor[p * 3 + c] = (float) resized[p * 3 + c];
        input[(gsize) c * size * size + p] = tensor[p * 3 + c] / divisor + offset;
      }
}

static int
run_detect (const char *gt_file,
            const char *models_dir,
            int         size,
            int         step,
            const char *out_dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtNet) net = NULL;
  g_autoptr(GString) list = g_string_new (NULL);
  g_autoptr(GString) boxes = g_string_new (NULL);
  g_autoptr(GPtrArray) images = NULL;
  g_autofree char *gt_dir = g_path_get_dirname (gt_file);
  g_autofree char *cfg = NULL;
  g_autofree char *weights = g_build_filename (models_dir, "face-detector.weights", NULL);
  g_autofree float *input = g_new (float, (gsize) 3 * size * size);
  g_autofree float *tensor = g_new (float, (gsize) 3 * size * size);
  g_autofree char *tensor_name = g_strdup_printf ("det-%d.f32", size);
  g_autofree char *raw_name = g_strdup_printf ("det-%d-darknet.f32", size);
  g_autofree char *list_path = g_strdup_printf ("%s/det-%d-images.txt", out_dir, size);
  g_autofree char *boxes_path = g_strdup_printf ("%s/det-%d-darknet-boxes.txt", out_dir, size);
  double anchors[10];
  int grid = size / 32;
  FILE *tensor_file, *raw_file;

  if (!(cfg = write_sized_cfg (models_dir, size, out_dir, anchors, &error)) ||
      !(net = mt_net_load (cfg, weights, &error)) ||
      !(images = read_image_list (gt_file, &error)) ||
      !(tensor_file = open_out (out_dir, tensor_name, &error)) ||
      !(raw_file = open_out (out_dir, raw_name, &error)))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (mt_net_get_output_size (net) != (gsize) 25 * grid * grid)
    {
      g_printerr ("face-detector at %d gives %zu outputs, %d expected\n",
                  size, (size_t) mt_net_get_output_size (net), 25 * grid * grid);
      return 1;
    }

  for (guint i = 0; i < images->len; i += (guint) step)
    {
      g_autofree char *path = g_build_filename (gt_dir, images->pdata[i], NULL);
      g_autofree double *resized = NULL;
      g_autoptr(GArray) found = NULL;
      Image image = { 0 };
      int side;
      const float *out;

      if (!(resized = load_letterboxed (path, size, &image, &error)))
        {
          g_printerr ("%s: %s\n", path, error->message);
          return 1;
        }
      side = MAX (image.width, image.height);

      fill_tensors (resized, size, 255.0f, 0.0f, tensor, input);
      if (!write_floats (tensor_file, tensor, (gsize) 3 * size * size, &error))
        return 1;

      out = mt_net_forward (net, input);
      if (!write_floats (raw_file, out, (gsize) 25 * grid * grid, &error))
        return 1;

      g_string_append_printf (list, "%s %d %d\n", (const char *) images->pdata[i], image.width, image.height);
      found = decode_boxes (out, grid, anchors);
      for (guint j = 0; j < found->len; j++)
        {
          const Box *b = &g_array_index (found, Box, j);

          g_string_append_printf (boxes, "%s %.6f %.3f %.3f %.3f %.3f\n", (const char *) images->pdata[i],
                                  b->score, b->x0 * side, b->y0 * side,
                                  (b->x1 - b->x0) * side, (b->y1 - b->y0) * side);
        }
      image_clear (&image);
    }
  fclose (tensor_file);
  fclose (raw_file);

  if (!g_file_set_contents (list_path, list->str, -1, &error) ||
      !g_file_set_contents (boxes_path, boxes->str, -1, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  return 0;
}

/* BlazeFace (blazeface-back at its own 256): the photos letterboxed as our
 * detector does (image at the top-left, black below or right), resized as
 * TensorFlow does.  Written per image: the HWC tensor (0..255), and the
 * heads' raw outputs in the original's order (the 16x16 head's cells, two
 * anchors each, then the 8x8 head's, six each; per anchor the score logit
 * and the 16 regressors), and the boxes a plain decoding finds (score above
 * 0.5, greedy suppression at IoU 0.3), in photo pixels. */
#define BF_SIZE 256
#define BF_VALUES 17

static int
run_blazeface (const char *gt_file,
               const char *models_dir,
               const char *out_dir)
{
  /* The head layers, as models/moodtunes-models.ini names them. */
  static const int heads[2] = { 100, 104 };
  g_autoptr(GError) error = NULL;
  g_autoptr(MtNet) net = NULL;
  g_autoptr(GString) list = g_string_new (NULL);
  g_autoptr(GString) boxes = g_string_new (NULL);
  g_autoptr(GPtrArray) images = NULL;
  g_autofree char *gt_dir = g_path_get_dirname (gt_file);
  g_autofree float *input = g_new (float, (gsize) 3 * BF_SIZE * BF_SIZE);
  g_autofree float *tensor = g_new (float, (gsize) 3 * BF_SIZE * BF_SIZE);
  g_autofree char *list_path = g_build_filename (out_dir, "bf-images.txt", NULL);
  g_autofree char *boxes_path = g_build_filename (out_dir, "bf-darknet-boxes.txt", NULL);
  g_autoptr(GArray) raw = g_array_new (FALSE, FALSE, sizeof (float));
  FILE *tensor_file, *raw_file;

  if (!(net = load_model (models_dir, "blazeface-back", &error)) ||
      !(images = read_image_list (gt_file, &error)) ||
      !(tensor_file = open_out (out_dir, "bf.f32", &error)) ||
      !(raw_file = open_out (out_dir, "bf-darknet.f32", &error)))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  for (guint i = 0; i < images->len; i++)
    {
      g_autofree char *path = g_build_filename (gt_dir, images->pdata[i], NULL);
      g_autofree double *resized = NULL;
      g_autoptr(GArray) candidates = g_array_new (FALSE, FALSE, sizeof (Box));
      g_autoptr(GArray) kept = g_array_new (FALSE, FALSE, sizeof (Box));
      Image image = { 0 };
      int side;

      if (!(resized = load_letterboxed (path, BF_SIZE, &image, &error)))
        {
          g_printerr ("%s: %s\n", path, error->message);
          return 1;
        }
      side = MAX (image.width, image.height);
      fill_tensors (resized, BF_SIZE, 127.5f, -1.0f, tensor, input);
      if (!write_floats (tensor_file, tensor, (gsize) 3 * BF_SIZE * BF_SIZE, &error))
        return 1;
      mt_net_forward (net, input);

      g_array_set_size (raw, 0);
      for (guint h = 0; h < G_N_ELEMENTS (heads); h++)
        {
          const float *out = mt_net_get_layer_output (net, heads[h], NULL);
          int gw, gh, c, n_anchors, stride;
          gsize plane;

          mt_net_get_layer_shape (net, heads[h], &gw, &gh, &c);
          n_anchors = c / BF_VALUES;
          stride = BF_SIZE / gw;
          plane = (gsize) gw * gh;
          for (gsize p = 0; p < plane; p++)
            for (int a = 0; a < n_anchors; a++)
              {
                float v[BF_VALUES];
                double score;

                v[0] = out[a * plane + p];
                for (int k = 0; k < 16; k++)
                  v[1 + k] = out[(n_anchors + a * 16 + k) * plane + p];
                g_array_append_vals (raw, v, BF_VALUES);

                score = sigmoid (v[0]);
                if (score > 0.5)
                  {
                    double cx = ((p % gw) + 0.5) * stride + v[1], cy = ((p / gw) + 0.5) * stride + v[2];
                    Box box = { score, cx - v[3] / 2, cy - v[4] / 2, cx + v[3] / 2, cy + v[4] / 2 };

                    g_array_append_val (candidates, box);
                  }
              }
        }
      if (!write_floats (raw_file, (const float *) raw->data, raw->len, &error))
        return 1;

      g_array_sort (candidates, compare_score);
      for (guint j = 0; j < candidates->len; j++)
        {
          const Box *b = &g_array_index (candidates, Box, j);
          gboolean keep = TRUE;

          for (guint k = 0; k < kept->len && keep; k++)
            keep = box_iou (b, &g_array_index (kept, Box, k)) <= 0.3;
          if (keep)
            {
              g_array_append_val (kept, *b);
              g_string_append_printf (boxes, "%s %.6f %.3f %.3f %.3f %.3f\n", (const char *) images->pdata[i],
                                      b->score, b->x0 * side / BF_SIZE, b->y0 * side / BF_SIZE,
                                      (b->x1 - b->x0) * side / BF_SIZE, (b->y1 - b->y0) * side / BF_SIZE);
            }
        }
      g_string_append_printf (list, "%s %d %d\n", (const char *) images->pdata[i], image.width, image.height);
      image_clear (&image);
    }
  fclose (tensor_file);
  fclose (raw_file);

  if (!g_file_set_contents (list_path, list->str, -1, &error) ||
      !g_file_set_contents (boxes_path, boxes->str, -1, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("darknet: %u photos through blazeface-back\n", images->len);
  return 0;
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 5 && g_str_equal (argv[1], "blazeface"))
    return run_blazeface (argv[2], argv[3], argv[4]);
  if (argc == 5 && g_str_equal (argv[1], "fer"))
    return run_fer (argv[2], argv[3], argv[4]);
  if (argc == 7 && g_str_equal (argv[1], "detect"))
    {
      int size = atoi (argv[4]), step = atoi (argv[5]);

      if (size < 32 || size % 32 != 0 || size > 1024 || step < 1)
        {
          g_printerr ("SIZE must be a multiple of 32 (32..1024), STEP at least 1\n");
          return 2;
        }
      return run_detect (argv[2], argv[3], size, step, argv[6]);
    }
  g_printerr ("Usage: %s fer FER_DIR MODELS_DIR OUT_DIR\n"
              "       %s detect GT_FILE MODELS_DIR SIZE STEP OUT_DIR\n"
              "       %s blazeface GT_FILE MODELS_DIR OUT_DIR\n", argv[0], argv[0], argv[0]);
  return 2;
}
