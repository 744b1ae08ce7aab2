/* mt-mood-history.c: a ring of one sample per second. */
#include "config.h"

#include "mt-mood-history.h"

/* Both ends of the window: a sample exactly that old is kept. */
#define CAPACITY (MT_MOOD_HISTORY_MINUTES * 60 + 1)

struct _MtMoodHistory
{
  MtMoodSample samples[CAPACITY];
  guint        first;   /* index of the oldest sample */
  guint        n;
};

MtMoodHistory *
mt_mood_history_new (void)
{
  return g_new0 (MtMoodHistory, 1);
}

void
mt_mood_history_free (MtMoodHistory *self)
{
  g_free (self);
}

void
mt_mood_history_clear (MtMoodHistory *self)
{
  g_return_if_fail (self != NULL);
  self->first = 0;
  self->n = 0;
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

void
mt_mood_history_add (MtMoodHistory      *self,
                     const MtMoodSample *sample)
{
  const MtMoodSample *newest;
  gint64 horizon;

  g_return_if_fail (self != NULL);
  g_return_if_fail (sample != NULL);

  newest = self->n > 0 ? mt_mood_history_get (self, self->n - 1) : NULL;
  if (newest != NULL && sample->time_us < newest->time_us)
    mt_mood_history_clear (self);
  else if (newest != NULL && sample->time_us / G_USEC_PER_SEC == newest->time_us / G_USEC_PER_SEC)
    {
      self->samples[(self->first + self->n - 1) % CAPACITY] = *sample;
      return;
    }

  horizon = sample->time_us - (gint64) MT_MOOD_HISTORY_MINUTES * 60 * G_USEC_PER_SEC;
  while (self->n > 0 && mt_mood_history_get (self, 0)->time_us < horizon)
    {
      self->first = (self->first + 1) % CAPACITY;
      self->n--;
    }
  if (self->n == CAPACITY)
    {
      self->first = (self->first + 1) % CAPACITY;
      self->n--;
    }
  self->samples[(self->first + self->n) % CAPACITY] = *sample;
  self->n++;
}
