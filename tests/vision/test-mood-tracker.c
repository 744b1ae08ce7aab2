/* The mood follows a face steadily: one odd frame never flips it, a lasting
 * change does, and with no face it goes away after a while. */
#include "config.h"

#include <math.h>

#include "mt-mood-tracker.h"

#define SECOND G_USEC_PER_SEC
#define FRAME (SECOND / 10)

static void
reading (float *p, MtMood main, float strength)
{
  for (int i = 0; i < MT_N_MOODS; i++)
    p[i] = (1.0f - strength) / (MT_N_MOODS - 1);
  p[main] = strength;
}

static gint64
feed (MtMoodTracker *tracker, MtMood emotion, float strength, gint64 t, gint64 duration)
{
  float p[MT_N_MOODS];

  reading (p, emotion, strength);
  for (gint64 end = t + duration; t < end; t += FRAME)
    mt_mood_tracker_update (tracker, p, t);
  return t;
}

static void
test_starts_without_mood (void)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();

  g_assert_cmpint (mt_mood_tracker_get_mood (tracker), ==, MT_MOOD_NONE);
  g_assert_cmpfloat (mt_mood_tracker_get_confidence (tracker), ==, 0);
}

/* The first mood, too, must lead by the margin for the dwell time: one
 * frame's argmax is never taken. */
static void
test_first_mood_takes_the_dwell_time (void)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  gint64 t, set_at = -1;
  float p[MT_N_MOODS];

  feed (tracker, MT_MOOD_HAPPY, 0.8f, 0, FRAME);
  g_assert_cmpint (mt_mood_tracker_get_mood (tracker), ==, MT_MOOD_NONE);

  reading (p, MT_MOOD_HAPPY, 0.8f);
  for (t = FRAME; t < 4 * SECOND; t += FRAME)
    {
      mt_mood_tracker_update (tracker, p, t);
      if (set_at < 0 && mt_mood_tracker_get_mood (tracker) == MT_MOOD_HAPPY)
        set_at = t;
    }
  g_assert_cmpint (set_at, >=, (gint64) (1.5 * SECOND));
  g_assert_cmpint (set_at, <=, 2 * SECOND);
  g_assert_cmpfloat_with_epsilon (mt_mood_tracker_get_confidence (tracker), 0.8f, 1e-6);
}

/* Two expressions within the margin of each other: no first mood at all. */
static void
test_first_mood_needs_the_margin (void)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  float p[MT_N_MOODS] = { 0.05f, 0.05f, 0.05f, 0.40f, 0.35f, 0.05f, 0.05f };

  for (gint64 t = 0; t < 10 * SECOND; t += FRAME)
    mt_mood_tracker_update (tracker, p, t);
  g_assert_cmpint (mt_mood_tracker_get_mood (tracker), ==, MT_MOOD_NONE);

  /* The same after a lost face: the mood goes, and comes back only steadily. */
  g_object_set (tracker, "margin", 0.02f, NULL);
  for (gint64 t = 10 * SECOND; t < 12 * SECOND; t += FRAME)
    mt_mood_tracker_update (tracker, p, t);
  g_assert_cmpint (mt_mood_tracker_get_mood (tracker), ==, MT_MOOD_HAPPY);
  mt_mood_tracker_update (tracker, NULL, 16 * SECOND);
  g_assert_cmpint (mt_mood_tracker_get_mood (tracker), ==, MT_MOOD_NONE);
  mt_mood_tracker_update (tracker, p, 16 * SECOND + FRAME);
  g_assert_cmpint (mt_mood_tracker_get_mood (tracker), ==, MT_MOOD_NONE);
}

/* The hysteresis itself, not the smoothing, keeps these moods: each case
 * flips with margin or dwell set to 0 and holds with the defaults. */
static MtMood
mood_after_near_challenge (double dwell, float margin)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  float near[MT_N_MOODS] = { 0.05f, 0.05f, 0.05f, 0.36f, 0.39f, 0.05f, 0.05f };
  gint64 t = feed (tracker, MT_MOOD_HAPPY, 0.8f, 0, 3 * SECOND);

  g_object_set (tracker, "dwell", dwell, "margin", margin, NULL);
  /* Sad leads happy by 0.03 for long: under the default margin of 0.08. */
  for (gint64 end = t + 10 * SECOND; t < end; t += FRAME)
    mt_mood_tracker_update (tracker, near, t);
  return mt_mood_tracker_get_mood (tracker);
}

static gboolean
taken_by_short_challenge (double dwell, float margin)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  gint64 t = feed (tracker, MT_MOOD_HAPPY, 0.8f, 0, 3 * SECOND);
  float angry[MT_N_MOODS], happy[MT_N_MOODS];
  gboolean taken = FALSE;

  g_object_set (tracker, "dwell", dwell, "margin", margin, NULL);
  /* Angry for 1.5 s: its smoothed reading leads by the margin for about
   * 0.9 s, under the default dwell of 1.5 s. */
  reading (angry, MT_MOOD_ANGRY, 1.0f);
  reading (happy, MT_MOOD_HAPPY, 1.0f);
  for (gint64 start = t; t < start + 5 * SECOND; t += FRAME)
    {
      mt_mood_tracker_update (tracker, t - start < 3 * SECOND / 2 ? angry : happy, t);
      taken |= mt_mood_tracker_get_mood (tracker) == MT_MOOD_ANGRY;
    }
  return taken;
}

static void
test_hysteresis_is_what_holds (void)
{
  g_assert_cmpint (mood_after_near_challenge (1.5, 0.08f), ==, MT_MOOD_HAPPY);
  g_assert_cmpint (mood_after_near_challenge (1.5, 0.0f), ==, MT_MOOD_SAD);
  g_assert_false (taken_by_short_challenge (1.5, 0.08f));
  g_assert_true (taken_by_short_challenge (0.0, 0.08f));
}

static void
test_single_odd_frame_does_not_flip (void)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  gint64 t;

  t = feed (tracker, MT_MOOD_HAPPY, 0.7f, 0, 3 * SECOND);
  t = feed (tracker, MT_MOOD_SAD, 1.0f, t, FRAME);
  t = feed (tracker, MT_MOOD_HAPPY, 0.7f, t, SECOND);
  g_assert_cmpint (mt_mood_tracker_get_mood (tracker), ==, MT_MOOD_HAPPY);
}

static void
test_flicker_between_two_moods_keeps_one (void)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  guint changes = 0;
  gint64 t = feed (tracker, MT_MOOD_NEUTRAL, 0.6f, 0, 2 * SECOND);
  MtMood first = mt_mood_tracker_get_mood (tracker);

  g_assert_cmpint (first, ==, MT_MOOD_NEUTRAL);

  /* Alternate every frame for ten seconds: a noisy classifier near a tie. */
  for (int i = 0; i < 100; i++)
    {
      t = feed (tracker, i % 2 ? MT_MOOD_NEUTRAL : MT_MOOD_SAD, 0.55f, t, FRAME);
      if (mt_mood_tracker_get_mood (tracker) != first)
        changes++;
    }
  g_assert_cmpuint (changes, ==, 0);
}

static void
test_lasting_change_is_followed (void)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  gint64 t;

  t = feed (tracker, MT_MOOD_HAPPY, 0.8f, 0, 3 * SECOND);
  t = feed (tracker, MT_MOOD_SURPRISE, 0.8f, t, 5 * SECOND);
  g_assert_cmpint (mt_mood_tracker_get_mood (tracker), ==, MT_MOOD_SURPRISE);
}

static void
test_change_takes_at_least_the_dwell_time (void)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  gint64 t, changed_at = -1;
  float p[MT_N_MOODS];

  t = feed (tracker, MT_MOOD_HAPPY, 0.9f, 0, 3 * SECOND);
  reading (p, MT_MOOD_ANGRY, 0.9f);
  for (gint64 start = t; t < start + 10 * SECOND; t += FRAME)
    {
      mt_mood_tracker_update (tracker, p, t);
      if (changed_at < 0 && mt_mood_tracker_get_mood (tracker) == MT_MOOD_ANGRY)
        changed_at = t - start;
    }
  g_assert_cmpint (changed_at, >=, (gint64) (1.5 * SECOND));
  g_assert_cmpint (changed_at, <=, 4 * SECOND);
}

static void
test_no_face_clears_mood_after_timeout (void)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  gint64 t = feed (tracker, MT_MOOD_HAPPY, 0.8f, 0, 2 * SECOND);

  mt_mood_tracker_update (tracker, NULL, t + 2 * SECOND);
  g_assert_cmpint (mt_mood_tracker_get_mood (tracker), ==, MT_MOOD_HAPPY);
  mt_mood_tracker_update (tracker, NULL, t + 4 * SECOND);
  g_assert_cmpint (mt_mood_tracker_get_mood (tracker), ==, MT_MOOD_NONE);
}

static void
count_notify (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

static void
test_notifies_only_on_change (void)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  guint count = 0;
  gint64 t;

  g_signal_connect (tracker, "notify::mood", G_CALLBACK (count_notify), &count);
  t = feed (tracker, MT_MOOD_HAPPY, 0.8f, 0, 5 * SECOND);
  g_assert_cmpuint (count, ==, 1);
  feed (tracker, MT_MOOD_FEAR, 0.9f, t, 10 * SECOND);
  g_assert_cmpuint (count, ==, 2);
}

static void
test_garbage_readings_are_ignored (void)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  float nan_reading[MT_N_MOODS] = { NAN, 0, 0, 1, 0, 0, 0 };
  float smoothed[MT_N_MOODS];
  gint64 t = feed (tracker, MT_MOOD_SAD, 0.8f, 0, 2 * SECOND);

  mt_mood_tracker_update (tracker, nan_reading, t);
  mt_mood_tracker_get_smoothed (tracker, smoothed);
  for (int i = 0; i < MT_N_MOODS; i++)
    g_assert_true (isfinite (smoothed[i]));
  g_assert_cmpint (mt_mood_tracker_get_mood (tracker), ==, MT_MOOD_SAD);
}

static void
test_time_going_backwards_is_harmless (void)
{
  g_autoptr(MtMoodTracker) tracker = mt_mood_tracker_new ();
  float smoothed[MT_N_MOODS];

  feed (tracker, MT_MOOD_HAPPY, 0.8f, 10 * SECOND, SECOND);
  feed (tracker, MT_MOOD_ANGRY, 0.9f, 0, SECOND);
  mt_mood_tracker_get_smoothed (tracker, smoothed);
  g_assert_cmpfloat_with_epsilon (smoothed[MT_MOOD_HAPPY], 0.8f, 1e-6);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mood-tracker/starts-without-mood", test_starts_without_mood);
  g_test_add_func ("/mood-tracker/first-mood-dwell", test_first_mood_takes_the_dwell_time);
  g_test_add_func ("/mood-tracker/first-mood-margin", test_first_mood_needs_the_margin);
  g_test_add_func ("/mood-tracker/hysteresis-holds", test_hysteresis_is_what_holds);
  g_test_add_func ("/mood-tracker/single-odd-frame", test_single_odd_frame_does_not_flip);
  g_test_add_func ("/mood-tracker/flicker", test_flicker_between_two_moods_keeps_one);
  g_test_add_func ("/mood-tracker/lasting-change", test_lasting_change_is_followed);
  g_test_add_func ("/mood-tracker/dwell", test_change_takes_at_least_the_dwell_time);
  g_test_add_func ("/mood-tracker/no-face-timeout", test_no_face_clears_mood_after_timeout);
  g_test_add_func ("/mood-tracker/notify", test_notifies_only_on_change);
  g_test_add_func ("/mood-tracker/garbage", test_garbage_readings_are_ignored);
  g_test_add_func ("/mood-tracker/backwards-time", test_time_going_backwards_is_harmless);
  return g_test_run ();
}
