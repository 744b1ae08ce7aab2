/* test-fast-layers.c: the fast layer kernels give Darknet's results.
 *
 * Each test writes a Darknet cfg and random weights (seeded GRand), loads it
 * with mt_net_load(), runs the same random input with Darknet's own forward
 * functions and with the fast ones, and compares every layer's output.
 */
#define G_LOG_DOMAIN "test-fast-layers"

#include "config.h"
#include "mt-tree-paths.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "mt-darknet.h"
#include "mt-fast-kernels.h"

#define TOLERANCE 1e-4

/* Layers the last compare_with_team() split. */
static guint64 last_split_layers;

/* ---- writing networks --------------------------------------------------- */

typedef struct {
  int w, h, c;
} Shape;

typedef struct {
  guint  count;
  double scale;     /* uniform in [-scale, scale] */
  guint  size;      /* kernel size for tap masks, 0 for none */
  guint  tap_mask;  /* bit ky * size + kx set: tap kept; 0 keeps all */
} Block;

typedef struct {
  GString  *cfg;
  GArray   *shapes;   /* Shape: output of each layer */
  GArray   *blocks;   /* Block: parameters in the .weights order */
  GArray   *expect_fast;  /* gboolean per layer */
  Shape     in;
  Shape     cur;
} NetBuilder;

static NetBuilder *
net_builder_new (int w,
                 int h,
                 int c)
{
  NetBuilder *b = g_new0 (NetBuilder, 1);

  b->cfg = g_string_new (NULL);
  g_string_append_printf (b->cfg, "[net]\nwidth=%d\nheight=%d\nchannels=%d\n", w, h, c);
  b->shapes = g_array_new (FALSE, FALSE, sizeof (Shape));
  b->blocks = g_array_new (FALSE, FALSE, sizeof (Block));
  b->expect_fast = g_array_new (FALSE, FALSE, sizeof (gboolean));
  b->in = b->cur = (Shape) { w, h, c };
  return b;
}

static void
net_builder_free (NetBuilder *b)
{
  g_string_free (b->cfg, TRUE);
  g_array_unref (b->shapes);
  g_array_unref (b->blocks);
  g_array_unref (b->expect_fast);
  g_free (b);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetBuilder, net_builder_free)

static void
add_layer (NetBuilder *b,
           Shape       out,
           gboolean    fast)
{
  g_array_append_val (b->shapes, out);
  g_array_append_val (b->expect_fast, fast);
  b->cur = out;
}

static void
add_block (NetBuilder *b,
           guint       count,
           double      scale,
           guint       size,
           guint       tap_mask)
{
  Block block = { count, scale, size, tap_mask };

  g_array_append_val (b->blocks, block);
}

/* @padding >= 0 writes padding=N, -1 writes pad=1 (Darknet: size / 2).
 * @tap_mask zeroes every weight of the taps whose bit is clear. */
static void
add_conv_masked (NetBuilder *b,
                 int         filters,
                 int         size,
                 int         stride,
                 int         padding,
                 int         groups,
                 const char *activation,
                 guint       tap_mask)
{
  int pad = padding >= 0 ? padding : size / 2;
  Shape out = {
    (b->cur.w + 2 * pad - size) / stride + 1,
    (b->cur.h + 2 * pad - size) / stride + 1,
    filters,
  };
  int fan_in = b->cur.c / groups * size * size;
  gboolean fast = groups == 1 || (groups == b->cur.c && groups == filters);

  g_string_append_printf (b->cfg, "\n[convolutional]\nfilters=%d\nsize=%d\nstride=%d\n",
                          filters, size, stride);
  if (padding >= 0)
    g_string_append_printf (b->cfg, "padding=%d\n", padding);
  else
    g_string_append (b->cfg, "pad=1\n");
  if (groups != 1)
    g_string_append_printf (b->cfg, "groups=%d\n", groups);
  g_string_append_printf (b->cfg, "activation=%s\n", activation);

  add_block (b, filters, 0.1, 0, 0);
  /* Variance-preserving weights keep values near 1 through deep stacks. */
  add_block (b, b->cur.c / groups * filters * size * size, sqrt (6.0 / fan_in), size, tap_mask);
  add_layer (b, out, fast);
}

static void
add_conv (NetBuilder *b,
          int         filters,
          int         size,
          int         stride,
          int         padding,
          int         groups,
          const char *activation)
{
  add_conv_masked (b, filters, size, stride, padding, groups, activation, 0);
}

/* @padding < 0 leaves Darknet's default (size - 1). */
static void
add_maxpool (NetBuilder *b,
             int         size,
             int         stride,
             int         padding)
{
  int p = padding >= 0 ? padding : size - 1;
  Shape out = {
    (b->cur.w + p - size) / stride + 1,
    (b->cur.h + p - size) / stride + 1,
    b->cur.c,
  };

  g_string_append_printf (b->cfg, "\n[maxpool]\nsize=%d\nstride=%d\n", size, stride);
  if (padding >= 0)
    g_string_append_printf (b->cfg, "padding=%d\n", padding);
  add_layer (b, out, TRUE);
}

static void
add_avgpool (NetBuilder *b)
{
  g_string_append (b->cfg, "\n[avgpool]\n");
  add_layer (b, (Shape) { 1, 1, b->cur.c }, TRUE);
}

static void
add_shortcut (NetBuilder *b,
              int         from,
              const char *activation)
{
  g_string_append_printf (b->cfg, "\n[shortcut]\nfrom=%d\nactivation=%s\n", from, activation);
  add_layer (b, b->cur, TRUE);
}

/* Relative (negative) indices only. */
static void
add_route (NetBuilder *b,
           int         first,
           int         second)
{
  int n = (int) b->shapes->len;
  Shape a = g_array_index (b->shapes, Shape, n + first);
  Shape out = a;

  g_string_append_printf (b->cfg, "\n[route]\nlayers=%d", first);
  if (second != 0)
    {
      Shape s = g_array_index (b->shapes, Shape, n + second);

      g_assert_cmpint (s.w, ==, a.w);
      g_assert_cmpint (s.h, ==, a.h);
      out.c += s.c;
      g_string_append_printf (b->cfg, ",%d", second);
    }
  g_string_append (b->cfg, "\n");
  add_layer (b, out, FALSE);
}

static void
add_connected (NetBuilder *b,
               int         outputs,
               const char *activation)
{
  int inputs = b->cur.w * b->cur.h * b->cur.c;

  g_string_append_printf (b->cfg, "\n[connected]\noutput=%d\nactivation=%s\n", outputs, activation);
  add_block (b, outputs, 0.1, 0, 0);
  add_block (b, outputs * inputs, sqrt (6.0 / inputs), 0, 0);
  add_layer (b, (Shape) { 1, 1, outputs }, FALSE);
}

static void
add_softmax (NetBuilder *b)
{
  g_string_append (b->cfg, "\n[softmax]\n");
  add_layer (b, b->cur, FALSE);
}

static gboolean
write_file (const char  *path,
            const void  *data,
            gsize        len)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
  return TRUE;
}

/* Writes @b as name.cfg and name.weights in @dir. */
static void
net_builder_write (NetBuilder  *b,
                   GRand       *rand,
                   const char  *dir,
                   const char  *name,
                   char       **cfg_path,
                   char       **weights_path)
{
  g_autoptr(GByteArray) weights = g_byte_array_new ();
  g_autofree char *cfg_name = g_strconcat (name, ".cfg", NULL);
  g_autofree char *weights_name = g_strconcat (name, ".weights", NULL);
  const gint32 header[3] = { 0, 2, 0 };
  const guint64 seen = 0;

  g_byte_array_append (weights, (const guint8 *) header, sizeof header);
  g_byte_array_append (weights, (const guint8 *) &seen, sizeof seen);
  for (guint i = 0; i < b->blocks->len; i++)
    {
      const Block *block = &g_array_index (b->blocks, Block, i);

      for (guint j = 0; j < block->count; j++)
        {
          float v = (float) g_rand_double_range (rand, -block->scale, block->scale);

          if (block->tap_mask != 0 && !(block->tap_mask & (1u << (j % (block->size * block->size)))))
            v = 0.f;
          g_byte_array_append (weights, (const guint8 *) &v, sizeof v);
        }
    }

  *cfg_path = g_build_filename (dir, cfg_name, NULL);
  *weights_path = g_build_filename (dir, weights_name, NULL);
  write_file (*cfg_path, b->cfg->str, b->cfg->len);
  write_file (*weights_path, weights->data, weights->len);
}

/* ---- comparing ---------------------------------------------------------- */

typedef struct {
  char *dir;
  GRand *rand;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("mt-fast-layers-XXXXXX", &error);
  g_assert_no_error (error);
  f->rand = g_rand_new_with_seed (20240611);
  mt_fast_kernels_set_isa (mt_fast_kernels_get_best_isa ());
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_rand_free (f->rand);
  mt_fast_kernels_set_isa (mt_fast_kernels_get_best_isa ());
}

static float *
random_input (GRand *rand,
              gsize  n)
{
  float *input = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    input[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  return input;
}

/* Fills every layer's output with NaN: a layer that writes nothing must
 * not pass. */
static void
poison_outputs (MtNet *net)
{
  for (int i = 0; i < mt_net_get_n_layers (net); i++)
    {
      gsize n;
      float *out = (float *) mt_net_get_layer_output (net, i, &n);

      for (gsize j = 0; j < n; j++)
        out[j] = NAN;
    }
}

/* The fast forward just run on one thread, run again with its larger
 * layers split between two: the same numbers bit for bit, since each
 * output is still summed by one thread in the same order. */
static void
compare_with_team (MtNet       *net,
                   const float *input,
                   const char  *what,
                   MtFastIsa    isa)
{
  int n_layers = mt_net_get_n_layers (net);
  g_autoptr(GPtrArray) alone = g_ptr_array_new_with_free_func (g_free);
  guint64 splits;

  for (int i = 0; i < n_layers; i++)
    {
      gsize n;
      const float *out = mt_net_get_layer_output (net, i, &n);

      g_ptr_array_add (alone, g_memdup2 (out, n * sizeof (float)));
    }

  mt_net_set_n_threads (net, 2);
  g_assert_cmpuint (mt_net_get_n_threads (net), ==, 2);
  splits = mt_net_get_n_split_layers (net);
  poison_outputs (net);
  mt_net_forward (net, input);
  for (int i = 0; i < n_layers; i++)
    {
      gsize n;
      const float *out = mt_net_get_layer_output (net, i, &n);

      if (memcmp (out, g_ptr_array_index (alone, i), n * sizeof (float)) != 0)
        g_error ("%s (%s kernels): layer %d differs on two threads", what,
                 mt_fast_kernels_isa_name (isa), i);
    }
  g_test_message ("%s (%s kernels): %" G_GUINT64_FORMAT " layers split between two threads",
                  what, mt_fast_kernels_isa_name (isa), mt_net_get_n_split_layers (net) - splits);
  last_split_layers = mt_net_get_n_split_layers (net) - splits;
  mt_net_set_n_threads (net, 1);
}

/* Runs @input through Darknet's forward and the fast one (with each kernel
 * build this CPU can run) and checks every layer's output.  Returns the
 * largest difference. */
static double
compare_forwards (MtNet       *net,
                  const float *input,
                  const char  *what)
{
  int n_layers = mt_net_get_n_layers (net);
  g_autoptr(GPtrArray) stock = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (gsize));
  double worst = 0.0;

  mt_net_set_fast (net, FALSE);
  for (int i = 0; i < n_layers; i++)
    g_assert_false (mt_net_layer_is_fast (net, i));
  mt_net_forward (net, input);
  for (int i = 0; i < n_layers; i++)
    {
      gsize n;
      const float *out = mt_net_get_layer_output (net, i, &n);

      g_ptr_array_add (stock, g_memdup2 (out, n * sizeof (float)));
      g_array_append_val (sizes, n);
    }

  for (MtFastIsa isa = MT_FAST_ISA_GENERIC; isa <= mt_fast_kernels_get_best_isa (); isa++)
    {
      mt_fast_kernels_set_isa (isa);
      mt_net_set_fast (net, TRUE);
      poison_outputs (net);
      mt_net_forward (net, input);

      for (int i = 0; i < n_layers; i++)
        {
          gsize n;
          const float *out = mt_net_get_layer_output (net, i, &n);
          const float *ref = g_ptr_array_index (stock, i);
          double max_diff = 0.0;
          gsize at = 0;

          g_assert_cmpuint (n, ==, g_array_index (sizes, gsize, i));
          for (gsize j = 0; j < n; j++)
            {
              double d = fabs ((double) out[j] - (double) ref[j]);

              if (!(d <= max_diff))
                {
                  max_diff = isnan (d) ? INFINITY : d;
                  at = j;
                }
            }
          if (!(max_diff <= TOLERANCE))
            g_error ("%s (%s kernels): layer %d differs by %g at %" G_GSIZE_FORMAT
                     " (fast %g, Darknet %g)", what, mt_fast_kernels_isa_name (isa), i,
                     max_diff, at, out[at], ref[at]);
          worst = MAX (worst, max_diff);
        }
      compare_with_team (net, input, what, isa);
    }
  mt_fast_kernels_set_isa (mt_fast_kernels_get_best_isa ());
  g_test_message ("%s: largest difference %g", what, worst);
  return worst;
}

/* Builds, loads and compares; checks which layers run fast. */
static void
check_network (Fixture    *f,
               NetBuilder *b,
               const char *name)
{
  g_autofree char *cfg = NULL;
  g_autofree char *weights = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtNet) net = NULL;
  g_autofree float *input = NULL;

  net_builder_write (b, f->rand, f->dir, name, &cfg, &weights);
  net = mt_net_load (cfg, weights, &error);
  if (error)
    g_error ("%s: %s\n%s", name, error->message, b->cfg->str);

  g_assert_cmpint (mt_net_get_n_layers (net), ==, (int) b->shapes->len);
  g_assert_true (mt_net_get_fast (net));
  for (guint i = 0; i < b->shapes->len; i++)
    {
      Shape s = g_array_index (b->shapes, Shape, i);
      gsize n;

      mt_net_get_layer_output (net, (int) i, &n);
      g_assert_cmpuint (n, ==, (gsize) s.w * s.h * s.c);
      if (mt_net_layer_is_fast (net, (int) i) != g_array_index (b->expect_fast, gboolean, i))
        g_error ("%s: layer %u should%s run fast", name, i,
                 g_array_index (b->expect_fast, gboolean, i) ? "" : " not");
    }

  input = random_input (f->rand, mt_net_get_input_size (net));
  compare_forwards (net, input, name);
}

/* Loads @b's network and compares both forwards after resizing it to each
 * of @sizes, the fast layers on at every other size (they follow a resize
 * whether on or off). */
static void
check_resized (Fixture    *f,
               NetBuilder *b,
               const char *name,
               const int (*sizes)[2],
               guint       n_sizes)
{
  g_autofree char *cfg = NULL;
  g_autofree char *weights = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtNet) net = NULL;

  net_builder_write (b, f->rand, f->dir, name, &cfg, &weights);
  net = mt_net_load (cfg, weights, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < n_sizes; i++)
    {
      g_autofree char *what = g_strdup_printf ("%s resized to %dx%d", name, sizes[i][0], sizes[i][1]);
      g_autofree float *input = NULL;

      mt_net_set_fast (net, i % 2 == 0);
      g_assert_true (mt_net_resize (net, sizes[i][0], sizes[i][1], &error));
      g_assert_no_error (error);
      g_assert_cmpint (mt_net_layer_is_fast (net, 0), ==, i % 2 == 0);
      input = random_input (f->rand, mt_net_get_input_size (net));
      compare_forwards (net, input, what);
    }
}

/* ---- tests -------------------------------------------------------------- */

static const char * const activations[] = { "linear", "relu", "leaky", "logistic" };

/* Every size, stride and padding spelling of plain convolutions, each on a
 * copy of the same odd-sized, non-square feature map. */
static void
test_conv_shapes (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(NetBuilder) b = net_builder_new (23, 17, 3);
  const int sizes[] = { 2, 3, 4, 5 };
  const int paddings[] = { -1, 0, 1, 2 };
  int a = 0;

  add_conv (b, 5, 1, 1, 0, 1, "linear");
  for (guint si = 0; si < G_N_ELEMENTS (sizes); si++)
    for (int stride = 1; stride <= 3; stride++)
      for (guint pi = 0; pi < G_N_ELEMENTS (paddings); pi++)
        {
          int back = -(int) b->shapes->len;

          add_route (b, back, 0);
          add_conv (b, 7 + a % 5, sizes[si], stride, paddings[pi], 1,
                    activations[a % G_N_ELEMENTS (activations)]);
          a++;
        }
  check_network (f, b, "conv-shapes");
}

/* The first layers of our networks: 3 input channels, wide outputs, run
 * directly from the input (AVX2 and AVX-512): filter counts that leave
 * blocks of 4, 3 and 1 after the 6-filter tiles (16, 9, 13), and rows that
 * end in a partial vector of under 8 and over 8 columns (67 and 62 wide). */
static void
test_conv_first_layers (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(NetBuilder) b = net_builder_new (67, 45, 3);

  add_conv (b, 16, 3, 1, -1, 1, "leaky");
  add_route (b, -1, 0);
  add_conv (b, 13, 4, 2, 1, 1, "relu");
  check_network (f, b, "conv-first-layers");

  {
    g_autoptr(NetBuilder) b1 = net_builder_new (64, 64, 1);

    add_conv (b1, 8, 3, 1, 0, 1, "relu");
    add_conv (b1, 9, 3, 1, 0, 1, "relu");
    check_network (f, b1, "conv-one-channel");
  }
}

/* 1x1 convolutions as GEMM: row counts around the 6-row tile, column counts
 * around the 16-column tile, 64x64 maps whose rows are 16 KiB apart, and a
 * 67x61 one large enough for panels packed four at a time whose last group
 * holds three and a partial one. */
static void
test_pointwise (Fixture       *f,
                gconstpointer  data)
{
  const int filters[] = { 1, 5, 6, 7, 12, 13, 25, 64 };
  const int channels[] = { 1, 3, 16, 33, 128 };
  const Shape maps[] = { { 1, 1, 0 }, { 4, 4, 0 }, { 7, 7, 0 }, { 17, 3, 0 }, { 64, 64, 0 },
                        { 67, 61, 0 } };

  for (guint m = 0; m < G_N_ELEMENTS (maps); m++)
    for (guint c = 0; c < G_N_ELEMENTS (channels); c++)
      {
        g_autoptr(NetBuilder) b = net_builder_new (maps[m].w, maps[m].h, 3);
        g_autofree char *name = g_strdup_printf ("pointwise-%dx%dx%d", maps[m].w, maps[m].h, channels[c]);

        /* Darknet inputs have at most 4 channels: widen first. */
        add_conv (b, channels[c], 1, 1, 0, 1, "linear");
        for (guint n = 0; n < G_N_ELEMENTS (filters); n++)
          {
            add_route (b, -(int) b->shapes->len, 0);
            add_conv (b, filters[n], 1, 1, n % 2 ? -1 : 0, 1,
                      activations[n % G_N_ELEMENTS (activations)]);
          }
        check_network (f, b, name);
      }
}

/* Depthwise convolutions (groups == channels == filters) in every shape our
 * networks write them, and grouped ones, which stay with Darknet.  55
 * columns: at stride 1 a row takes the 32-wide, 16-wide and 8-wide loops
 * and a partial vector, at stride 2 and 3 other mixes of them. */
static void
test_depthwise (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(NetBuilder) b = net_builder_new (55, 19, 3);
  const int sizes[] = { 2, 3, 4, 5 };
  const int paddings[] = { -1, 0, 1, 2 };
  int a = 0;

  add_conv (b, 12, 3, 1, -1, 1, "leaky");
  for (guint si = 0; si < G_N_ELEMENTS (sizes); si++)
    for (int stride = 1; stride <= 3; stride++)
      for (guint pi = 0; pi < G_N_ELEMENTS (paddings); pi++)
        {
          add_route (b, -(int) b->shapes->len, 0);
          add_conv (b, 12, sizes[si], stride, paddings[pi], 12,
                    activations[a++ % G_N_ELEMENTS (activations)]);
        }
  /* Grouped but not depthwise: Darknet's own forward. */
  add_route (b, -(int) b->shapes->len, 0);
  add_conv (b, 6, 3, 1, -1, 3, "leaky");
  add_route (b, -(int) b->shapes->len, 0);
  add_conv (b, 24, 3, 1, -1, 12, "leaky");
  check_network (f, b, "depthwise");

  /* 3×3 at stride 1 runs rows in pairs on 8-wide vectors: maps narrower
   * than a vector, where a row's last vector reaches past the next row, an
   * even height (the last pair ends the buffer) and an odd one. */
  {
    const Shape narrow[] = { { 3, 6, 0 }, { 5, 7, 0 }, { 9, 4, 0 } };

    for (guint m = 0; m < G_N_ELEMENTS (narrow); m++)
      {
        g_autoptr(NetBuilder) nb = net_builder_new (narrow[m].w, narrow[m].h, 3);
        g_autofree char *name = g_strdup_printf ("depthwise-%dx%d", narrow[m].w, narrow[m].h);

        add_conv (nb, 12, 3, 1, 1, 1, "leaky");
        add_conv (nb, 12, 3, 1, 1, 12, "linear");
        add_conv (nb, 12, 3, 1, 1, 12, "relu");
        check_network (f, nb, name);
      }
  }
}

/* Kernels written larger than they are: 4x4 with padding 1 and a zero last
 * row and column (a "same" 3x3 at stride 2), strided 1x1 as a 3x3 or 2x2
 * with one non-zero tap, both as plain and depthwise convolutions. */
static void
test_zero_taps (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(NetBuilder) b = net_builder_new (32, 21, 4);
  /* 4x4: rows and columns 0..2 kept. */
  const guint first_3x3 = 0x777;
  /* 3x3: centre only; 2x2: top left only. */
  const guint centre = 1u << 4, top_left = 1u;

  add_conv_masked (b, 8, 4, 2, 1, 1, "relu", first_3x3);
  add_conv_masked (b, 8, 4, 2, 1, 8, "relu", first_3x3);
  add_route (b, -2, 0);
  add_conv_masked (b, 10, 3, 2, 1, 1, "linear", centre);
  add_route (b, -4, 0);
  add_conv_masked (b, 10, 2, 2, 0, 1, "linear", top_left);
  add_route (b, -6, 0);
  add_conv_masked (b, 8, 3, 2, 1, 8, "leaky", centre);
  /* All taps zero: the output is the bias. */
  add_route (b, -8, 0);
  add_conv_masked (b, 4, 3, 1, 1, 1, "linear", 1u << 9);
  check_network (f, b, "zero-taps");
}

/* Darknet's max pooling: default padding (size - 1), explicit ones, strides
 * 1 to 3, odd sizes where the last window hangs over the edge. */
static void
test_maxpool (Fixture       *f,
              gconstpointer  data)
{
  const Shape maps[] = { { 20, 14, 0 }, { 25, 13, 0 }, { 7, 9, 0 }, { 2, 3, 0 } };

  for (guint m = 0; m < G_N_ELEMENTS (maps); m++)
    {
      g_autoptr(NetBuilder) b = net_builder_new (maps[m].w, maps[m].h, 3);
      g_autofree char *name = g_strdup_printf ("maxpool-%dx%d", maps[m].w, maps[m].h);

      add_conv (b, 5, 3, 1, -1, 1, "linear");
      for (int size = 1; size <= 4; size++)
        for (int stride = 1; stride <= 3; stride++)
          for (int padding = -1; padding <= 3; padding++)
            {
              int p = padding >= 0 ? padding : size - 1;

              /* Larger paddings only add windows of -FLT_MAX: refused. */
              if (p > size || maps[m].w + p < size || maps[m].h + p < size)
                continue;
              add_route (b, -(int) b->shapes->len, 0);
              add_maxpool (b, size, stride, padding);
            }
      check_network (f, b, name);
    }
}

/* A small network of each kind we run, with every layer type in it. */
static void
test_detector_like (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(NetBuilder) b = net_builder_new (96, 96, 3);
  int c = 16;

  add_conv (b, c, 3, 1, -1, 1, "leaky");
  add_maxpool (b, 2, 2, -1);
  for (int i = 0; i < 5; i++)
    {
      add_conv (b, c, 3, 1, -1, c, "leaky");
      add_conv (b, c * 2, 1, 1, 0, 1, "leaky");
      c *= 2;
      if (i < 3)
        add_maxpool (b, 2, 2, -1);
    }
  add_maxpool (b, 2, 1, -1);
  add_conv (b, 25, 1, 1, 0, 1, "linear");
  check_network (f, b, "detector-like");
}

static void
test_classifier_like (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(NetBuilder) b = net_builder_new (56, 56, 3);

  add_conv_masked (b, 32, 4, 2, 1, 1, "relu", 0x777);   /* 28x28 */
  add_conv (b, 32, 3, 1, -1, 32, "linear");
  add_conv (b, 32, 1, 1, 0, 1, "relu");
  add_shortcut (b, -3, "linear");
  add_conv (b, 32, 3, 1, -1, 32, "linear");
  add_conv (b, 32, 1, 1, 0, 1, "relu");
  add_route (b, -1, -3);
  add_conv_masked (b, 64, 4, 2, 1, 64, "linear", 0x777); /* 14x14 */
  add_conv (b, 64, 1, 1, 0, 1, "relu");
  add_shortcut (b, -2, "relu");
  add_avgpool (b);
  add_connected (b, 7, "linear");
  add_softmax (b);
  check_network (f, b, "classifier-like");
}

/* Small maps whose columns fill 16-wide vectors badly (36, 49, 25, 9 of
 * them) with filters in multiples of 16 run through the narrow GEMM on
 * AVX-512 CPUs: 48 filters are one tile pair and one single tile, and two
 * threads split them as 16 + 32. */
static void
test_narrow_maps (Fixture       *f,
                  gconstpointer  data)
{
  const int sizes[] = { 6, 7, 5, 3 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(NetBuilder) b = net_builder_new (sizes[i], sizes[i], 3);
      g_autofree char *name = g_strdup_printf ("narrow-%dx%d", sizes[i], sizes[i]);

      add_conv (b, 64, 3, 1, -1, 1, "relu");    /* K = 27: too short for it */
      add_conv (b, 48, 3, 1, -1, 1, "leaky");   /* K = 576 */
      add_conv (b, 64, 3, 1, -1, 1, "relu");    /* K = 432 */
      add_conv (b, 16, 1, 1, 0, 1, "linear");
      add_conv (b, 64, 3, 1, -1, 1, "linear");  /* K = 144 */
      add_conv (b, 64, 3, 1, -1, 1, "relu");    /* K = 576 */
      check_network (f, b, name);
    }
}

static void
test_xception_like (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(NetBuilder) b = net_builder_new (48, 48, 1);

  add_conv (b, 8, 3, 1, 0, 1, "relu");                 /* 46 */
  add_conv (b, 8, 3, 1, 0, 1, "relu");                 /* 44: layer 1 */
  add_conv_masked (b, 16, 3, 2, 1, 1, "linear", 1u << 4); /* residual, 22 */
  add_route (b, -2, 0);
  add_conv (b, 8, 3, 1, -1, 8, "linear");
  add_conv (b, 16, 1, 1, 0, 1, "relu");
  add_conv (b, 16, 3, 1, -1, 16, "linear");
  add_conv (b, 16, 1, 1, 0, 1, "linear");
  add_maxpool (b, 3, 2, 2);                            /* 22 */
  add_shortcut (b, -7, "linear");
  add_conv (b, 7, 3, 1, -1, 1, "linear");
  add_avgpool (b);
  add_softmax (b);
  check_network (f, b, "xception-like");
}

/* BlazeFace's pieces: a 5x5/2 'same' stem written as 6x6 with padding 2,
 * 3x3/2 'same' depthwise as 4x4 with padding 1, a max pooled residual added
 * to a wider layer (Darknet adds it to the first channels), routes back to a
 * block input; also after resizing to a non-square input. */
static void
test_blazeface_like (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NetBuilder) b = net_builder_new (64, 64, 3);
  const int sizes[][2] = { { 96, 64 }, { 64, 64 } };

  add_conv (b, 8, 6, 2, 2, 1, "relu");                   /* 32 */
  add_conv (b, 8, 3, 1, 1, 8, "linear");
  add_conv (b, 8, 1, 1, 0, 1, "linear");
  add_shortcut (b, -3, "relu");                          /* layer 3 */
  add_maxpool (b, 2, 2, 0);                              /* 16x16x8 */
  add_route (b, -2, 0);
  add_conv_masked (b, 8, 4, 2, 1, 8, "linear", 0xeee0);  /* 16 */
  add_conv (b, 16, 1, 1, 0, 1, "linear");
  add_shortcut (b, -4, "relu");                          /* 8 of 16 channels added */
  add_conv (b, 34, 1, 1, 0, 1, "linear");                /* a head */
  add_route (b, -2, 0);
  add_conv_masked (b, 16, 4, 2, 1, 16, "linear", 0xeee0); /* 8 */
  add_conv (b, 16, 1, 1, 0, 1, "linear");
  add_shortcut (b, -2, "linear");
  check_network (f, b, "blazeface-like");

  check_resized (f, b, "blazeface-resize", sizes, G_N_ELEMENTS (sizes));
}

/* Layers large enough to split between threads, one of each way of
 * splitting: a direct first layer by output rows, a pointwise and a 3x3
 * GEMM by output columns, depthwise by channels, a shortcut by elements,
 * and filters where a map has too few columns. */
static void
test_team (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(NetBuilder) b = net_builder_new (97, 75, 3);

  add_conv (b, 16, 3, 1, -1, 1, "leaky");                /* direct (AVX-512) */
  add_conv (b, 24, 1, 1, 0, 1, "relu");                  /* pointwise, columns */
  add_conv (b, 24, 3, 1, -1, 24, "linear");              /* depthwise */
  add_shortcut (b, -2, "relu");                          /* elements */
  add_conv (b, 32, 3, 2, -1, 1, "leaky");                /* im2col, columns */
  add_maxpool (b, 2, 2, -1);
  add_maxpool (b, 2, 2, -1);                             /* 13x10 */
  add_conv (b, 100, 3, 1, -1, 1, "leaky");               /* im2col, filters */
  add_conv (b, 77, 1, 1, 0, 1, "linear");                /* pointwise, filters */
  check_network (f, b, "team");
  g_assert_cmpuint (last_split_layers, >=, 7);
}

/* Switching back and forth keeps Darknet's buffers and results intact. */
static void
test_switching (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(NetBuilder) b = net_builder_new (40, 30, 3);
  g_autofree char *cfg = NULL;
  g_autofree char *weights = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtNet) net = NULL;
  g_autofree float *input = NULL;
  g_autofree float *first = NULL;
  gsize n = 0;

  add_conv (b, 8, 3, 1, -1, 1, "leaky");
  add_maxpool (b, 2, 2, -1);
  add_conv (b, 8, 3, 1, -1, 8, "leaky");
  add_conv (b, 4, 1, 1, 0, 1, "linear");
  net_builder_write (b, f->rand, f->dir, "switching", &cfg, &weights);
  net = mt_net_load (cfg, weights, &error);
  g_assert_no_error (error);
  input = random_input (f->rand, mt_net_get_input_size (net));

  g_assert_true (mt_net_layer_is_fast (net, 0));
  first = g_memdup2 (mt_net_forward (net, input), mt_net_get_output_size (net) * sizeof (float));
  n = mt_net_get_output_size (net);
  for (int round = 0; round < 3; round++)
    {
      const float *out;

      mt_net_set_fast (net, round % 2 == 1);
      g_assert_cmpint (mt_net_layer_is_fast (net, 0), ==, round % 2 == 1);
      out = mt_net_forward (net, input);
      for (gsize i = 0; i < n; i++)
        g_assert_cmpfloat_with_epsilon (out[i], first[i], TOLERANCE);
    }
}

/* mt_net_resize() reallocates every layer: the fast layers follow it. */
static void
test_resize (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(NetBuilder) b = net_builder_new (96, 96, 3);
  const int sizes[][2] = { { 128, 64 }, { 64, 160 }, { 96, 96 } };

  add_conv (b, 16, 3, 1, 0, 1, "leaky");
  add_maxpool (b, 2, 2, -1);
  add_conv (b, 16, 3, 1, -1, 16, "linear");
  add_conv (b, 32, 1, 1, 0, 1, "leaky");
  add_maxpool (b, 2, 2, -1);
  add_conv (b, 32, 3, 1, -1, 32, "linear");
  add_conv (b, 64, 1, 1, 0, 1, "leaky");
  add_maxpool (b, 2, 1, -1);
  add_conv (b, 25, 1, 1, 0, 1, "linear");
  check_resized (f, b, "resize", sizes, G_N_ELEMENTS (sizes));
}

/* The shipped models, when they are there. */
static void
test_real_model (Fixture       *f,
                 gconstpointer  data)
{
  const char *name = data;
  const char *models = g_getenv ("MT_MODELS_DIR");
  g_autofree char *base = NULL;
  g_autofree char *cfg = NULL;
  g_autofree char *weights = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtNet) net = NULL;
  g_autofree float *input = NULL;
  int n_fast = 0;

  if (models == NULL)
    models = MT_SOURCE_MODELS_DIR;
  base = g_build_filename (models, name, NULL);
  cfg = g_strconcat (base, ".cfg", NULL);
  weights = g_strconcat (base, ".weights", NULL);
  if (!g_file_test (cfg, G_FILE_TEST_EXISTS) || !g_file_test (weights, G_FILE_TEST_EXISTS))
    {
      g_autofree char *why = g_strdup_printf ("%s.cfg/.weights not in %s yet", name, models);

      g_test_skip (why);
      return;
    }

  net = mt_net_load (cfg, weights, &error);
  g_assert_no_error (error);
  for (int i = 0; i < mt_net_get_n_layers (net); i++)
    n_fast += mt_net_layer_is_fast (net, i);
  g_test_message ("%s: %d of %d layers fast", name, n_fast, mt_net_get_n_layers (net));
  g_assert_cmpint (n_fast, >, 0);

  /* An image-like input in [0, 1], as the analyzer feeds. */
  input = random_input (f->rand, mt_net_get_input_size (net));
  for (gsize i = 0; i < mt_net_get_input_size (net); i++)
    input[i] = (input[i] + 1.f) / 2.f;
  compare_forwards (net, input, name);
  /* Every converted network has layers worth splitting. */
  g_assert_cmpuint (last_split_layers, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/fast-layers/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("conv-shapes", test_conv_shapes);
  ADD ("conv-first-layers", test_conv_first_layers);
  ADD ("pointwise", test_pointwise);
  ADD ("depthwise", test_depthwise);
  ADD ("zero-taps", test_zero_taps);
  ADD ("maxpool", test_maxpool);
  ADD ("detector-like", test_detector_like);
  ADD ("classifier-like", test_classifier_like);
  ADD ("narrow-maps", test_narrow_maps);
  ADD ("xception-like", test_xception_like);
  ADD ("blazeface-like", test_blazeface_like);
  ADD ("team", test_team);
  ADD ("switching", test_switching);
  ADD ("resize", test_resize);
#undef ADD

  g_test_add ("/fast-layers/model/face-detector", Fixture, "face-detector",
              fixture_set_up, test_real_model, fixture_tear_down);
  g_test_add ("/fast-layers/model/face-expression", Fixture, "face-expression",
              fixture_set_up, test_real_model, fixture_tear_down);
  g_test_add ("/fast-layers/model/emotion-xception", Fixture, "emotion-xception",
              fixture_set_up, test_real_model, fixture_tear_down);
  g_test_add ("/fast-layers/model/blazeface-back", Fixture, "blazeface-back",
              fixture_set_up, test_real_model, fixture_tear_down);
  g_test_add ("/fast-layers/model/moodtunes-expression", Fixture, "moodtunes-expression",
              fixture_set_up, test_real_model, fixture_tear_down);

  return g_test_run ();
}
