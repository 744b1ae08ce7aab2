/* The analysis pump: streams served by shared threads, each with its own
 * face followed and mood, newest frame first, hints, resets and errors. */
#include "config.h"

#include <string.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>

#include "mt-analysis-pump.h"
#include "mt-analysis-stream.h"
#include "mt-vision-enums.h"

#define FRAME_W 640
#define FRAME_H 480
#define FACE_SIDE 320

static MtAnalysisPump *pump;   /* two threads, shared by the tests */
static GdkPixbuf *astronaut;

/* A 640x480 grey frame (or of @level) with the portrait at @x, or none
 * when @x < 0. */
static GdkPixbuf *
make_frame (int    x,
            guint8 level)
{
  GdkPixbuf *frame = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, FRAME_W, FRAME_H);

  gdk_pixbuf_fill (frame, (guint32) level << 24 | (guint32) level << 16 | (guint32) level << 8 | 0xff);
  if (x >= 0)
    gdk_pixbuf_composite (astronaut, frame, x, 80, FACE_SIDE, FACE_SIDE, x, 80,
                          (double) FACE_SIDE / gdk_pixbuf_get_width (astronaut),
                          (double) FACE_SIDE / gdk_pixbuf_get_height (astronaut),
                          GDK_INTERP_BILINEAR, 255);
  return frame;
}

static gint n_get_frame;   /* atomic: frames whose pixels were asked for */

static gboolean
pixbuf_get_frame (gpointer   data,
                  MtFrame   *frame,
                  GError   **error)
{
  GdkPixbuf *pixbuf = data;

  g_atomic_int_inc (&n_get_frame);
  frame->data = gdk_pixbuf_read_pixels (pixbuf);
  frame->width = gdk_pixbuf_get_width (pixbuf);
  frame->height = gdk_pixbuf_get_height (pixbuf);
  frame->stride = gdk_pixbuf_get_rowstride (pixbuf);
  frame->format = gdk_pixbuf_get_has_alpha (pixbuf) ? MT_PIXEL_FORMAT_RGBA : MT_PIXEL_FORMAT_RGB;
  return TRUE;
}

static gboolean
broken_get_frame (gpointer   data,
                  MtFrame   *frame,
                  GError   **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not a picture");
  return FALSE;
}

static void
push (MtAnalysisStream *stream,
      GdkPixbuf        *frame,
      gint64            position)
{
  mt_analysis_stream_push (stream, pixbuf_get_frame, g_object_ref (frame), g_object_unref,
                           g_get_monotonic_time (), position);
}

/* What one stream delivered. */
typedef struct {
  GPtrArray *results;   /* MtAnalysisResult* */
  GPtrArray *errors;    /* GError* */
} Received;

static void
on_result (MtAnalysisStream *stream,
           MtAnalysisResult *result,
           Received         *received)
{
  g_ptr_array_add (received->results, mt_analysis_result_copy (result));
}

static void
on_error (MtAnalysisStream *stream,
          const GError     *error,
          Received         *received)
{
  g_ptr_array_add (received->errors, g_error_copy (error));
}

static MtAnalysisStream *
new_stream (MtAnalysisPump *on,
            Received       *received)
{
  MtAnalysisStream *stream = mt_analysis_stream_new (on);

  received->results = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_analysis_result_free);
  received->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_signal_connect (stream, "result", G_CALLBACK (on_result), received);
  g_signal_connect (stream, "error", G_CALLBACK (on_error), received);
  return stream;
}

static void
received_clear (Received *received)
{
  g_clear_pointer (&received->results, g_ptr_array_unref);
  g_clear_pointer (&received->errors, g_ptr_array_unref);
}

/* Iterates the main context until @received has @n results and errors in
 * all (60 s at most: model loading under sanitizers is slow). */
static void
wait_for (Received *received,
          guint     n)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (received->results->len + received->errors->len < n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* A little longer, to see that nothing more comes. */
static void
run_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* The smoothed probability of happy (the portrait's expression). */
static float
smoothed_happy (MtAnalysisStream *stream)
{
  float smoothed[MT_N_MOODS];

  mt_mood_tracker_get_smoothed (mt_analysis_stream_get_mood_tracker (stream), smoothed);
  return smoothed[MT_MOOD_HAPPY];
}

static const MtFace *
largest (MtAnalysisResult *result)
{
  g_assert_cmpuint (result->faces->len, >=, 1);
  return &g_array_index (result->faces, MtFace, 0);
}

/* Two streams, each with the face elsewhere, interleaved frame by frame on
 * two shared threads: each keeps following its own face with region passes.
 * (With the face followed per thread, as before the pump, every frame
 * would miss its region and take a full pass.) */
static void
test_streams_keep_their_own_face (void)
{
  g_autoptr(GdkPixbuf) left = make_frame (0, 128);
  g_autoptr(GdkPixbuf) right = make_frame (320, 128);
  Received a = { 0 }, b = { 0 };
  g_autoptr(MtAnalysisStream) stream_a = new_stream (pump, &a);
  g_autoptr(MtAnalysisStream) stream_b = new_stream (pump, &b);
  const guint n = 12;
  guint regions_a = 0, regions_b = 0;

  for (guint i = 0; i < n; i++)
    {
      push (stream_a, left, i);
      push (stream_b, right, i);
      wait_for (&a, i + 1);
      wait_for (&b, i + 1);
    }
  g_assert_cmpuint (a.errors->len + b.errors->len, ==, 0);

  for (guint i = 0; i < n; i++)
    {
      MtAnalysisResult *ra = g_ptr_array_index (a.results, i);
      MtAnalysisResult *rb = g_ptr_array_index (b.results, i);
      const MtFace *fa = largest (ra), *fb = largest (rb);

      g_assert_cmpint (ra->position, ==, i);
      g_assert_cmpint (rb->position, ==, i);
      g_assert_cmpfloat (fa->x + fa->width / 2, <, FRAME_W / 2);
      g_assert_cmpfloat (fb->x + fb->width / 2, >, FRAME_W / 2);
      g_assert_cmpint (ra->hint, ==, MT_FRAME_HINT_NONE);
      g_assert_cmpint (ra->frame_width, ==, FRAME_W);
      g_assert_cmpfloat (ra->analyze_ms, >, 0);
      regions_a += !ra->full_pass;
      regions_b += !rb->full_pass;
    }
  /* The first frame of each is a full pass, then regions with a full pass
   * every MT_FACE_TRACKER_DEFAULT_FULL_EVERY frames. */
  g_assert_true (((MtAnalysisResult *) g_ptr_array_index (a.results, 0))->full_pass);
  g_assert_true (((MtAnalysisResult *) g_ptr_array_index (b.results, 0))->full_pass);
  g_assert_cmpuint (regions_a, >=, n - 2);
  g_assert_cmpuint (regions_b, >=, n - 2);

  /* Each stream's mood tracker took its own readings: a face for each. */
  g_assert_cmpuint (mt_analysis_stream_get_analyzed (stream_a), ==, n);
  g_assert_cmpfloat (mt_analysis_stream_get_rate (stream_a), >, 0);
  g_assert_cmpfloat (smoothed_happy (stream_a), >, 0.5);
  g_assert_cmpfloat (smoothed_happy (stream_b), >, 0.5);
  g_assert_cmpuint (mt_analysis_stream_get_dropped (stream_a), ==, 0);

  received_clear (&a);
  received_clear (&b);
}

/* Frames pushed faster than they are analyzed: the waiting one is replaced,
 * only frames that are analyzed are ever read, and the last one pushed is
 * always analyzed. */
static void
test_newest_frame_wins (void)
{
  g_autoptr(GdkPixbuf) frame = make_frame (160, 128);
  Received r = { 0 };
  g_autoptr(MtAnalysisStream) stream = new_stream (pump, &r);
  const guint n = 30;
  MtAnalysisResult *last;
  guint64 dropped;

  g_atomic_int_set (&n_get_frame, 0);
  for (guint i = 0; i < n; i++)
    push (stream, frame, i);
  dropped = mt_analysis_stream_get_dropped (stream);
  g_assert_cmpuint (dropped, >=, n - 2 - 1);   /* at most one in a thread, one waiting */
  wait_for (&r, n - dropped);
  run_for (200);
  g_assert_cmpuint (r.results->len, ==, n - dropped);
  g_assert_cmpint (g_atomic_int_get (&n_get_frame), ==, (int) (n - dropped));
  last = g_ptr_array_index (r.results, r.results->len - 1);
  g_assert_cmpint (last->position, ==, n - 1);
  /* In order. */
  for (guint i = 1; i < r.results->len; i++)
    g_assert_cmpint (((MtAnalysisResult *) g_ptr_array_index (r.results, i - 1))->position, <,
                     ((MtAnalysisResult *) g_ptr_array_index (r.results, i))->position);
  received_clear (&r);
}

static GArray *
faces_of_width (float width)
{
  GArray *faces = g_array_new (FALSE, TRUE, sizeof (MtFace));
  MtFace face = { .width = width, .height = width };

  if (width > 0)
    g_array_append_val (faces, face);
  return faces;
}

/* The hints, from the rule and from real frames. */
static void
test_hints (void)
{
  g_autoptr(GArray) none = faces_of_width (0);
  g_autoptr(GArray) small = faces_of_width (MT_FACE_SMALL_SIDE - 1);
  g_autoptr(GArray) big = faces_of_width (MT_FACE_SMALL_SIDE + 1);
  g_autoptr(GdkPixbuf) dark = make_frame (-1, 10);
  g_autoptr(GdkPixbuf) grey = make_frame (-1, 128);
  g_autoptr(GdkPixbuf) face = make_frame (160, 128);
  Received r = { 0 };
  g_autoptr(MtAnalysisStream) stream = new_stream (pump, &r);
  MtAnalysisResult *result;

  g_assert_cmpint (mt_frame_hint_for (none, MT_FRAME_DARK_LEVEL - 1), ==, MT_FRAME_HINT_TOO_DARK);
  g_assert_cmpint (mt_frame_hint_for (none, MT_FRAME_DARK_LEVEL + 1), ==, MT_FRAME_HINT_NO_FACE);
  g_assert_cmpint (mt_frame_hint_for (small, 200), ==, MT_FRAME_HINT_TOO_SMALL);
  /* A face is read in the dark too. */
  g_assert_cmpint (mt_frame_hint_for (big, 5), ==, MT_FRAME_HINT_NONE);
  g_assert_cmpstr (mt_frame_hint_to_string (MT_FRAME_HINT_TOO_DARK), ==, "too-dark");
  g_assert_cmpstr (mt_frame_hint_to_string (MT_FRAME_HINT_NO_FACE), ==, "no-face");
  g_assert_true (G_TYPE_IS_ENUM (MT_TYPE_FRAME_HINT));

  push (stream, dark, 0);
  wait_for (&r, 1);
  push (stream, grey, 1);
  wait_for (&r, 2);
  push (stream, face, 2);
  wait_for (&r, 3);
  g_assert_cmpuint (r.errors->len, ==, 0);

  result = g_ptr_array_index (r.results, 0);
  g_assert_cmpuint (result->faces->len, ==, 0);
  g_assert_cmpfloat_with_epsilon (result->brightness, 10, 1);
  g_assert_cmpint (result->hint, ==, MT_FRAME_HINT_TOO_DARK);
  result = g_ptr_array_index (r.results, 1);
  g_assert_cmpint (result->hint, ==, MT_FRAME_HINT_NO_FACE);
  result = g_ptr_array_index (r.results, 2);
  g_assert_cmpint (result->hint, ==, MT_FRAME_HINT_NONE);
  received_clear (&r);
}

/* A reset forgets the face (the next frame is a full pass) and the mood,
 * and a result of before it is not delivered; a closed stream says nothing
 * more. */
static void
test_reset_and_close (void)
{
  g_autoptr(GdkPixbuf) frame = make_frame (160, 128);
  Received r = { 0 };
  g_autoptr(MtAnalysisStream) stream = new_stream (pump, &r);

  for (guint i = 0; i < 3; i++)
    {
      push (stream, frame, i);
      wait_for (&r, i + 1);
    }
  g_assert_false (((MtAnalysisResult *) g_ptr_array_index (r.results, 2))->full_pass);
  g_assert_cmpfloat (smoothed_happy (stream), >, 0.5);

  /* Pushed and reset at once: that frame's result (if it was taken
   * already) is dropped. */
  push (stream, frame, 3);
  mt_analysis_stream_reset (stream);
  g_assert_cmpfloat (smoothed_happy (stream), ==, 0);
  run_for (500);
  g_assert_cmpuint (r.results->len, ==, 3);

  push (stream, frame, 4);
  wait_for (&r, 4);
  g_assert_cmpint (((MtAnalysisResult *) g_ptr_array_index (r.results, 3))->position, ==, 4);
  g_assert_true (((MtAnalysisResult *) g_ptr_array_index (r.results, 3))->full_pass);

  push (stream, frame, 5);
  mt_analysis_stream_close (stream);
  push (stream, frame, 6);
  run_for (500);
  g_assert_cmpuint (r.results->len, ==, 4);
  received_clear (&r);
}

/* A frame whose pixels cannot be had is an error of that frame only. */
static void
test_frame_error (void)
{
  g_autoptr(GdkPixbuf) frame = make_frame (160, 128);
  Received r = { 0 };
  g_autoptr(MtAnalysisStream) stream = new_stream (pump, &r);

  mt_analysis_stream_push (stream, broken_get_frame, NULL, NULL, g_get_monotonic_time (), 0);
  wait_for (&r, 1);
  g_assert_cmpuint (r.errors->len, ==, 1);
  g_assert_error ((GError *) g_ptr_array_index (r.errors, 0), G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  push (stream, frame, 1);
  wait_for (&r, 2);
  g_assert_cmpuint (r.results->len, ==, 1);
  received_clear (&r);
}

static void
on_failed (MtAnalysisPump *failing,
           const char     *message,
           char          **out)
{
  g_assert_null (*out);
  *out = g_strdup (message);
}

/* Models that cannot be loaded: "failed" once, each frame an error. */
static void
test_models_missing (void)
{
  g_autofree char *dir = g_dir_make_tmp ("mt-pump-XXXXXX", NULL);
  g_autoptr(MtAnalysisPump) failing = mt_analysis_pump_new (dir, NULL, 1);
  g_autofree char *message = NULL;
  g_autoptr(GdkPixbuf) frame = make_frame (160, 128);
  Received r = { 0 };
  g_autoptr(MtAnalysisStream) stream = new_stream (failing, &r);

  g_signal_connect (failing, "failed", G_CALLBACK (on_failed), &message);
  push (stream, frame, 0);
  wait_for (&r, 1);
  push (stream, frame, 1);
  wait_for (&r, 2);
  run_for (100);
  g_assert_cmpuint (r.errors->len, ==, 2);
  g_assert_error ((GError *) g_ptr_array_index (r.errors, 0), MT_ANALYSIS_PUMP_ERROR, MT_ANALYSIS_PUMP_ERROR_MODELS);
  g_assert_nonnull (message);
  g_assert_nonnull (strstr (((GError *) g_ptr_array_index (r.errors, 0))->message, "Cannot load the face"));
  g_assert_nonnull (strstr (((GError *) g_ptr_array_index (r.errors, 0))->message, message));
  g_assert_false (mt_analysis_pump_is_ready (failing));
  received_clear (&r);
  g_rmdir (dir);
}

static void
on_ready (MtAnalysisPump *ready_pump,
          gboolean       *ready)
{
  *ready = TRUE;
}

int
main (int argc, char *argv[])
{
  g_autofree char *path = g_build_filename (g_getenv ("MT_SHARED_DIR"), "media", "astronaut.png", NULL);
  g_autoptr(GError) error = NULL;
  gboolean ready = FALSE;
  int status;

  g_test_init (&argc, &argv, NULL);

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr ("../shared/media/astronaut.png is not there: skipped\n");
      return 77;
    }
  astronaut = gdk_pixbuf_new_from_file (path, &error);
  g_assert_no_error (error);

  pump = mt_analysis_pump_new (NULL, NULL, 2);
  g_assert_cmpuint (mt_analysis_pump_get_n_threads (pump), ==, 2);
  g_signal_connect (pump, "ready", G_CALLBACK (on_ready), &ready);
  mt_analysis_pump_load (pump);
  {
    gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

    while (!ready && g_get_monotonic_time () < deadline)
      g_main_context_iteration (NULL, TRUE);
  }
  g_assert_true (ready);
  g_assert_true (mt_analysis_pump_is_ready (pump));

  g_test_add_func ("/analysis-pump/streams-keep-their-own-face", test_streams_keep_their_own_face);
  g_test_add_func ("/analysis-pump/newest-frame-wins", test_newest_frame_wins);
  g_test_add_func ("/analysis-pump/hints", test_hints);
  g_test_add_func ("/analysis-pump/reset-and-close", test_reset_and_close);
  g_test_add_func ("/analysis-pump/frame-error", test_frame_error);
  g_test_add_func ("/analysis-pump/models-missing", test_models_missing);
  status = g_test_run ();

  g_clear_object (&pump);
  g_clear_object (&astronaut);
  return status;
}
