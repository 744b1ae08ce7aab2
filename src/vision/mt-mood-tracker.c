/* mt-mood-tracker.c: exponential smoothing with hysteresis, so that one odd
 * frame or a blink does not flip the mood and the playlist with it. */
#define G_LOG_DOMAIN "mt-mood-tracker"

#include "config.h"

#include <math.h>
#include <string.h>

#include "mt-common-enums.h"
#include "mt-mood-tracker.h"

struct _MtMoodTracker {
  GObject  parent_instance;

  float    smoothed[MT_N_MOODS];
  gboolean has_reading;
  gint64   last_update_us;
  gint64   last_face_us;
  /* When another expression first led the current mood by the margin. */
  MtMood   challenger;
  gint64   challenger_since_us;

  MtMood   mood;

  /* Tuning, in seconds and probabilities. */
  double   half_life;
  double   dwell;
  double   face_timeout;
  float    margin;
};

enum {
  PROP_0,
  PROP_MOOD,
  PROP_CONFIDENCE,
  PROP_HALF_LIFE,
  PROP_DWELL,
  PROP_FACE_TIMEOUT,
  PROP_MARGIN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (MtMoodTracker, mt_mood_tracker, G_TYPE_OBJECT)

static void
set_mood (MtMoodTracker *self,
          MtMood         mood)
{
  if (self->mood == mood)
    return;
  self->mood = mood;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MOOD]);
}

static void
mt_mood_tracker_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  MtMoodTracker *self = MT_MOOD_TRACKER (object);

  switch (prop_id)
    {
    case PROP_MOOD:
      g_value_set_enum (value, mt_mood_is_valid (self->mood) ? self->mood : MT_MOOD_NONE);
      break;
    case PROP_CONFIDENCE:
      g_value_set_float (value, mt_mood_tracker_get_confidence (self));
      break;
    case PROP_HALF_LIFE:
      g_value_set_double (value, self->half_life);
      break;
    case PROP_DWELL:
      g_value_set_double (value, self->dwell);
      break;
    case PROP_FACE_TIMEOUT:
      g_value_set_double (value, self->face_timeout);
      break;
    case PROP_MARGIN:
      g_value_set_float (value, self->margin);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_mood_tracker_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  MtMoodTracker *self = MT_MOOD_TRACKER (object);

  switch (prop_id)
    {
    case PROP_HALF_LIFE:
      self->half_life = g_value_get_double (value);
      break;
    case PROP_DWELL:
      self->dwell = g_value_get_double (value);
      break;
    case PROP_FACE_TIMEOUT:
      self->face_timeout = g_value_get_double (value);
      break;
    case PROP_MARGIN:
      self->margin = g_value_get_float (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_mood_tracker_class_init (MtMoodTrackerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS;

  object_class->get_property = mt_mood_tracker_get_property;
  object_class->set_property = mt_mood_tracker_set_property;

  /** MtMoodTracker:mood: the steady mood, or MT_MOOD_NONE. */
  properties[PROP_MOOD] =
    g_param_spec_enum ("mood", NULL, NULL, MT_TYPE_MOOD, MT_MOOD_NONE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /** MtMoodTracker:confidence: smoothed probability of the mood. */
  properties[PROP_CONFIDENCE] =
    g_param_spec_float ("confidence", NULL, NULL, 0, 1, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /** MtMoodTracker:half-life: seconds after which a reading weighs half. */
  properties[PROP_HALF_LIFE] =
    g_param_spec_double ("half-life", NULL, NULL, 0.05, 60, 1.0, rw);
  /** MtMoodTracker:dwell: seconds a new mood must lead before it is taken. */
  properties[PROP_DWELL] =
    g_param_spec_double ("dwell", NULL, NULL, 0, 60, 1.5, rw);
  /** MtMoodTracker:face-timeout: seconds without a face before the mood is none. */
  properties[PROP_FACE_TIMEOUT] =
    g_param_spec_double ("face-timeout", NULL, NULL, 0.1, 600, 3.0, rw);
  /** MtMoodTracker:margin: how far a new mood must lead the current one. */
  properties[PROP_MARGIN] =
    g_param_spec_float ("margin", NULL, NULL, 0, 1, 0.08f, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_mood_tracker_init (MtMoodTracker *self)
{
  self->mood = MT_MOOD_NONE;
  self->challenger = MT_MOOD_NONE;
}

MtMoodTracker *
mt_mood_tracker_new (void)
{
  return g_object_new (MT_TYPE_MOOD_TRACKER, NULL);
}

void
mt_mood_tracker_reset (MtMoodTracker *self)
{
  g_return_if_fail (MT_IS_MOOD_TRACKER (self));

  memset (self->smoothed, 0, sizeof self->smoothed);
  self->has_reading = FALSE;
  self->challenger = MT_MOOD_NONE;
  set_mood (self, MT_MOOD_NONE);
}

/* The expression with the highest smoothed probability after @leader. */
static MtMood
runner_up (const float *smoothed,
           MtMood       leader)
{
  MtMood best = leader == 0 ? 1 : 0;

  for (int i = 0; i < MT_N_MOODS; i++)
    if (i != (int) leader && smoothed[i] > smoothed[best])
      best = i;
  return best;
}

static gboolean
valid_reading (const float *probabilities)
{
  for (int i = 0; i < MT_N_MOODS; i++)
    if (!isfinite (probabilities[i]) || probabilities[i] < 0)
      return FALSE;
  return TRUE;
}

void
mt_mood_tracker_update (MtMoodTracker *self,
                        const float   *probabilities,
                        gint64         time_us)
{
  MtMood leader, incumbent;

  g_return_if_fail (MT_IS_MOOD_TRACKER (self));

  if (probabilities != NULL && !valid_reading (probabilities))
    probabilities = NULL;

  if (probabilities == NULL)
    {
      /* Keep the mood through short gaps (a turned head), then let it go. */
      if (self->has_reading &&
          (time_us - self->last_face_us) / (double) G_USEC_PER_SEC >= self->face_timeout)
        mt_mood_tracker_reset (self);
      return;
    }

  if (!self->has_reading || time_us <= self->last_update_us)
    {
      if (!self->has_reading)
        memcpy (self->smoothed, probabilities, sizeof self->smoothed);
    }
  else
    {
      double dt = (time_us - self->last_update_us) / (double) G_USEC_PER_SEC;
      float alpha = (float) (1.0 - exp (-dt * G_LN2 / self->half_life));

      for (int i = 0; i < MT_N_MOODS; i++)
        self->smoothed[i] += alpha * (probabilities[i] - self->smoothed[i]);
    }
  self->has_reading = TRUE;
  self->last_update_us = MAX (self->last_update_us, time_us);
  self->last_face_us = self->last_update_us;

  /* A new mood, the first one included (after start or a lost face), must
   * lead what it would replace by the margin for the dwell time: with no
   * mood yet, that is the runner-up, so one frame's argmax is never taken. */
  leader = mt_mood_argmax (self->smoothed);
  incumbent = self->mood != MT_MOOD_NONE ? self->mood : runner_up (self->smoothed, leader);
  if (leader == self->mood ||
      self->smoothed[leader] < self->smoothed[incumbent] + self->margin)
    {
      self->challenger = MT_MOOD_NONE;
      return;
    }

  if (leader != self->challenger)
    {
      self->challenger = leader;
      self->challenger_since_us = time_us;
    }
  if ((time_us - self->challenger_since_us) / (double) G_USEC_PER_SEC >= self->dwell)
    {
      self->challenger = MT_MOOD_NONE;
      set_mood (self, leader);
    }
}

MtMood
mt_mood_tracker_get_mood (MtMoodTracker *self)
{
  g_return_val_if_fail (MT_IS_MOOD_TRACKER (self), MT_MOOD_NONE);
  return self->mood;
}

float
mt_mood_tracker_get_confidence (MtMoodTracker *self)
{
  g_return_val_if_fail (MT_IS_MOOD_TRACKER (self), 0);
  return self->mood == MT_MOOD_NONE ? 0 : self->smoothed[self->mood];
}

void
mt_mood_tracker_get_smoothed (MtMoodTracker *self,
                              float         *probabilities)
{
  g_return_if_fail (MT_IS_MOOD_TRACKER (self));
  memcpy (probabilities, self->smoothed, sizeof self->smoothed);
}
