/* mt-mood-history.c: a ring of one sample per second, and the marks. */
#include "config.h"

#include "mt-mood-history.h"

/* Both ends of the window: a sample exactly that old is kept. */
#define CAPACITY (MT_MOOD_HISTORY_MINUTES * 60 + 1)

struct _MtMoodHistory
{
  MtMoodSample samples[CAPACITY];
  guint        first;   /* index of the oldest sample */
  guint        n;
  GArray      *marks;   /* of MtMoodMark, oldest first */
};

static void
mark_clear (gpointer data)
{
  g_free (((MtMoodMark *) data)->title);
}

MtMoodHistory *
mt_mood_history_new (void)
{
  MtMoodHistory *self = g_new0 (MtMoodHistory, 1);

  self->marks = g_array_new (FALSE, TRUE, sizeof (MtMoodMark));
  g_array_set_clear_func (self->marks, mark_clear);
  return self;
}

void
mt_mood_history_free (MtMoodHistory *self)
{
  if (self == NULL)
    return;
  g_array_unref (self->marks);
  g_free (self);
}

void
mt_mood_history_clear (MtMoodHistory *self)
{
  g_return_if_fail (self != NULL);
  self->first = 0;
  self->n = 0;
  g_array_set_size (self->marks, 0);
}

static void
drop_marks_before (MtMoodHistory *self,
                   gint64         horizon)
{
  guint n = 0;

  while (n < self->marks->len && g_array_index (self->marks, MtMoodMark, n).time_us < horizon)
    n++;
  if (n > 0)
    g_array_remove_range (self->marks, 0, n);
}

void
mt_mood_history_add_mark (MtMoodHistory  *self,
                          gint64          time_us,
                          MtMoodMarkKind  kind,
                          gint64          song_id,
                          const char     *title)
{
  MtMoodMark mark = { time_us, kind, song_id, g_strdup (title) };

  g_return_if_fail (self != NULL);
  g_array_append_val (self->marks, mark);
  drop_marks_before (self, time_us - (gint64) MT_MOOD_HISTORY_MINUTES * 60 * G_USEC_PER_SEC);
}

guint
mt_mood_history_get_n_marks (MtMoodHistory *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->marks->len;
}

const MtMoodMark *
mt_mood_history_get_mark (MtMoodHistory *self,
                          guint          index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->marks->len, NULL);
  return &g_array_index (self->marks, MtMoodMark, index);
}

gboolean
mt_mood_history_summarize (MtMoodHistory *self,
                           guint          minutes,
                           MtMood        *longest,
                           MtMood        *now,
                           gint64        *since_us)
{
  guint seconds[MT_N_MOODS] = { 0 };
  const MtMoodSample *newest;
  gint64 horizon;
  guint i;

  g_return_val_if_fail (self != NULL, FALSE);

  if (self->n == 0)
    return FALSE;
  newest = mt_mood_history_get (self, self->n - 1);
  horizon = newest->time_us - (gint64) minutes * 60 * G_USEC_PER_SEC;
  for (i = 0; i < self->n; i++)
    {
      const MtMoodSample *sample = mt_mood_history_get (self, i);

      if (sample->time_us >= horizon && mt_mood_is_valid (sample->mood))
        seconds[sample->mood]++;
    }
  *longest = MT_MOOD_NONE;
  for (int m = 0; m < MT_N_MOODS; m++)
    if (seconds[m] > 0 && (*longest == MT_MOOD_NONE || seconds[m] > seconds[*longest]))
      *longest = m;
  *now = newest->mood;
  for (i = self->n; i > 1 && mt_mood_history_get (self, i - 2)->mood == newest->mood; i--)
    ;
  *since_us = mt_mood_history_get (self, i - 1)->time_us;
  return TRUE;
}

guint
mt_mood_history_get_n (MtMoodHistory *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n;
}

const MtMoodSample *
mt_mood_history_get (MtMoodHistory *self,
                     guint          index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->n, NULL);
  return &self->samples[(self->first + index) % CAPACITY];
}

gboolean
mt_mood_history_add (MtMoodHistory      *self,
                     const MtMoodSample *sample)
{
  const MtMoodSample *newest;
  gint64 horizon;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (sample != NULL, FALSE);

  newest = self->n > 0 ? mt_mood_history_get (self, self->n - 1) : NULL;
  if (newest != NULL && sample->time_us < newest->time_us)
    mt_mood_history_clear (self);
  else if (newest != NULL && sample->time_us / G_USEC_PER_SEC == newest->time_us / G_USEC_PER_SEC)
    {
      self->samples[(self->first + self->n - 1) % CAPACITY] = *sample;
      return FALSE;
    }

  horizon = sample->time_us - (gint64) MT_MOOD_HISTORY_MINUTES * 60 * G_USEC_PER_SEC;
  while (self->n > 0 && mt_mood_history_get (self, 0)->time_us < horizon)
    {
      self->first = (self->first + 1) % CAPACITY;
      self->n--;
    }
  drop_marks_before (self, horizon);
  if (self->n == CAPACITY)
    {
      self->first = (self->first + 1) % CAPACITY;
      self->n--;
    }
  self->samples[(self->first + self->n) % CAPACITY] = *sample;
  self->n++;
  return TRUE;
}
