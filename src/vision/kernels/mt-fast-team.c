/* mt-fast-team.c: threads that share one layer's work.
 *
 * A network's layers run one after the other, each a few to a few hundred
 * microseconds, so a team hands its helpers parts of one layer at a time and
 * the cost that matters is waking them: between layers a helper spins for a
 * short while (a layer's gap, not a frame's), so the next part reaches it in
 * well under a microsecond, and sleeps on a condition variable after that or
 * as soon as the caller says the network is done (mt_fast_team_rest()).
 * The caller always runs part 0 itself.
 */
#define G_LOG_DOMAIN "mt-fast-kernels"

#include "config.h"

#include "mt-fast-private.h"

/* How long an idle helper spins before it sleeps: longer than the gaps
 * between one network's split layers, short against a frame. */
#define SPIN_US 60

struct _MtFastTeam {
  guint          n_threads;   /* the caller's included */
  GThread      **helpers;     /* n_threads - 1 */
  MtFastScratch *scratches;   /* one per helper */

  GMutex         lock;
  GCond          wake;
  guint          n_sleeping;  /* helpers in g_cond_wait, under lock */
  gint           generation;  /* atomic; changed under lock */
  gint           quit;        /* atomic */

  /* The job of the current generation; NULL for a rest. */
  MtFastTeamFunc func;
  gpointer       data;
  guint          n_parts;
  gint           pending;     /* atomic: helpers' parts not yet done */
  guint64        n_splits;    /* the caller's: jobs run in several parts */
  const gint    *gate;        /* the caller's: see mt_fast_team_set_gate() */
};

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

/* Waits until the generation differs from @seen: spins first unless the last
 * job was a rest, then sleeps. */
static gint
wait_for_job (MtFastTeam *team,
              gint        seen,
              gboolean    spin)
{
  gint generation;

  if (spin)
    {
      gint64 give_up = g_get_monotonic_time () + SPIN_US;

      for (guint i = 1;; i++)
        {
          generation = g_atomic_int_get (&team->generation);
          if (generation != seen)
            return generation;
          cpu_relax ();
          if (i % 128 == 0 && g_get_monotonic_time () > give_up)
            break;
        }
    }

  g_mutex_lock (&team->lock);
  team->n_sleeping++;
  while ((generation = g_atomic_int_get (&team->generation)) == seen &&
         !g_atomic_int_get (&team->quit))
    g_cond_wait (&team->wake, &team->lock);
  team->n_sleeping--;
  g_mutex_unlock (&team->lock);
  return generation;
}

typedef struct {
  MtFastTeam *team;
  guint       index;  /* 1 … n_threads - 1 */
} Helper;

static gpointer
helper_main (gpointer user_data)
{
  Helper *helper = user_data;
  MtFastTeam *team = helper->team;
  guint index = helper->index;
  /* Not the generation now: the caller may have published a job before
   * this thread got to run.  Every generation after 0 is a job to take. */
  gint seen = 0;
  gboolean spin = FALSE;

  g_free (helper);
  for (;;)
    {
      MtFastTeamFunc func;

      seen = wait_for_job (team, seen, spin);
      if (g_atomic_int_get (&team->quit))
        return NULL;

      /* Read before saying done: the caller may publish the next job then. */
      func = team->func;
      if (func != NULL && index < team->n_parts)
        func (team->data, index, team->n_parts, &team->scratches[index - 1]);
      /* After a rest (no job), straight back to sleep. */
      spin = func != NULL;
      g_atomic_int_dec_and_test (&team->pending);
    }
}

MtFastTeam *
mt_fast_team_new (guint n_threads)
{
  MtFastTeam *team;

  g_return_val_if_fail (n_threads >= 1, NULL);

  team = g_new0 (MtFastTeam, 1);
  g_mutex_init (&team->lock);
  g_cond_init (&team->wake);
  team->helpers = g_new0 (GThread *, MAX (n_threads - 1, 1));
  team->scratches = g_new0 (MtFastScratch, MAX (n_threads - 1, 1));
  team->n_threads = 1;
  for (guint i = 1; i < n_threads; i++)
    {
      g_autoptr(GError) error = NULL;
      Helper *helper = g_new (Helper, 1);

      *helper = (Helper) { team, i };
      team->helpers[i - 1] = g_thread_try_new ("mt-fast-team", helper_main, helper, &error);
      if (team->helpers[i - 1] == NULL)
        {
          /* Fewer threads is slower, not wrong. */
          g_warning ("A layer's work runs on %u threads, not %u: %s", i, n_threads, error->message);
          g_free (helper);
          break;
        }
      team->n_threads = i + 1;
    }
  return team;
}

void
mt_fast_team_free (MtFastTeam *team)
{
  if (team == NULL)
    return;

  g_mutex_lock (&team->lock);
  g_atomic_int_set (&team->quit, TRUE);
  g_atomic_int_inc (&team->generation);
  g_cond_broadcast (&team->wake);
  g_mutex_unlock (&team->lock);
  for (guint i = 0; i + 1 < team->n_threads; i++)
    {
      g_thread_join (team->helpers[i]);
      mt_fast_scratch_clear (&team->scratches[i]);
    }
  g_free (team->helpers);
  g_free (team->scratches);
  g_mutex_clear (&team->lock);
  g_cond_clear (&team->wake);
  g_free (team);
}

guint
mt_fast_team_get_n_threads (MtFastTeam *team)
{
  return team ? team->n_threads : 1;
}

/* Starts a generation: @func NULL is a rest. */
static void
publish (MtFastTeam    *team,
         MtFastTeamFunc func,
         gpointer       data,
         guint          n_parts)
{
  team->func = func;
  team->data = data;
  team->n_parts = n_parts;
  g_atomic_int_set (&team->pending, (gint) team->n_threads - 1);
  g_mutex_lock (&team->lock);
  g_atomic_int_inc (&team->generation);
  if (team->n_sleeping > 0)
    g_cond_broadcast (&team->wake);
  g_mutex_unlock (&team->lock);
}

static void
wait_for_helpers (MtFastTeam *team)
{
  for (guint i = 1; g_atomic_int_get (&team->pending) > 0; i++)
    {
      cpu_relax ();
      /* A helper the scheduler took off its core: let it back on. */
      if (i % 4096 == 0)
        g_thread_yield ();
    }
}

guint64
mt_fast_team_get_n_splits (MtFastTeam *team)
{
  return team ? team->n_splits : 0;
}

void
mt_fast_team_set_gate (MtFastTeam *team,
                       const gint *busy)
{
  g_return_if_fail (team != NULL);

  team->gate = busy;
}

void
mt_fast_team_rest (MtFastTeam *team)
{
  if (team == NULL || team->n_threads == 1)
    return;
  publish (team, NULL, NULL, 0);
  wait_for_helpers (team);
}

void
_mt_fast_team_run (MtFastTeam    *team,
                   guint          n_parts,
                   MtFastTeamFunc func,
                   gpointer       data,
                   MtFastScratch *scratch)
{
  if (team == NULL || team->n_threads == 1 || n_parts <= 1 ||
      (team->gate != NULL && g_atomic_int_get (team->gate) > 0))
    {
      func (data, 0, 1, scratch);
      return;
    }

  n_parts = MIN (n_parts, team->n_threads);
  team->n_splits++;
  publish (team, func, data, n_parts);
  func (data, 0, n_parts, scratch);
  wait_for_helpers (team);
}

guint
_mt_fast_team_parts (MtFastTeam *team,
                     double      work,
                     double      work_per_part)
{
  guint n = mt_fast_team_get_n_threads (team);

  if (work_per_part <= 0.0)
    return n;
  while (n > 1 && work / n < work_per_part)
    n--;
  return n;
}
