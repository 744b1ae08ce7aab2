/* bench-vision: how fast our networks run, stock Darknet against our fast
 * layers, on 640x480 frames with one face, and how far from the core's limit.
 *
 *   bench-vision [--runs N] [--models DIR] [--frames-dir DIR] [--summary FILE]
 *
 * The frames are ../shared/media/astronaut.png, as is and mirrored, in a
 * 640x480 frame.  Prints the median and 90th percentile wall-clock time of
 * each network's forward pass (both detectors at each size, both expression
 * networks; and the per-thread CPU time, which other processes disturb
 * less), the speed-up, the largest difference between the outputs, and the
 * time of whole mt_analyzer_analyze() calls, stock and fast with the same
 * flags (default, single pass, live video) and with face-api.js's networks.
 * Then each network's layers one by one: GFLOP/s of each convolution against
 * one core's peak, measured (fma-peak.c).  --frames-dir writes the frames
 * (raw 640x480 RGB) for bench/vision-opencv.py and bench/vision-faceapi.mjs;
 * --summary writes "key stock_ms fast_ms" lines for bench/vision.sh.  Build
 * it in a release build.
 */
#define G_LOG_DOMAIN "bench-vision"

#include "config.h"
#include "mt-tree-paths.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>

#include "mt-analyzer.h"
#include "mt-face-detector.h"
#include "mt-darknet.h"
#include "mt-fast-kernels.h"
#include "mt-model-manifest.h"
#include "fma-peak.h"

#define FRAME_W 640
#define FRAME_H 480
/* The size models/moodtunes-models.ini gives the analyzer's BlazeFace. */
#define ANALYZER_BLAZEFACE_SIZE 192

static int n_runs = 30;
static MtFmaPeak peak;  /* the widest vectors this CPU has; zeros if none */

typedef struct {
  double wall_median, wall_p90, cpu_median;
} Timing;

static double
cpu_ms (void)
{
  struct timespec t;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
percentile (GArray *values,
            double  p)
{
  g_array_sort (values, compare_doubles);
  return g_array_index (values, double, MIN (values->len - 1, (guint) (p * values->len)));
}

typedef void (*RunFunc) (gpointer data, guint i);

/* Times @runs calls of @run after a few unmeasured ones. */
static Timing
time_runs (RunFunc  run,
           gpointer data,
           int      runs)
{
  g_autoptr(GArray) wall = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cpu = g_array_new (FALSE, FALSE, sizeof (double));
  Timing t;

  for (int i = 0; i < 3; i++)
    run (data, i);
  for (int i = 0; i < runs; i++)
    {
      gint64 w0 = g_get_monotonic_time ();
      double c0 = cpu_ms ();
      double w, c;

      run (data, i);
      c = cpu_ms () - c0;
      w = (g_get_monotonic_time () - w0) / 1000.0;
      g_array_append_val (wall, w);
      g_array_append_val (cpu, c);
    }
  t.wall_median = percentile (wall, 0.5);
  t.wall_p90 = percentile (wall, 0.9);
  t.cpu_median = percentile (cpu, 0.5);
  return t;
}

/* ---- frames and network inputs ------------------------------------------ */

typedef struct {
  char *name;
  GdkPixbuf *frame;    /* 640x480 RGB */
  float face[4];       /* x, y, w, h in frame pixels */
} Frame;

static void
frame_free (Frame *f)
{
  g_free (f->name);
  g_clear_object (&f->frame);
  g_free (f);
}

/* The image scaled to @fill of a 640x480 grey frame's height, mirrored if
 * asked, its left edge at @align (0: left, 1: right) of the free width. */
static GdkPixbuf *
make_frame (const char  *path,
            double       fill,
            gboolean     mirror,
            double       align,
            GError     **error)
{
  g_autoptr(GdkPixbuf) image = gdk_pixbuf_new_from_file (path, error);
  g_autoptr(GdkPixbuf) flipped = NULL;
  GdkPixbuf *frame;
  double scale;
  int w, h, x, y;

  if (image == NULL)
    return NULL;
  if (mirror)
    {
      flipped = gdk_pixbuf_flip (image, TRUE);
      g_set_object (&image, flipped);
    }
  scale = fill * MIN ((double) FRAME_W / gdk_pixbuf_get_width (image),
                      (double) FRAME_H / gdk_pixbuf_get_height (image));
  w = (int) (gdk_pixbuf_get_width (image) * scale);
  h = (int) (gdk_pixbuf_get_height (image) * scale);
  x = (int) ((FRAME_W - w) * align);
  y = (FRAME_H - h) / 2;
  frame = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, FRAME_W, FRAME_H);
  gdk_pixbuf_fill (frame, 0x808080ff);
  gdk_pixbuf_scale (image, frame, x, y, w, h, x, y, scale, scale, GDK_INTERP_BILINEAR);
  return frame;
}

/* Planar input of @width x @height from the region (x, y, w, h) of @pixbuf,
 * bilinear; gray averages the channels; value = (v - mean[c]) * scale. */
static float *
make_input (GdkPixbuf   *pixbuf,
            const float  region[4],
            int          width,
            int          height,
            int          channels,
            const float  mean[3],
            float        scale)
{
  int rx = CLAMP ((int) region[0], 0, gdk_pixbuf_get_width (pixbuf) - 1);
  int ry = CLAMP ((int) region[1], 0, gdk_pixbuf_get_height (pixbuf) - 1);
  int rw = CLAMP ((int) region[2], 1, gdk_pixbuf_get_width (pixbuf) - rx);
  int rh = CLAMP ((int) region[3], 1, gdk_pixbuf_get_height (pixbuf) - ry);
  g_autoptr(GdkPixbuf) sub = gdk_pixbuf_new_subpixbuf (pixbuf, rx, ry, rw, rh);
  g_autoptr(GdkPixbuf) scaled = gdk_pixbuf_scale_simple (sub, width, height, GDK_INTERP_BILINEAR);
  const guint8 *px = gdk_pixbuf_read_pixels (scaled);
  int stride = gdk_pixbuf_get_rowstride (scaled), bpp = gdk_pixbuf_get_n_channels (scaled);
  float *input = g_new (float, (gsize) width * height * channels);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        const guint8 *p = px + (gsize) y * stride + (gsize) x * bpp;

        if (channels == 1)
          input[y * width + x] = ((p[0] + p[1] + p[2]) / 3.f - mean[0]) * scale;
        else
          for (int c = 0; c < 3; c++)
            input[((gsize) c * height + y) * width + x] = (p[c] - mean[c]) * scale;
      }
  return input;
}

/* The detector's input: the frame at the top left of a zero square. */
static float *
make_detector_input (GdkPixbuf *frame,
                     int        size)
{
  const float zero[3] = { 0, 0, 0 };
  float square[4] = { 0, 0, FRAME_W, FRAME_W };
  g_autoptr(GdkPixbuf) padded = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, FRAME_W, FRAME_W);

  gdk_pixbuf_fill (padded, 0);
  gdk_pixbuf_copy_area (frame, 0, 0, FRAME_W, FRAME_H, padded, 0, 0);
  return make_input (padded, square, size, size, 3, zero, 1.f / 255.f);
}

/* ---- networks ----------------------------------------------------------- */

typedef struct {
  MtNet *net;
  GPtrArray *inputs;  /* one per frame */
} NetRun;

static void
run_net (gpointer data,
         guint    i)
{
  NetRun *r = data;

  mt_net_forward (r->net, g_ptr_array_index (r->inputs, i % r->inputs->len));
}

typedef struct {
  char name[64];
  Timing stock, fast;
  Timing split;   /* fast, its layers split between every core (up to 4) */
  double max_diff;
} Result;

static void
print_timing_row (const Result *r)
{
  printf ("%-26s %8.2f %8.2f %8.2f   %7.2f %7.2f %7.2f   %5.1fx %5.1fx   %.3g\n",
          r->name,
          r->stock.wall_median, r->stock.wall_p90, r->stock.cpu_median,
          r->fast.wall_median, r->fast.wall_p90, r->fast.cpu_median,
          r->stock.wall_median / r->fast.wall_median,
          r->stock.cpu_median / r->fast.cpu_median, r->max_diff);
  fflush (stdout);
}

/* Times @net stock and fast on @inputs and compares their outputs. */
static Result
bench_net (const char *name,
           MtNet      *net,
           GPtrArray  *inputs)
{
  NetRun run = { net, inputs };
  Result r = { .max_diff = 0 };
  gsize n = mt_net_get_output_size (net);

  g_strlcpy (r.name, name, sizeof r.name);

  for (guint i = 0; i < inputs->len; i++)
    {
      g_autofree float *stock = NULL;
      const float *fast;

      mt_net_set_fast (net, FALSE);
      stock = g_memdup2 (mt_net_forward (net, g_ptr_array_index (inputs, i)), n * sizeof (float));
      mt_net_set_fast (net, TRUE);
      fast = mt_net_forward (net, g_ptr_array_index (inputs, i));
      for (gsize j = 0; j < n; j++)
        r.max_diff = MAX (r.max_diff, fabs ((double) fast[j] - stock[j]));
    }

  mt_net_set_fast (net, FALSE);
  r.stock = time_runs (run_net, &run, MAX (5, n_runs / 3));
  mt_net_set_fast (net, TRUE);
  r.fast = time_runs (run_net, &run, n_runs);
  print_timing_row (&r);

  /* The same forward with its larger layers split between the cores, as
   * the analyzer runs its detector (MtFastTeam): same numbers, sooner. */
  if (g_get_num_processors () > 1)
    {
      guint threads = CLAMP (g_get_num_processors (), 1, 4);

      mt_net_set_n_threads (net, threads);
      r.split = time_runs (run_net, &run, n_runs);
      mt_net_set_n_threads (net, 1);
      printf ("%-26s %26s   %7.2f %7.2f %7.2f   %.2fx faster than on one (%u threads)\n",
              "  layers split:", "", r.split.wall_median, r.split.wall_p90, r.split.cpu_median,
              r.fast.wall_median / r.split.wall_median, threads);
      fflush (stdout);
    }
  return r;
}

/* The fast layers' GFLOP/s, layer by layer (convolutions; the median of
 * @runs profiled forwards), against the core's peak. */
static void
print_layer_profile (const char *name,
                     MtNet      *net,
                     GPtrArray  *inputs,
                     int         runs)
{
  int n_layers = mt_net_get_n_layers (net);
  g_autofree double *ms = g_new0 (double, (gsize) runs * n_layers);
  g_autoptr(GArray) column = g_array_new (FALSE, FALSE, sizeof (double));
  double dense_flops = 0, dense_ms = 0, dw_flops = 0, dw_ms = 0, other_ms = 0;

  mt_net_set_fast (net, TRUE);
  for (int i = 0; i < 3; i++)
    mt_net_forward (net, g_ptr_array_index (inputs, i % inputs->len));
  for (int i = 0; i < runs; i++)
    mt_net_forward_profiled (net, g_ptr_array_index (inputs, i % inputs->len),
                             ms + (gsize) i * n_layers);

  printf ("  %s, layer by layer (fast layers, median of %d):\n", name, runs);
  for (int l = 0; l < n_layers; l++)
    {
      g_autofree char *what = NULL;
      double flops, t;
      gboolean dense;
      int w, h, c;

      g_array_set_size (column, 0);
      for (int i = 0; i < runs; i++)
        g_array_append_val (column, ms[(gsize) i * n_layers + l]);
      t = percentile (column, 0.5);
      what = mt_net_describe_layer (net, l, &flops, &dense);
      if (flops == 0)
        {
          other_ms += t;
          continue;
        }
      if (dense)
        dense_flops += flops, dense_ms += t;
      else
        dw_flops += flops, dw_ms += t;
      mt_net_get_layer_shape (net, l, &w, &h, &c);
      printf ("    %3d %-28s %4dx%-4d %6.3f ms %7.4f GFLOP %6.1f GFLOP/s", l, what, w, h,
              t, flops / 1e9, t > 0 ? flops / 1e6 / t : 0);
      if (peak.fma_gflops > 0 && t > 0)
        printf ("  %4.1f%% of peak", 100 * flops / 1e6 / t / peak.fma_gflops);
      printf ("%s\n", mt_net_layer_is_fast (net, l) ? "" : "  (Darknet's own forward)");
    }
  if (dense_ms > 0)
    printf ("    dense convolutions:     %6.3f GFLOP in %6.3f ms, %6.1f GFLOP/s, %4.1f%% of the FMA peak, "
            "%4.1f%% of the mul + add peak\n",
            dense_flops / 1e9, dense_ms, dense_flops / 1e6 / dense_ms,
            peak.fma_gflops > 0 ? 100 * dense_flops / 1e6 / dense_ms / peak.fma_gflops : 0,
            peak.muladd_gflops > 0 ? 100 * dense_flops / 1e6 / dense_ms / peak.muladd_gflops : 0);
  if (dw_ms > 0)
    printf ("    depthwise convolutions: %6.3f GFLOP in %6.3f ms, %6.1f GFLOP/s\n",
            dw_flops / 1e9, dw_ms, dw_flops / 1e6 / dw_ms);
  printf ("    other layers: %.3f ms\n", other_ms);
}

/* The fast layers with each kernel build this CPU runs (detector only). */
static void
bench_isas (MtNet     *net,
            GPtrArray *inputs)
{
  NetRun run = { net, inputs };
  MtFastIsa best = mt_fast_kernels_get_best_isa ();

  mt_net_set_fast (net, TRUE);
  for (MtFastIsa isa = MT_FAST_ISA_GENERIC; isa <= best; isa++)
    {
      Timing t;

      mt_fast_kernels_set_isa (isa);
      t = time_runs (run_net, &run, n_runs);
      printf ("  ... with the %-7s kernels %36.2f %7.2f %7.2f\n", mt_fast_kernels_isa_name (isa),
              t.wall_median, t.wall_p90, t.cpu_median);
    }
  mt_fast_kernels_set_isa (best);
}

static MtNet *
load_net (const char *cfg,
          const char *weights)
{
  g_autoptr(GError) error = NULL;
  MtNet *net = mt_net_load (cfg, weights, &error);

  if (net == NULL)
    g_error ("%s", error->message);
  return net;
}

/* ---- the analyzer ------------------------------------------------------- */

typedef struct {
  MtAnalyzeFlags flags;
  MtAnalyzer *analyzer;
  GPtrArray *frames;
} AnalyzeRun;

static MtFrame
frame_view (GdkPixbuf *pixbuf)
{
  return (MtFrame) {
    .data = gdk_pixbuf_read_pixels (pixbuf),
    .width = gdk_pixbuf_get_width (pixbuf),
    .height = gdk_pixbuf_get_height (pixbuf),
    .stride = gdk_pixbuf_get_rowstride (pixbuf),
    .format = MT_PIXEL_FORMAT_RGB,
  };
}

static void
run_analyze (gpointer data,
             guint    i)
{
  AnalyzeRun *r = data;
  Frame *f = g_ptr_array_index (r->frames, i % r->frames->len);
  MtFrame view = frame_view (f->frame);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) faces = mt_analyzer_analyze (r->analyzer, &view, r->flags, &error);

  if (faces == NULL)
    g_error ("%s", error->message);
}

static MtAnalyzer *
new_analyzer (const char *models_dir,
              gboolean    fast)
{
  g_autoptr(GError) error = NULL;
  MtAnalyzer *analyzer;

  /* The analyzer loads its own networks: the environment sets their default. */
  g_setenv ("MT_DARKNET_FAST", fast ? "1" : "0", TRUE);
  analyzer = mt_analyzer_new (models_dir, NULL, &error);
  g_unsetenv ("MT_DARKNET_FAST");
  if (analyzer == NULL)
    g_error ("%s", error->message);
  return analyzer;
}

/* Finds each frame's face with the fast analyzer (else: the frame centre). */
static void
locate_faces (MtAnalyzer *analyzer,
              GPtrArray  *frames)
{
  for (guint i = 0; i < frames->len; i++)
    {
      Frame *f = g_ptr_array_index (frames, i);
      MtFrame view = frame_view (f->frame);
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) faces = mt_analyzer_analyze (analyzer, &view, MT_ANALYZE_NONE, &error);

      if (faces != NULL && faces->len > 0)
        {
          MtFace *face = &g_array_index (faces, MtFace, 0);

          f->face[0] = face->x;
          f->face[1] = face->y;
          f->face[2] = face->width;
          f->face[3] = face->height;
          printf ("frame %s: %u face(s), largest %.0fx%.0f at (%.0f, %.0f)\n", f->name,
                  faces->len, face->width, face->height, face->x, face->y);
        }
      else
        {
          f->face[0] = FRAME_W / 4.f;
          f->face[1] = FRAME_H / 4.f;
          f->face[2] = FRAME_W / 2.f;
          f->face[3] = FRAME_H / 2.f;
          printf ("frame %s: no face found, using the centre\n", f->name);
        }
    }
}

/* A models folder whose manifest runs the Tiny Face Detector ([Detector
 * tiny-face]) as the analyzer's detector, for the work face-api.js does:
 * every file of @models linked, the manifest rewritten.  Free with
 * remove_models_dir(). */
static char *
make_tiny_face_models_dir (const char *models)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) manifest = g_key_file_new ();
  g_autoptr(GDir) dir = NULL;
  g_autofree char *ini = g_build_filename (models, "moodtunes-models.ini", NULL);
  g_autofree char *tmp = g_dir_make_tmp ("bench-vision-XXXXXX", &error);
  g_autofree char *new_ini = NULL;
  g_auto(GStrv) keys = NULL;
  const char *name;

  if (tmp == NULL || !g_key_file_load_from_file (manifest, ini, G_KEY_FILE_NONE, &error))
    g_error ("%s", error->message);
  if (!g_key_file_has_group (manifest, "Detector tiny-face"))
    {
      g_rmdir (tmp);
      return NULL;
    }
  g_key_file_remove_group (manifest, "Detector", NULL);
  keys = g_key_file_get_keys (manifest, "Detector tiny-face", NULL, NULL);
  for (guint i = 0; keys[i]; i++)
    {
      g_autofree char *value = g_key_file_get_value (manifest, "Detector tiny-face", keys[i], NULL);

      g_key_file_set_value (manifest, "Detector", keys[i], value);
    }
  dir = g_dir_open (models, 0, &error);
  if (dir == NULL)
    g_error ("%s", error->message);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *target = g_build_filename (models, name, NULL);
      g_autofree char *link = g_build_filename (tmp, name, NULL);
      g_autofree char *absolute = g_canonicalize_filename (target, NULL);

      if (!g_str_equal (name, "moodtunes-models.ini") && symlink (absolute, link) != 0)
        g_error ("%s: %s", link, g_strerror (errno));
    }
  new_ini = g_build_filename (tmp, "moodtunes-models.ini", NULL);
  if (!g_key_file_save_to_file (manifest, new_ini, &error))
    g_error ("%s", error->message);
  return g_steal_pointer (&tmp);
}

static void
remove_models_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

/* ---- main --------------------------------------------------------------- */

/* A network kept for the per-layer profile at the end. */
typedef struct {
  char *name;
  MtNet *net;
  GPtrArray *inputs;
} Profiled;

static Profiled *
profiled_new (const char *name,
              MtNet      *net,
              GPtrArray  *inputs)
{
  Profiled *p = g_new0 (Profiled, 1);

  p->name = g_strdup (name);
  p->net = net;
  p->inputs = inputs;
  return p;
}

static void
profiled_free (gpointer data)
{
  Profiled *p = data;

  g_free (p->name);
  mt_net_free (p->net);
  g_ptr_array_unref (p->inputs);
  g_free (p);
}

static void
write_frames (GPtrArray  *frames,
              const char *dir)
{
  g_autoptr(GString) list = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *list_path = g_build_filename (dir, "frames.txt", NULL);

  g_mkdir_with_parents (dir, 0755);
  for (guint i = 0; i < frames->len; i++)
    {
      Frame *f = g_ptr_array_index (frames, i);
      g_autofree char *name = g_strdup_printf ("%s.rgb", f->name);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree guint8 *rgb = g_new (guint8, FRAME_W * FRAME_H * 3);
      const guint8 *px = gdk_pixbuf_read_pixels (f->frame);

      for (int y = 0; y < FRAME_H; y++)
        memcpy (rgb + y * FRAME_W * 3, px + (gsize) y * gdk_pixbuf_get_rowstride (f->frame), FRAME_W * 3);
      if (!g_file_set_contents (path, (const char *) rgb, FRAME_W * FRAME_H * 3, &error))
        g_error ("%s", error->message);
      /* name width height face-x face-y face-w face-h */
      g_string_append_printf (list, "%s %d %d %.1f %.1f %.1f %.1f\n", name, FRAME_W, FRAME_H,
                              f->face[0], f->face[1], f->face[2], f->face[3]);
    }
  if (!g_file_set_contents (list_path, list->str, (gssize) list->len, &error))
    g_error ("%s", error->message);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *models_opt = NULL;
  g_autofree char *frames_dir = NULL;
  g_autofree char *summary_path = NULL;
  GOptionEntry entries[] = {
    { "runs", 0, 0, G_OPTION_ARG_INT, &n_runs, "Timed runs per fast measurement (stock: a third)", "N" },
    { "models", 0, 0, G_OPTION_ARG_FILENAME, &models_opt, "Models folder", "DIR" },
    { "frames-dir", 0, 0, G_OPTION_ARG_FILENAME, &frames_dir, "Write the frames there (for vision-faceapi.mjs)", "DIR" },
    { "summary", 0, 0, G_OPTION_ARG_FILENAME, &summary_path, "Write \"key ms\" lines there", "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- time stock Darknet against the fast layers");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) frame_free);
  g_autoptr(GString) summary = g_string_new (NULL);
  g_autoptr(MtAnalyzer) analyzer = NULL;
  const char *shared = g_getenv ("MT_SHARED_DIR");
  const char *models;
  /* Both detectors at each size: the Tiny Face Detector (face-detector, the
   * one before) and BlazeFace (the manifest's, the analyzer's at 192). */
  const struct {
    const char *network;
    const char *key;
    int size;
  } detectors[] = {
    { "face-detector", "detector", 224 },
    { "face-detector", "detector", 320 },
    { "face-detector", "detector", 416 },
    { "blazeface-back", "blazeface", 192 },
    { "blazeface-back", "blazeface", 256 },
  };
  g_autoptr(GPtrArray) profiled = g_ptr_array_new_with_free_func (profiled_free);
  MtFmaPeak peaks[2];
  int n_peaks;
  double tiny_stock = 0, tiny_fast = 0, blaze_stock = 0, blaze_fast = 0;
  double cls_stock = 0, cls_fast = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  n_runs = MAX (n_runs, 3);
  models = models_opt ? models_opt : mt_analyzer_get_default_models_dir ();

  /* Two frames with one face each: the astronaut as is, and mirrored,
   * smaller and off-centre. */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *dir = shared ? g_strdup (shared)
                                    : g_build_filename (MT_SOURCE_MODELS_DIR, "..", "..", "shared", NULL);
      g_autofree char *path = g_build_filename (dir, "media", "astronaut.png", NULL);
      Frame *f = g_new0 (Frame, 1);

      f->frame = i == 0 ? make_frame (path, 1.0, FALSE, 0.5, &error)
                        : make_frame (path, 0.75, TRUE, 0.9, &error);
      if (f->frame == NULL)
        g_error ("%s (set MT_SHARED_DIR to the shared data folder)", error->message);
      f->name = g_strdup (i == 0 ? "astronaut" : "astronaut-mirrored");
      g_ptr_array_add (frames, f);
    }

  printf ("Moodtunes vision benchmark: %s, fast kernels: %s, %d runs (stock: %d), "
          "frames %dx%d\n", models, mt_fast_kernels_isa_name (mt_fast_kernels_get_isa ()),
          n_runs, MAX (5, n_runs / 3), FRAME_W, FRAME_H);

  /* The limit the per-layer figures are measured against (bench-fma-peak). */
  n_peaks = mt_fma_peak_measure (peaks, 0.2);
  for (int i = 0; i < n_peaks; i++)
    printf ("one core's peak, %s: FMA %.1f GFLOP/s, separate mul + add %.1f GFLOP/s\n",
            peaks[i].isa, peaks[i].fma_gflops, peaks[i].muladd_gflops);
  if (n_peaks > 0)
    peak = peaks[0];

  analyzer = new_analyzer (models, TRUE);
  locate_faces (analyzer, frames);
  if (frames_dir)
    write_frames (frames, frames_dir);

  printf ("\n%-26s %26s   %23s   %13s   %s\n", "", "stock Darknet (ms)", "fast layers (ms)",
          "speed-up", "max |diff|");
  printf ("%-26s %8s %8s %8s   %7s %7s %7s   %6s %6s\n", "network", "median", "p90", "cpu",
          "median", "p90", "cpu", "wall", "cpu");

  /* The detectors at each input size (the input: the frame at the top left
   * of a black square, plain [0, 1] values for both; BlazeFace takes [-1, 1],
   * which changes no timing). */
  for (guint d = 0; d < G_N_ELEMENTS (detectors); d++)
    {
      g_autofree char *cfg = g_strdup_printf ("%s/%s.cfg", models, detectors[d].network);
      g_autofree char *weights = g_strdup_printf ("%s/%s.weights", models, detectors[d].network);
      g_autoptr(MtNet) net = NULL;
      g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *name = g_strdup_printf ("%s %dx%d", detectors[d].network,
                                               detectors[d].size, detectors[d].size);
      gboolean tiny_default = detectors[d].size == MT_FACE_DETECTOR_DEFAULT_SIZE &&
                              g_str_equal (detectors[d].key, "detector");
      gboolean blaze_default = detectors[d].size == ANALYZER_BLAZEFACE_SIZE &&
                               g_str_equal (detectors[d].key, "blazeface");
      Result r;

      if (!g_file_test (cfg, G_FILE_TEST_EXISTS))
        continue;
      net = load_net (cfg, weights);
      if (!mt_net_resize (net, detectors[d].size, detectors[d].size, &error))
        g_error ("%s", error->message);
      for (guint i = 0; i < frames->len; i++)
        g_ptr_array_add (inputs, make_detector_input (((Frame *) g_ptr_array_index (frames, i))->frame,
                                                      detectors[d].size));
      r = bench_net (name, net, inputs);
      if (tiny_default)
        bench_isas (net, inputs);
      g_string_append_printf (summary, "%s-%d %.3f %.3f %.3f\n", detectors[d].key, detectors[d].size,
                              r.stock.wall_median, r.fast.wall_median, r.split.wall_median);
      if (tiny_default)
        tiny_stock = r.stock.wall_median, tiny_fast = r.fast.wall_median;
      if (blaze_default)
        blaze_stock = r.stock.wall_median, blaze_fast = r.fast.wall_median;
      if (tiny_default || blaze_default)
        g_ptr_array_add (profiled, profiled_new (name, g_steal_pointer (&net), g_steal_pointer (&inputs)));
    }

  /* Each expression network of the manifest on the face of each frame, fed
   * as its [Network] group says; the frame's total counts the networks the
   * default model reads. */
  {
    static const char * const classifiers[] = { "face-expression", "emotion-xception", "moodtunes-expression" };
    g_autoptr(MtModelManifest) manifest = mt_model_manifest_load (models, &error);
    const MtModelRecipe *recipe;

    if (manifest == NULL)
      g_error ("%s", error->message);
    recipe = mt_model_manifest_lookup (manifest, mt_model_manifest_get_default_model (manifest), &error);
    if (recipe == NULL)
      g_error ("%s", error->message);

    for (guint c = 0; c < G_N_ELEMENTS (classifiers); c++)
      {
        const MtNetworkSpec *spec = mt_model_manifest_lookup_network (manifest, classifiers[c], NULL);
        g_autofree char *cfg = g_strdup_printf ("%s/%s.cfg", models, classifiers[c]);
        g_autofree char *weights = g_strdup_printf ("%s/%s.weights", models, classifiers[c]);
        g_autoptr(MtNet) net = NULL;
        g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (g_free);
        g_autofree char *name = NULL;
        Result r;

        if (spec == NULL || !g_file_test (cfg, G_FILE_TEST_EXISTS))
          continue;
        net = load_net (cfg, weights);
        for (guint i = 0; i < frames->len; i++)
          {
            Frame *f = g_ptr_array_index (frames, i);

            g_ptr_array_add (inputs, make_input (f->frame, f->face, mt_net_get_width (net),
                                                 mt_net_get_height (net), spec->channels,
                                                 spec->mean, spec->scale));
          }
        name = g_strdup_printf ("%s %dx%d", classifiers[c], mt_net_get_width (net),
                                mt_net_get_height (net));
        r = bench_net (name, net, inputs);
        g_string_append_printf (summary, "%s %.3f %.3f %.3f\n", classifiers[c],
                                r.stock.wall_median, r.fast.wall_median, r.split.wall_median);
        for (guint n = 0; n < MT_MODEL_MAX_NETWORKS && recipe->networks[n]; n++)
          if (g_str_equal (recipe->networks[n], classifiers[c]))
            {
              cls_stock += r.stock.wall_median;
              cls_fast += r.fast.wall_median;
            }
        g_ptr_array_add (profiled, profiled_new (name, g_steal_pointer (&net), g_steal_pointer (&inputs)));
      }
  }

  printf ("\nnetworks of one frame, one pass each (the default model's classifiers on one face):\n"
          "  with BlazeFace %d (the analyzer's detector): stock %.2f ms, fast %.2f ms, %.1fx\n"
          "  with the Tiny Face Detector %d:              stock %.2f ms, fast %.2f ms, %.1fx\n",
          ANALYZER_BLAZEFACE_SIZE, blaze_stock + cls_stock, blaze_fast + cls_fast,
          (blaze_stock + cls_stock) / (blaze_fast + cls_fast),
          MT_FACE_DETECTOR_DEFAULT_SIZE, tiny_stock + cls_stock, tiny_fast + cls_fast,
          (tiny_stock + cls_stock) / (tiny_fast + cls_fast));
  g_string_append_printf (summary, "networks-frame %.3f %.3f\n", blaze_stock + cls_stock,
                          blaze_fast + cls_fast);

  /* The whole analysis of a frame, as the app runs it. */
  {
    g_autoptr(MtAnalyzer) stock = new_analyzer (models, FALSE);
    AnalyzeRun fast_run = { .analyzer = analyzer, .frames = frames };
    AnalyzeRun stock_run = { .analyzer = stock, .frames = frames };
    /* Live video as the app runs it: one reading per face, the face
     * followed with region passes between full-frame ones. */
    g_autoptr(GPtrArray) one_frame = g_ptr_array_new ();
    AnalyzeRun live_run = { .flags = MT_ANALYZE_VIDEO | MT_ANALYZE_SINGLE_PASS,
                            .analyzer = analyzer, .frames = one_frame };
    AnalyzeRun single_run = { .flags = MT_ANALYZE_SINGLE_PASS, .analyzer = analyzer, .frames = frames };
    AnalyzeRun stock_single_run = { .flags = MT_ANALYZE_SINGLE_PASS, .analyzer = stock, .frames = frames };
    AnalyzeRun stock_live_run = { .flags = MT_ANALYZE_VIDEO | MT_ANALYZE_SINGLE_PASS,
                                  .analyzer = stock, .frames = one_frame };
    Timing ts = time_runs (run_analyze, &stock_run, MAX (5, n_runs / 3));
    Timing tf = time_runs (run_analyze, &fast_run, n_runs);
    Timing ts1 = time_runs (run_analyze, &stock_single_run, MAX (5, n_runs / 3));
    Timing t1 = time_runs (run_analyze, &single_run, n_runs);
    Timing tl, tsl, t1_turn, tl_turn;

    /* A steady face, as in front of a webcam (the other frames alternate
     * between two places, which would defeat the region passes). */
    g_ptr_array_add (one_frame, g_ptr_array_index (frames, 0));
    mt_analyzer_reset_video (analyzer);
    tl = time_runs (run_analyze, &live_run, n_runs);
    mt_analyzer_reset_video (stock);
    tsl = time_runs (run_analyze, &stock_live_run, MAX (5, n_runs / 3));

    /* The same on the calling thread alone, the detector's layers whole and
     * the model's networks one after the other: what the other cores save. */
    mt_analyzer_set_parallel (analyzer, FALSE);
    t1_turn = time_runs (run_analyze, &single_run, n_runs);
    mt_analyzer_reset_video (analyzer);
    tl_turn = time_runs (run_analyze, &live_run, n_runs);
    mt_analyzer_set_parallel (analyzer, TRUE);

    /* Each line compares the same work: stock and fast layers with the same
     * flags on the same frames. */
    printf ("\nmt_analyzer_analyze (model %s), whole 640x480 frame, stock Darknet / fast layers:\n",
            mt_analyzer_get_model (analyzer));
    printf ("  %-52s stock %7.2f ms   fast %6.2f ms (p90 %6.2f, cpu %6.2f)   %5.1fx\n",
            "default (full-frame detection, mirrored reading):", ts.wall_median,
            tf.wall_median, tf.wall_p90, tf.cpu_median, ts.wall_median / tf.wall_median);
    printf ("  %-52s stock %7.2f ms   fast %6.2f ms (p90 %6.2f, cpu %6.2f)   %5.1fx\n",
            "single pass (full-frame detection):", ts1.wall_median,
            t1.wall_median, t1.wall_p90, t1.cpu_median, ts1.wall_median / t1.wall_median);
    printf ("  %-52s stock %7.2f ms   fast %6.2f ms (p90 %6.2f, cpu %6.2f)   %5.1fx\n",
            "live video (single pass, face followed in regions):", tsl.wall_median,
            tl.wall_median, tl.wall_p90, tl.cpu_median, tsl.wall_median / tl.wall_median);
    printf ("  on the calling thread alone: no layer split, networks in turn (fast layers, same frames):\n");
    printf ("  %-52s %19s %6.2f ms (p90 %6.2f, cpu %6.2f)   all cores %.2fx faster\n",
            "  single pass (full-frame detection):", "one thread", t1_turn.wall_median,
            t1_turn.wall_p90, t1_turn.cpu_median, t1_turn.wall_median / t1.wall_median);
    printf ("  %-52s %19s %6.2f ms (p90 %6.2f, cpu %6.2f)   all cores %.2fx faster\n",
            "  live video:", "one thread", tl_turn.wall_median, tl_turn.wall_p90, tl_turn.cpu_median,
            tl_turn.wall_median / tl.wall_median);
    g_string_append_printf (summary, "analyze %.3f %.3f\n", ts.wall_median, tf.wall_median);
    g_string_append_printf (summary, "analyze-single %.3f %.3f\n", ts1.wall_median, t1.wall_median);
    g_string_append_printf (summary, "analyze-live %.3f %.3f\n", tsl.wall_median, tl.wall_median);
  }

  /* face-api.js's work, for bench/vision-faceapi.mjs's whole-pipeline
   * figure: the Tiny Face Detector at 320 over the whole frame and one
   * expression network (face-expression, its own) on each face, single
   * pass, decoding and NMS included on both sides. */
  {
    g_autofree char *tiny_models = make_tiny_face_models_dir (models);

    if (tiny_models != NULL)
      {
        g_autoptr(MtAnalyzer) tiny = NULL;
        AnalyzeRun run = { .flags = MT_ANALYZE_SINGLE_PASS, .frames = frames };
        Timing t;

        g_setenv ("MT_DARKNET_FAST", "1", TRUE);
        tiny = mt_analyzer_new (tiny_models, "face-expression", &error);
        g_unsetenv ("MT_DARKNET_FAST");
        if (tiny == NULL)
          g_error ("%s", error->message);
        if (!mt_analyzer_set_detector_size (tiny, MT_FACE_DETECTOR_DEFAULT_SIZE, &error))
          g_error ("%s", error->message);
        run.analyzer = tiny;
        t = time_runs (run_analyze, &run, n_runs);
        printf ("  %-52s %19s %6.2f ms (p90 %6.2f, cpu %6.2f)\n",
                "face-api.js's work (Tiny Face Detector 320 + face-expression, single pass):", "fast",
                t.wall_median, t.wall_p90, t.cpu_median);
        g_string_append_printf (summary, "analyze-tiny-320 0 %.3f\n", t.wall_median);
        remove_models_dir (tiny_models);
      }
  }

  /* Distance to the limit: each network's layers against the core's peak. */
  if (n_peaks > 0)
    printf ("\nGFLOP/s per layer (convolutions: 2 k k c_in/groups c_out out_w out_h flops), "
            "against one core's %s peak: FMA %.1f, separate mul + add %.1f GFLOP/s\n",
            peak.isa, peak.fma_gflops, peak.muladd_gflops);
  for (guint i = 0; i < profiled->len; i++)
    {
      Profiled *p = g_ptr_array_index (profiled, i);

      print_layer_profile (p->name, p->net, p->inputs, n_runs);
  }

  if (summary_path && !g_file_set_contents (summary_path, summary->str, (gssize) summary->len, &error))
    g_error ("%s", error->message);
  return 0;
}
