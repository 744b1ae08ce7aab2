/* moodtunes-train-head: fits a new expression head on the pooled features of
 * both converted classifiers, and writes it as a Darknet network.
 *
 *   moodtunes-train-head --train DIR [--choose DIR] [--output DIR] [--cache FILE]
 *
 * DIR holds one folder of images per expression (FER2013's layout).  The head
 * is multinomial logistic regression (a Darknet [connected] layer + [softmax])
 * on the mirrored-averaged features of emotion-xception and face-expression;
 * feature standardisation is folded into its weights.  Training is
 * deterministic: same images, same head. */
#define G_LOG_DOMAIN "moodtunes-train-head"

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mt-analyzer.h"
#include "mt-darknet-writer.h"
#include "mt-expression-head.h"
#include "mt-image.h"

typedef struct {
  guint  n;
  guint  dim;
  float *x;      /* n × dim features */
  float *xc;     /* n × MT_N_MOODS mini-Xception probabilities */
  guint8 *y;     /* n labels */
} Dataset;

#define XC_BYTES(d) ((gsize) (d)->n * MT_N_MOODS * 4)

static void
dataset_clear (Dataset *d)
{
  g_clear_pointer (&d->x, g_free);
  g_clear_pointer (&d->xc, g_free);
  g_clear_pointer (&d->y, g_free);
}

/* More images than FER2013 has many times over: a cache header claiming
 * more is not ours. */
#define MAX_CACHED_IMAGES (16u * 1024 * 1024)

/* Reads a feature cache written by save_cache() for features of @dim values.
 * FALSE (features are extracted again) for a missing, foreign or damaged
 * file: every size is checked without overflow before anything is copied. */
static gboolean
load_cache (const char *path, guint dim, Dataset *d)
{
  g_autofree char *contents = NULL;
  gsize length, row = 0, expected = 0;
  guint32 header[2];

  if (path == NULL || !g_file_get_contents (path, &contents, &length, NULL) || length < 8)
    return FALSE;
  memcpy (header, contents, 8);
  if (header[0] == 0 || header[0] > MAX_CACHED_IMAGES || header[1] != dim ||
      !g_size_checked_mul (&row, header[1], 4) ||
      !g_size_checked_add (&row, row, MT_N_MOODS * 4 + 1) ||
      !g_size_checked_mul (&expected, header[0], row) ||
      !g_size_checked_add (&expected, expected, 8) ||
      length != expected)
    {
      g_printerr ("moodtunes-train-head: ignoring the cache %s (not one for these features)\n", path);
      return FALSE;
    }
  for (gsize i = length - header[0]; i < length; i++)
    if ((guint8) contents[i] >= MT_N_MOODS)
      {
        g_printerr ("moodtunes-train-head: ignoring the cache %s (a label out of range)\n", path);
        return FALSE;
      }
  d->n = header[0];
  d->dim = header[1];
  d->x = g_memdup2 (contents + 8, (gsize) d->n * d->dim * 4);
  d->xc = g_memdup2 (contents + 8 + (gsize) d->n * d->dim * 4, XC_BYTES (d));
  d->y = g_memdup2 (contents + 8 + (gsize) d->n * d->dim * 4 + XC_BYTES (d), d->n);
  return TRUE;
}

static void
save_cache (const char *path, const Dataset *d)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  guint32 header[2] = { d->n, d->dim };

  if (path == NULL)
    return;
  g_byte_array_append (bytes, (guint8 *) header, 8);
  g_byte_array_append (bytes, (guint8 *) d->x, d->n * d->dim * 4);
  g_byte_array_append (bytes, (guint8 *) d->xc, XC_BYTES (d));
  g_byte_array_append (bytes, d->y, d->n);
  g_file_set_contents (path, (char *) bytes->data, bytes->len, NULL);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* Features of every image below @root/<emotion>/, in sorted order. */
static gboolean
extract (MtExpressionHead *head, const char *root, Dataset *d, GError **error)
{
  g_autoptr(GArray) x = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GArray) xc = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GByteArray) y = g_byte_array_new ();
  guint dim = mt_expression_head_get_n_features (head);
  g_autofree float *row = g_new (float, dim);

  for (int e = 0; e < MT_N_MOODS; e++)
    {
      g_autofree char *folder = g_build_filename (root, mt_mood_to_string (e), NULL);
      g_autoptr(GDir) dir = g_dir_open (folder, 0, error);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        return FALSE;
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_strings);

      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *path = g_build_filename (folder, g_ptr_array_index (names, i), NULL);
          g_autoptr(MtImage) image = mt_image_load (path, error);
          const MtFrame *frame;
          float side;
          float xception[MT_N_MOODS];
          guint8 label = (guint8) e;

          if (image == NULL)
            {
              g_prefix_error (error, "%s: ", path);
              return FALSE;
            }
          frame = mt_image_get_frame (image);
          side = MAX (frame->width, frame->height);
          if (!mt_expression_head_read_features (head, frame, (frame->width - side) / 2,
                                                 (frame->height - side) / 2, side, TRUE, row,
                                                 xception, error))
            return FALSE;
          g_array_append_vals (x, row, dim);
          g_array_append_vals (xc, xception, MT_N_MOODS);
          g_byte_array_append (y, &label, 1);
        }
      g_printerr ("%s: %u images\n", folder, names->len);
    }

  if (y->len == 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "no images under %s/<expression>/ (folders named angry, disgust, fear, happy, "
                   "sad, surprise and neutral)", root);
      return FALSE;
    }
  d->n = y->len;
  d->dim = dim;
  d->x = (float *) g_array_free (g_steal_pointer (&x), FALSE);
  d->xc = (float *) g_array_free (g_steal_pointer (&xc), FALSE);
  d->y = g_byte_array_free (g_steal_pointer (&y), FALSE);
  return TRUE;
}

/* The head: standardised features, an optional hidden ReLU layer, softmax.
 * All parameters live in one array so Adam can treat them alike. */
typedef struct {
  guint  dim;
  guint  hidden;     /* 0: plain logistic regression */
  float *mean, *inv_std;
  float *params;
  guint  n_params;
  float *w1, *b1;    /* hidden × dim, hidden (when hidden > 0) */
  float *w2, *b2;    /* MT_N_MOODS × (hidden or dim), MT_N_MOODS */
} Head;

static guint
head_inputs_to_output (const Head *h)
{
  return h->hidden ? h->hidden : h->dim;
}

static void
head_init (Head *h, const Dataset *d, guint hidden, GRand *rand)
{
  guint mid;

  h->dim = d->dim;
  h->hidden = hidden;
  mid = head_inputs_to_output (h);
  h->n_params = (hidden ? hidden * (d->dim + 1) : 0) + MT_N_MOODS * (mid + 1);
  h->params = g_new0 (float, h->n_params);
  h->w1 = h->params;
  h->b1 = h->w1 + (hidden ? hidden * d->dim : 0);
  h->w2 = h->b1 + hidden;
  h->b2 = h->w2 + MT_N_MOODS * mid;
  /* He initialisation for the hidden layer; the output starts at zero. */
  for (guint j = 0; j < hidden * d->dim; j++)
    h->w1[j] = (float) (g_rand_double_range (rand, -1, 1) * sqrt (6.0 / d->dim));

  h->mean = g_new0 (float, d->dim);
  h->inv_std = g_new0 (float, d->dim);
  for (guint j = 0; j < d->dim; j++)
    {
      double sum = 0, sq = 0;
      for (guint i = 0; i < d->n; i++)
        {
          double v = d->x[(gsize) i * d->dim + j];
          sum += v;
          sq += v * v;
        }
      h->mean[j] = (float) (sum / d->n);
      h->inv_std[j] = (float) (1.0 / sqrt (MAX (sq / d->n - (sum / d->n) * (sum / d->n), 1e-8)));
    }
}

static void
head_clear (Head *h)
{
  g_clear_pointer (&h->mean, g_free);
  g_clear_pointer (&h->inv_std, g_free);
  g_clear_pointer (&h->params, g_free);
}

/* Fills @z (standardised input), @a (hidden activations) and @p. */
static void
head_forward (const Head *h, const float *x, float *z, float *a, float *p)
{
  guint mid = head_inputs_to_output (h);
  const float *in = h->hidden ? a : z;
  float max = -INFINITY, sum = 0;

  for (guint j = 0; j < h->dim; j++)
    z[j] = (x[j] - h->mean[j]) * h->inv_std[j];
  for (guint u = 0; u < h->hidden; u++)
    {
      float v = h->b1[u];
      const float *w = h->w1 + (gsize) u * h->dim;
      for (guint j = 0; j < h->dim; j++)
        v += w[j] * z[j];
      a[u] = MAX (v, 0.0f);
    }
  for (int k = 0; k < MT_N_MOODS; k++)
    {
      float v = h->b2[k];
      for (guint j = 0; j < mid; j++)
        v += h->w2[k * mid + j] * in[j];
      p[k] = v;
      max = MAX (max, v);
    }
  for (int k = 0; k < MT_N_MOODS; k++)
    sum += p[k] = expf (p[k] - max);
  for (int k = 0; k < MT_N_MOODS; k++)
    p[k] /= sum;
}

/* Accuracy of the head blended with the mini-Xception's reading. */
static double
accuracy (const Head *h, const Dataset *d, float xception_weight)
{
  g_autofree float *z = g_new (float, h->dim);
  g_autofree float *a = g_new (float, MAX (h->hidden, 1));
  guint right = 0;

  for (guint i = 0; i < d->n; i++)
    {
      float p[MT_N_MOODS];
      head_forward (h, d->x + (gsize) i * d->dim, z, a, p);
      for (int k = 0; k < MT_N_MOODS; k++)
        p[k] = xception_weight * d->xc[i * MT_N_MOODS + k] + (1 - xception_weight) * p[k];
      right += mt_mood_argmax (p) == d->y[i];
    }
  return 100.0 * right / d->n;
}

/* Mini-batch Adam on the cross-entropy with an L2 penalty on the weights; a
 * fixed seed and order make it repeatable. */
static void
train (Head *h, const Dataset *d, double l2, int epochs, GRand *rand)
{
  const int batch = 128;
  const float lr = 0.002f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  guint mid = head_inputs_to_output (h);
  g_autofree float *m = g_new0 (float, h->n_params);
  g_autofree float *v = g_new0 (float, h->n_params);
  g_autofree float *grad = g_new0 (float, h->n_params);
  g_autofree float *z = g_new (float, h->dim);
  g_autofree float *a = g_new (float, MAX (h->hidden, 1));
  g_autofree float *da = g_new (float, MAX (h->hidden, 1));
  g_autofree guint *order = g_new (guint, d->n);
  float *gw1 = grad, *gb1 = gw1 + (h->w1 == h->b1 ? 0 : h->hidden * h->dim);
  float *gw2 = gb1 + h->hidden, *gb2 = gw2 + MT_N_MOODS * mid;
  int step = 0;

  for (guint i = 0; i < d->n; i++)
    order[i] = i;

  for (int epoch = 0; epoch < epochs; epoch++)
    {
      for (guint i = d->n - 1; i > 0; i--)
        {
          guint j = g_rand_int_range (rand, 0, i + 1), t = order[i];
          order[i] = order[j];
          order[j] = t;
        }

      for (guint start = 0; start < d->n; start += batch)
        {
          guint end = MIN (start + batch, d->n);
          float scale = 1.0f / (end - start);
          float c1, c2;

          memset (grad, 0, h->n_params * sizeof (float));
          for (guint s = start; s < end; s++)
            {
              float p[MT_N_MOODS];
              const float *in;

              head_forward (h, d->x + (gsize) order[s] * d->dim, z, a, p);
              in = h->hidden ? a : z;
              p[d->y[order[s]]] -= 1.0f;
              memset (da, 0, MAX (h->hidden, 1) * sizeof (float));
              for (int k = 0; k < MT_N_MOODS; k++)
                {
                  float g = p[k] * scale;
                  for (guint j = 0; j < mid; j++)
                    {
                      gw2[k * mid + j] += g * in[j];
                      if (h->hidden)
                        da[j] += g * h->w2[k * mid + j];
                    }
                  gb2[k] += g;
                }
              for (guint u = 0; u < h->hidden; u++)
                {
                  float *gw = gw1 + (gsize) u * h->dim;
                  if (a[u] <= 0)
                    continue;
                  for (guint j = 0; j < h->dim; j++)
                    gw[j] += da[u] * z[j];
                  gb1[u] += da[u];
                }
            }
          for (guint j = 0; j < h->hidden * h->dim; j++)
            gw1[j] += (float) l2 * h->w1[j];
          for (guint j = 0; j < MT_N_MOODS * mid; j++)
            gw2[j] += (float) l2 * h->w2[j];

          step++;
          c1 = 1.0f - powf (beta1, step);
          c2 = 1.0f - powf (beta2, step);
          for (guint j = 0; j < h->n_params; j++)
            {
              m[j] = beta1 * m[j] + (1 - beta1) * grad[j];
              v[j] = beta2 * v[j] + (1 - beta2) * grad[j] * grad[j];
              h->params[j] -= lr * (m[j] / c1) / (sqrtf (v[j] / c2) + eps);
            }
        }
    }
}

/* Darknet computes W x + b on raw features: fold the standardisation into
 * the first layer. */
static gboolean
save_head (const Head *h, const char *dir, const char *train_dir, double l2, int epochs,
           double train_acc, GError **error)
{
  g_autoptr(MtDarknetWriter) writer = mt_darknet_writer_new ();
  guint first_out = h->hidden ? h->hidden : MT_N_MOODS;
  const float *w_first = h->hidden ? h->w1 : h->w2;
  const float *b_first = h->hidden ? h->b1 : h->b2;
  g_autofree float *w = g_new (float, first_out * h->dim);
  g_autofree float *b = g_new (float, first_out);
  g_autofree char *split = g_path_get_basename (train_dir);
  const char *names[MT_N_MOODS + 1];

  for (guint k = 0; k < first_out; k++)
    {
      b[k] = b_first[k];
      for (guint j = 0; j < h->dim; j++)
        {
          w[k * h->dim + j] = w_first[k * h->dim + j] * h->inv_std[j];
          b[k] -= w[k * h->dim + j] * h->mean[j];
        }
    }
  for (int k = 0; k < MT_N_MOODS; k++)
    names[k] = mt_mood_to_string (k);
  names[MT_N_MOODS] = NULL;

  mt_darknet_writer_comment (writer, "Moodtunes expression head: %s on the mirrored-averaged",
                             h->hidden ? "a one-hidden-layer perceptron" : "multinomial logistic regression");
  mt_darknet_writer_comment (writer, "global-average-pool features (256) of face-expression.");
  mt_darknet_writer_comment (writer, "Fitted by moodtunes-train-head on FER2013 %s/ (%u hidden units, L2 %g,", split, h->hidden, l2);
  mt_darknet_writer_comment (writer, "%d epochs, seed 2013; %.2f%% on its own training images); feature", epochs, train_acc);
  mt_darknet_writer_comment (writer, "standardisation folded into the first layer. The analyzer blends its");
  mt_darknet_writer_comment (writer, "output with emotion-xception's reading.");
  mt_darknet_writer_set_input (writer, h->dim, 1, 1);
  if (mt_darknet_writer_add_connected (writer, h->hidden ? "hidden layer" : "logits", first_out,
                                       h->hidden ? MT_DARKNET_RELU : MT_DARKNET_LINEAR, b, w, error) < 0)
    return FALSE;
  if (h->hidden &&
      mt_darknet_writer_add_connected (writer, "logits", MT_N_MOODS, MT_DARKNET_LINEAR,
                                       h->b2, h->w2, error) < 0)
    return FALSE;
  if (mt_darknet_writer_add_softmax (writer, "probabilities", error) < 0)
    return FALSE;
  return mt_darknet_writer_save (writer, dir, MT_EXPRESSION_HEAD_NAME, names, error);
}

int
main (int argc, char *argv[])
{
  g_autofree char *train_dir = NULL, *choose_dir = NULL, *output = NULL, *cache = NULL, *models = NULL;
  double l2 = 1e-3;
  int epochs = 30;
  int hidden = 0;

  const GOptionEntry entries[] = {
    { "train", 0, 0, G_OPTION_ARG_FILENAME, &train_dir, "Images to fit on (a folder per expression)", "DIR" },
    { "choose", 0, 0, G_OPTION_ARG_FILENAME, &choose_dir, "Images to report accuracy on", "DIR" },
    { "output", 0, 0, G_OPTION_ARG_FILENAME, &output, "Where to write the head (default: no file)", "DIR" },
    { "models-dir", 0, 0, G_OPTION_ARG_FILENAME, &models, "Folder of the converted classifiers", "DIR" },
    { "cache", 0, 0, G_OPTION_ARG_FILENAME, &cache, "Feature cache prefix (speeds up repeated runs)", "FILE" },
    { "l2", 0, 0, G_OPTION_ARG_DOUBLE, &l2, "L2 penalty (default 1e-3)", "X" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &epochs, "Passes over the training images (default 30)", "N" },
    { "hidden", 0, 0, G_OPTION_ARG_INT, &hidden, "Hidden ReLU units (default 0: logistic regression)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- fit the expression head");
  g_autoptr(GError) error = NULL;
  g_autoptr(MtExpressionHead) head = NULL;
  g_autofree char *train_cache = NULL, *choose_cache = NULL;
  Dataset train_set = { 0 }, choose_set = { 0 };
  Head h = { 0 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (2013);
  double train_acc;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || train_dir == NULL || epochs < 1 || l2 < 0 || hidden < 0 || hidden > 4096)
    {
      g_printerr ("moodtunes-train-head: %s\n", error ? error->message : "--train DIR is needed (see --help)");
      return 2;
    }

  head = mt_expression_head_new (models ? models : mt_analyzer_get_default_models_dir (), FALSE, &error);
  if (head == NULL)
    {
      g_printerr ("moodtunes-train-head: %s\n", error->message);
      return 3;
    }

  train_cache = cache ? g_strconcat (cache, ".train", NULL) : NULL;
  choose_cache = cache ? g_strconcat (cache, ".choose", NULL) : NULL;
  if (!load_cache (train_cache, mt_expression_head_get_n_features (head), &train_set))
    {
      if (!extract (head, train_dir, &train_set, &error))
        {
          g_printerr ("moodtunes-train-head: %s\n", error->message);
          return 1;
        }
      save_cache (train_cache, &train_set);
    }
  if (choose_dir && !load_cache (choose_cache, mt_expression_head_get_n_features (head), &choose_set))
    {
      if (!extract (head, choose_dir, &choose_set, &error))
        {
          g_printerr ("moodtunes-train-head: %s\n", error->message);
          return 1;
        }
      save_cache (choose_cache, &choose_set);
    }

  head_init (&h, &train_set, hidden, rand);
  train (&h, &train_set, l2, epochs, rand);
  train_acc = accuracy (&h, &train_set, 0);
  printf ("hidden %d l2 %g epochs %d: head alone on its training images %.2f%%\n", hidden, l2, epochs, train_acc);
  if (choose_dir)
    {
      printf ("%s, by weight of emotion-xception's reading:\n", choose_dir);
      for (int w = 0; w <= 10; w++)
        printf ("  %.1f: %.2f%%%s\n", w / 10.0, accuracy (&h, &choose_set, w / 10.0f),
                fabsf (w / 10.0f - MT_EXPRESSION_HEAD_XCEPTION_WEIGHT) < 1e-3f ? "  (the analyzer's)" : "");
    }

  if (output && !save_head (&h, output, train_dir, l2, epochs, train_acc, &error))
    {
      g_printerr ("moodtunes-train-head: %s\n", error->message);
      return 1;
    }

  dataset_clear (&train_set);
  dataset_clear (&choose_set);
  head_clear (&h);
  return 0;
}
