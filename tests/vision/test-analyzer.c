/* The analyzer on real photos and on frames of every shape it may meet. */
#include "config.h"

#include <string.h>

#include "mt-analyzer.h"
#include "mt-image.h"

static MtAnalyzer *analyzer;

static char *
shared_path (const char *relative)
{
  return g_build_filename (g_getenv ("MT_SHARED_DIR"), relative, NULL);
}

static MtImage *
load_shared_image (const char *relative)
{
  g_autofree char *path = shared_path (relative);
  g_autoptr(GError) error = NULL;
  MtImage *image;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return NULL;
  image = mt_image_load (path, &error);
  g_assert_no_error (error);
  return image;
}

static GArray *
analyze (const MtFrame *frame, MtAnalyzeFlags flags)
{
  g_autoptr(GError) error = NULL;
  GArray *faces = mt_analyzer_analyze (analyzer, frame, flags, &error);

  g_assert_no_error (error);
  g_assert_nonnull (faces);
  return faces;
}

static void
assert_probabilities (const MtFace *face)
{
  float sum = 0;

  for (int e = 0; e < MT_N_MOODS; e++)
    {
      g_assert_cmpfloat (face->emotions[e], >=, 0);
      sum += face->emotions[e];
    }
  g_assert_cmpfloat_with_epsilon (sum, 1.0f, 1e-3);
  g_assert_cmpint (face->emotion, ==, mt_mood_argmax (face->emotions));
}

static void
test_astronaut_is_one_happy_face (void)
{
  g_autoptr(MtImage) image = load_shared_image ("media/astronaut.png");
  g_autoptr(GArray) faces = NULL;
  const MtFace *face;

  if (image == NULL)
    {
      g_test_skip ("../shared/media/astronaut.png is not there");
      return;
    }
  faces = analyze (mt_image_get_frame (image), MT_ANALYZE_NONE);
  g_assert_cmpuint (faces->len, ==, 1);
  face = &g_array_index (faces, MtFace, 0);
  assert_probabilities (face);
  g_assert_cmpint (face->emotion, ==, MT_MOOD_HAPPY);
  /* The face is in the upper middle of the 512×512 portrait. */
  g_assert_cmpfloat (face->x + face->width / 2, >, 150);
  g_assert_cmpfloat (face->x + face->width / 2, <, 300);
  g_assert_cmpfloat (face->y + face->height / 2, <, 200);
  g_assert_cmpfloat (face->width, >, 50);
}

/* A plain grey frame and a noise frame hold no face. */
static void
test_frames_without_faces (void)
{
  g_autofree guint8 *pixels = g_malloc (640 * 480 * 3);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  MtFrame frame = { pixels, 640, 480, 640 * 3, MT_PIXEL_FORMAT_RGB };
  g_autoptr(GArray) grey_faces = NULL;
  g_autoptr(GArray) noise_faces = NULL;

  memset (pixels, 128, 640 * 480 * 3);
  grey_faces = analyze (&frame, MT_ANALYZE_NONE);
  g_assert_cmpuint (grey_faces->len, ==, 0);

  for (int i = 0; i < 640 * 480 * 3; i++)
    pixels[i] = g_rand_int_range (rand, 0, 256);
  noise_faces = analyze (&frame, MT_ANALYZE_NONE);
  g_assert_cmpuint (noise_faces->len, ==, 0);
}

/* Copies @src into @dst at (x, y), cropping what falls outside. */
static void
blit (const MtFrame *src, guint8 *dst, int dst_w, int dst_h, int x, int y)
{
  for (int j = 0; j < src->height; j++)
    for (int i = 0; i < src->width; i++)
      {
        float rgb[3];
        int dx = x + i, dy = y + j;

        if (dx < 0 || dy < 0 || dx >= dst_w || dy >= dst_h)
          continue;
        mt_frame_get_rgb (src, i, j, rgb);
        for (int c = 0; c < 3; c++)
          dst[(dy * dst_w + dx) * 3 + c] = (guint8) rgb[c];
      }
}

static void
test_two_faces_side_by_side (void)
{
  g_autoptr(MtImage) image = load_shared_image ("media/astronaut.png");
  const int w = 1024, h = 512;
  g_autofree guint8 *pixels = NULL;
  g_autoptr(GArray) faces = NULL;
  MtFrame frame = { NULL, w, h, w * 3, MT_PIXEL_FORMAT_RGB };

  if (image == NULL)
    {
      g_test_skip ("../shared/media/astronaut.png is not there");
      return;
    }
  pixels = g_malloc0 (w * h * 3);
  blit (mt_image_get_frame (image), pixels, w, h, 0, 0);
  blit (mt_image_get_frame (image), pixels, w, h, 512, 0);
  frame.data = pixels;
  faces = analyze (&frame, MT_ANALYZE_NONE);
  g_assert_cmpuint (faces->len, ==, 2);
  for (guint i = 0; i < faces->len; i++)
    assert_probabilities (&g_array_index (faces, MtFace, i));
  /* One face in each half. */
  {
    const MtFace *a = &g_array_index (faces, MtFace, 0);
    const MtFace *b = &g_array_index (faces, MtFace, 1);
    gboolean a_left = a->x + a->width / 2 < 512;
    gboolean b_left = b->x + b->width / 2 < 512;
    g_assert_true (a_left != b_left);
  }
}

/* A face cut by the frame's edge is still found and its box stays inside. */
static void
test_face_at_the_border (void)
{
  g_autoptr(MtImage) image = load_shared_image ("media/astronaut.png");
  const int w = 640, h = 480;
  g_autofree guint8 *pixels = NULL;
  g_autoptr(GArray) faces = NULL;
  MtFrame frame = { NULL, w, h, w * 3, MT_PIXEL_FORMAT_RGB };

  if (image == NULL)
    {
      g_test_skip ("../shared/media/astronaut.png is not there");
      return;
    }
  pixels = g_malloc0 (w * h * 3);
  /* Shift the portrait left so the face touches the left edge. */
  blit (mt_image_get_frame (image), pixels, w, h, -170, 0);
  frame.data = pixels;
  faces = analyze (&frame, MT_ANALYZE_NONE);
  g_assert_cmpuint (faces->len, >=, 1);
  for (guint i = 0; i < faces->len; i++)
    {
      const MtFace *face = &g_array_index (faces, MtFace, i);
      g_assert_cmpfloat (face->x, >=, 0);
      g_assert_cmpfloat (face->y, >=, 0);
      g_assert_cmpfloat (face->x + face->width, <=, w);
      g_assert_cmpfloat (face->y + face->height, <=, h);
      assert_probabilities (face);
    }
}

/* The same picture as RGB, RGBA, BGRA and grey gives the same reading. */
static void
test_pixel_formats_agree (void)
{
  g_autoptr(MtImage) image = load_shared_image ("media/astronaut.png");
  const MtFrame *rgb;
  int w, h;
  g_autofree guint8 *rgba = NULL, *bgra = NULL, *gray = NULL;
  g_autoptr(GArray) base = NULL, with_alpha = NULL, swapped = NULL, grey = NULL;

  if (image == NULL)
    {
      g_test_skip ("../shared/media/astronaut.png is not there");
      return;
    }
  rgb = mt_image_get_frame (image);
  w = rgb->width;
  h = rgb->height;
  rgba = g_malloc (w * h * 4);
  bgra = g_malloc (w * h * 4);
  gray = g_malloc (w * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float p[3];
        guint8 *a = rgba + (y * w + x) * 4, *b = bgra + (y * w + x) * 4;

        mt_frame_get_rgb (rgb, x, y, p);
        a[0] = p[0]; a[1] = p[1]; a[2] = p[2]; a[3] = 255;
        b[0] = p[2]; b[1] = p[1]; b[2] = p[0]; b[3] = 0;
        gray[y * w + x] = (guint8) (0.2989f * p[0] + 0.587f * p[1] + 0.114f * p[2]);
      }

  base = analyze (rgb, MT_ANALYZE_NONE);
  with_alpha = analyze (&(MtFrame) { rgba, w, h, w * 4, MT_PIXEL_FORMAT_RGBA }, MT_ANALYZE_NONE);
  swapped = analyze (&(MtFrame) { bgra, w, h, w * 4, MT_PIXEL_FORMAT_BGRA }, MT_ANALYZE_NONE);
  grey = analyze (&(MtFrame) { gray, w, h, w, MT_PIXEL_FORMAT_GRAY }, MT_ANALYZE_NONE);

  g_assert_cmpuint (base->len, ==, 1);
  g_assert_cmpuint (with_alpha->len, ==, 1);
  g_assert_cmpuint (swapped->len, ==, 1);
  for (int e = 0; e < MT_N_MOODS; e++)
    {
      g_assert_cmpfloat_with_epsilon (g_array_index (base, MtFace, 0).emotions[e],
                                      g_array_index (with_alpha, MtFace, 0).emotions[e], 1e-5);
      g_assert_cmpfloat_with_epsilon (g_array_index (base, MtFace, 0).emotions[e],
                                      g_array_index (swapped, MtFace, 0).emotions[e], 1e-5);
    }
  /* Grey loses colour, so only ask that it still reads a face. */
  g_assert_cmpuint (grey->len, <=, 1);
}

/* The default model's networks read the face on helper threads as well as
 * the caller's where the machine has two processors: the readings are the
 * same numbers as one after the other, mirrored or not, frame after frame. */
static void
test_parallel_reading_agrees (void)
{
  g_autoptr(MtImage) image = load_shared_image ("media/astronaut.png");
  gboolean was_parallel = mt_analyzer_get_parallel (analyzer);

  if (image == NULL)
    {
      g_test_skip ("../shared/media/astronaut.png is not there");
      return;
    }
  for (int round = 0; round < 3; round++)
    for (int single = 0; single < 2; single++)
      {
        MtAnalyzeFlags flags = single ? MT_ANALYZE_SINGLE_PASS : MT_ANALYZE_NONE;
        g_autoptr(GArray) together = NULL, in_turn = NULL;

        mt_analyzer_set_parallel (analyzer, TRUE);
        g_assert_true (mt_analyzer_get_parallel (analyzer) == (g_get_num_processors () > 1));
        together = analyze (mt_image_get_frame (image), flags);
        mt_analyzer_set_parallel (analyzer, FALSE);
        g_assert_false (mt_analyzer_get_parallel (analyzer));
        in_turn = analyze (mt_image_get_frame (image), flags);

        g_assert_cmpuint (together->len, ==, 1);
        g_assert_cmpuint (in_turn->len, ==, 1);
        g_assert_cmpmem (g_array_index (together, MtFace, 0).emotions, sizeof (float) * MT_N_MOODS,
                         g_array_index (in_turn, MtFace, 0).emotions, sizeof (float) * MT_N_MOODS);
      }
  mt_analyzer_set_parallel (analyzer, was_parallel);
}

static void
assert_frame_refused (const MtFrame *frame, const char *why)
{
  g_autoptr(GError) error = NULL;
  GArray *faces = mt_analyzer_analyze (analyzer, frame, MT_ANALYZE_NONE, &error);

  g_test_message ("%s: %s", why, error ? error->message : "(accepted)");
  g_assert_null (faces);
  g_assert_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID);
}

static void
test_bad_frames_are_refused (void)
{
  static guint8 pixel[16];

  assert_frame_refused (&(MtFrame) { NULL, 10, 10, 30, MT_PIXEL_FORMAT_RGB }, "no data");
  assert_frame_refused (&(MtFrame) { pixel, 0, 0, 0, MT_PIXEL_FORMAT_RGB }, "zero size");
  assert_frame_refused (&(MtFrame) { pixel, 1, -5, 3, MT_PIXEL_FORMAT_RGB }, "negative size");
  assert_frame_refused (&(MtFrame) { pixel, 100000, 100000, 300000, MT_PIXEL_FORMAT_RGB }, "huge");
  assert_frame_refused (&(MtFrame) { pixel, 4, 1, 4, MT_PIXEL_FORMAT_RGB }, "short stride");
  assert_frame_refused (&(MtFrame) { pixel, 1, 1, 4, (MtPixelFormat) 42 }, "unknown format");
}

/* Tiny frames are valid and simply hold no readable face. */
static void
test_tiny_frames (void)
{
  guint8 pixels[3 * 3 * 3] = { 0 };
  g_autoptr(GArray) faces = analyze (&(MtFrame) { pixels, 3, 3, 9, MT_PIXEL_FORMAT_RGB }, MT_ANALYZE_NONE);
  g_autoptr(GArray) whole = analyze (&(MtFrame) { pixels, 1, 1, 3, MT_PIXEL_FORMAT_RGB }, MT_ANALYZE_WHOLE_FACE);

  g_assert_cmpuint (faces->len, ==, 0);
  g_assert_cmpuint (whole->len, ==, 1);
  assert_probabilities (&g_array_index (whole, MtFace, 0));
}

/* Live video: the face followed from frame to frame is the one a full
 * analysis of each frame finds, with the same reading. */
static void
test_video_follows_the_face (void)
{
  g_autoptr(MtImage) image = load_shared_image ("media/astronaut.png");
  const int w = 640, h = 480;
  g_autofree guint8 *pixels = NULL;
  MtFrame frame = { NULL, w, h, w * 3, MT_PIXEL_FORMAT_RGB };
  guint happy = 0;

  if (image == NULL)
    {
      g_test_skip ("../shared/media/astronaut.png is not there");
      return;
    }
  pixels = g_malloc (w * h * 3);
  frame.data = pixels;
  mt_analyzer_reset_video (analyzer);
  for (int i = 0; i < 30; i++)
    {
      g_autoptr(GArray) full = NULL;
      g_autoptr(GArray) video = NULL;

      memset (pixels, 90, w * h * 3);
      blit (mt_image_get_frame (image), pixels, w, h, -40 + 4 * i, -20);
      video = analyze (&frame, MT_ANALYZE_VIDEO | MT_ANALYZE_SINGLE_PASS);
      full = analyze (&frame, MT_ANALYZE_SINGLE_PASS);
      g_assert_cmpuint (full->len, ==, 1);
      g_assert_cmpuint (video->len, ==, 1);
      g_assert_cmpfloat (mt_face_iou (&g_array_index (full, MtFace, 0),
                                  &g_array_index (video, MtFace, 0)), >, 0.5f);
      assert_probabilities (&g_array_index (video, MtFace, 0));
      happy += g_array_index (video, MtFace, 0).emotion == MT_MOOD_HAPPY;
    }
  g_assert_cmpuint (happy, >=, 27);

  /* A bad frame in the middle of a video is refused and the video goes on. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) after = NULL;
    MtFrame empty = { pixels, 0, 0, 0, MT_PIXEL_FORMAT_RGB };

    g_assert_null (mt_analyzer_analyze (analyzer, &empty, MT_ANALYZE_VIDEO, &error));
    g_assert_error (error, MT_FRAME_ERROR, MT_FRAME_ERROR_INVALID);
    after = analyze (&frame, MT_ANALYZE_VIDEO);
    g_assert_cmpuint (after->len, ==, 1);
  }
}

static void
test_unknown_model_is_an_error (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MtAnalyzer) other = mt_analyzer_new (NULL, "no-such-model", &error);

  g_assert_null (other);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "no-such-model"));
}

int
main (int argc, char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  analyzer = mt_analyzer_new (NULL, NULL, &error);
  g_assert_no_error (error);

  g_test_add_func ("/analyzer/astronaut", test_astronaut_is_one_happy_face);
  g_test_add_func ("/analyzer/no-faces", test_frames_without_faces);
  g_test_add_func ("/analyzer/two-faces", test_two_faces_side_by_side);
  g_test_add_func ("/analyzer/border", test_face_at_the_border);
  g_test_add_func ("/analyzer/pixel-formats", test_pixel_formats_agree);
  g_test_add_func ("/analyzer/parallel", test_parallel_reading_agrees);
  g_test_add_func ("/analyzer/bad-frames", test_bad_frames_are_refused);
  g_test_add_func ("/analyzer/tiny-frames", test_tiny_frames);
  g_test_add_func ("/analyzer/video", test_video_follows_the_face);
  g_test_add_func ("/analyzer/unknown-model", test_unknown_model_is_an_error);
  status = g_test_run ();
  g_clear_object (&analyzer);
  return status;
}
