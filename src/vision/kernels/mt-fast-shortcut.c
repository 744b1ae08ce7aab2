/* mt-fast-shortcut.c: Darknet's [shortcut] layer, an element-wise add and
 * activation.  AVX2 and portable builds.
 */
#define G_LOG_DOMAIN "mt-fast-kernels"

#include "config.h"

#include "mt-fast-private.h"

/* output = activation (a + b), or activation (a) where @b is NULL (the
 * channels a narrower [shortcut] input does not reach: Darknet adds nothing
 * there, not even a zero, which would turn -0 into +0). */
INLINE void
fast_add_body (gsize             n,
               const float      *a,
               const float      *b,
               MtFastActivation  activation,
               float            *output)
{
  gsize i = 0;

  /* One loop per activation, so each is branch-free. */
#define ADD_LOOP(act)                                                        \
  if (b == NULL)                                                             \
    for (; i + 8 <= n; i += 8)                                               \
      v8_store (output + i, v8_activate (v8_load (a + i), act));             \
  else                                                                       \
    for (; i + 8 <= n; i += 8)                                               \
      v8_store (output + i, v8_activate (v8_load (a + i) + v8_load (b + i), act))

  switch (activation)
    {
    case MT_FAST_ACTIVATION_RELU:
      ADD_LOOP (MT_FAST_ACTIVATION_RELU);
      break;
    case MT_FAST_ACTIVATION_LEAKY:
      ADD_LOOP (MT_FAST_ACTIVATION_LEAKY);
      break;
    case MT_FAST_ACTIVATION_LOGISTIC:
      ADD_LOOP (MT_FAST_ACTIVATION_LOGISTIC);
      break;
    case MT_FAST_ACTIVATION_LINEAR:
    default:
      ADD_LOOP (MT_FAST_ACTIVATION_LINEAR);
      break;
    }
#undef ADD_LOOP

  for (; i < n; i++)
    output[i] = activate_scalar (b ? a[i] + b[i] : a[i], activation);
}

MT_DEFINE_VARIANTS (fast_add,
                    (gsize n, const float *a, const float *b,
                     MtFastActivation activation, float *output),
                    (n, a, b, activation, output))

typedef struct {
  gsize             n, plane;
  const float      *a, *b;
  MtFastActivation  activation;
  float            *output;
} AddJob;

/* A team's part: the same share of every channel's plane, so a thread adds
 * the rows its convolutions wrote and will read (they split by output
 * columns, which are rows). */
static void
add_job (gpointer       data,
         guint          part,
         guint          n_parts,
         MtFastScratch *scratch)
{
  AddJob *job = data;
  gsize begin, end;

  team_part_range (job->plane, 16, part, n_parts, &begin, &end);
  if (begin == end)
    return;
  for (gsize at = 0; at < job->n; at += job->plane)
    {
      gsize from = at + begin, to = MIN (at + end, job->n);

      if (from < to)
        fast_add (to - from, job->a + from, job->b ? job->b + from : NULL,
                  job->activation, job->output + from);
    }
}

/* Least elements worth a thread's part: the add is bound by memory, and a
 * second core brings its own L1 and L2 bandwidth. */
#define TEAM_MIN_ELEMENTS 8192.0

void
mt_fast_add_forward (gsize             n,
                     gsize             plane,
                     const float      *a,
                     const float      *b,
                     MtFastActivation  activation,
                     float            *output,
                     MtFastTeam       *team)
{
  AddJob job = { n, plane, a, b, activation, output };
  guint n_parts;

  g_return_if_fail (a != NULL && output != NULL);
  g_return_if_fail (activation_is_valid (activation));
  g_return_if_fail (plane > 0);

  n_parts = _mt_fast_team_parts (team, (double) n, TEAM_MIN_ELEMENTS);
  /* Planes too small to share: whole ones in parts instead. */
  if (n_parts > 1 && plane < 16 * n_parts)
    {
      job.plane = n;
      if (n < 16 * n_parts)
        n_parts = 1;
    }
  _mt_fast_team_run (team, n_parts, add_job, &job, NULL);
}
