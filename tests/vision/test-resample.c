/* The resampler turns frame regions into network inputs: exact at scale 1,
 * averaging when shrinking, filling or repeating edges outside the frame. */
#include "config.h"

#include "mt-resample.h"

static const guint8 pixels_rgb[2 * 2 * 3] = {
  10, 20, 30,    40, 50, 60,
  70, 80, 90,   100, 110, 120,
};

static MtFrame
rgb_frame (void)
{
  return (MtFrame) { pixels_rgb, 2, 2, 6, MT_PIXEL_FORMAT_RGB };
}

static MtResampleSpec
identity_spec (void)
{
  return (MtResampleSpec) { .width = 2, .height = 2, .out_width = 2, .out_height = 2, .scale = 1 };
}

static void
test_identity_is_exact_and_planar (void)
{
  MtFrame frame = rgb_frame ();
  MtResampleSpec spec = identity_spec ();
  float out[12];

  mt_resample_to_planar (&frame, &spec, out);
  /* Planes R, G, B, each row by row. */
  g_assert_cmpfloat (out[0], ==, 10);
  g_assert_cmpfloat (out[1], ==, 40);
  g_assert_cmpfloat (out[2], ==, 70);
  g_assert_cmpfloat (out[3], ==, 100);
  g_assert_cmpfloat (out[4], ==, 20);
  g_assert_cmpfloat (out[11], ==, 120);
}

static void
test_mean_and_scale (void)
{
  MtFrame frame = rgb_frame ();
  MtResampleSpec spec = identity_spec ();
  float out[12];

  spec.mean[0] = 10;
  spec.mean[1] = 20;
  spec.mean[2] = 30;
  spec.scale = 0.5f;
  mt_resample_to_planar (&frame, &spec, out);
  g_assert_cmpfloat (out[0], ==, 0);
  g_assert_cmpfloat (out[3], ==, 45);
  g_assert_cmpfloat (out[4 + 3], ==, 45);
  g_assert_cmpfloat (out[8 + 3], ==, 45);
}

static void
test_shrinking_averages (void)
{
  MtFrame frame = rgb_frame ();
  MtResampleSpec spec = identity_spec ();
  float out[3];

  spec.out_width = spec.out_height = 1;
  mt_resample_to_planar (&frame, &spec, out);
  g_assert_cmpfloat_with_epsilon (out[0], 55, 1e-4);
  g_assert_cmpfloat_with_epsilon (out[1], 65, 1e-4);
  g_assert_cmpfloat_with_epsilon (out[2], 75, 1e-4);
}

static void
test_flip_mirrors_columns (void)
{
  MtFrame frame = rgb_frame ();
  MtResampleSpec spec = identity_spec ();
  float out[12];

  spec.flip = TRUE;
  mt_resample_to_planar (&frame, &spec, out);
  g_assert_cmpfloat (out[0], ==, 40);
  g_assert_cmpfloat (out[1], ==, 10);
}

/* A region reaching past the frame: fill value, or the edge repeated. */
static void
test_outside_the_frame (void)
{
  MtFrame frame = rgb_frame ();
  MtResampleSpec spec = { .x = -2, .y = 0, .width = 4, .height = 2, .out_width = 4, .out_height = 2,
                          .fill = 7, .scale = 1 };
  float out[24];

  mt_resample_to_planar (&frame, &spec, out);
  g_assert_cmpfloat (out[0], ==, 7);
  g_assert_cmpfloat (out[1], ==, 7);
  g_assert_cmpfloat (out[2], ==, 10);
  g_assert_cmpfloat (out[3], ==, 40);

  spec.clamp_edges = TRUE;
  mt_resample_to_planar (&frame, &spec, out);
  g_assert_cmpfloat (out[0], ==, 10);
  g_assert_cmpfloat (out[1], ==, 10);
  g_assert_cmpfloat (out[4], ==, 70);
}

/* Luma with TensorFlow's weights; the same picture in every pixel format. */
static void
test_gray_and_formats_agree (void)
{
  const guint8 rgba[4] = { 200, 100, 50, 9 };
  const guint8 bgra[4] = { 50, 100, 200, 9 };
  const guint8 rgb[3] = { 200, 100, 50 };
  MtResampleSpec spec = { .width = 1, .height = 1, .out_width = 1, .out_height = 1, .gray = TRUE, .scale = 1 };
  float a, b, c;

  mt_resample_to_planar (&(MtFrame) { rgba, 1, 1, 4, MT_PIXEL_FORMAT_RGBA }, &spec, &a);
  mt_resample_to_planar (&(MtFrame) { bgra, 1, 1, 4, MT_PIXEL_FORMAT_BGRA }, &spec, &b);
  mt_resample_to_planar (&(MtFrame) { rgb, 1, 1, 3, MT_PIXEL_FORMAT_RGB }, &spec, &c);
  g_assert_cmpfloat_with_epsilon (a, 0.2989f * 200 + 0.5870f * 100 + 0.1140f * 50, 1e-3);
  g_assert_cmpfloat (a, ==, b);
  g_assert_cmpfloat (a, ==, c);
}

/* Enlarging a two-pixel row is bilinear between the pixel centres. */
static void
test_enlarging_is_bilinear (void)
{
  const guint8 gray[2] = { 0, 100 };
  MtResampleSpec spec = { .width = 2, .height = 1, .out_width = 4, .out_height = 1, .gray = TRUE,
                          .clamp_edges = TRUE, .scale = 1 };
  float out[4];

  mt_resample_to_planar (&(MtFrame) { gray, 2, 1, 2, MT_PIXEL_FORMAT_GRAY }, &spec, out);
  g_assert_cmpfloat_with_epsilon (out[0], 0, 1e-3);
  g_assert_cmpfloat_with_epsilon (out[1], 25 * 0.9999f, 1e-2);
  g_assert_cmpfloat_with_epsilon (out[2], 75 * 0.9999f, 1e-2);
  g_assert_cmpfloat_with_epsilon (out[3], 100 * 0.9999f, 1e-2);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/resample/identity", test_identity_is_exact_and_planar);
  g_test_add_func ("/resample/mean-scale", test_mean_and_scale);
  g_test_add_func ("/resample/shrink", test_shrinking_averages);
  g_test_add_func ("/resample/flip", test_flip_mirrors_columns);
  g_test_add_func ("/resample/outside", test_outside_the_frame);
  g_test_add_func ("/resample/gray-formats", test_gray_and_formats_agree);
  g_test_add_func ("/resample/enlarge", test_enlarging_is_bilinear);
  return g_test_run ();
}
