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
  gsize             n;
  const float      *a, *b;
  MtFastActivation  activation;
  float            *output;
} AddJob;

static void
add_job (gpointer       data,
         guint          part,
         guint          n_parts,
         MtFastScratch *scratch)
{
  AddJob *job = data;
  gsize begin, end;

  /* Parts of whole cache lines, so no line is written by two threads. */
  team_part_range (job->n, 16, part, n_parts, &begin, &end);
  if (begin < end)
    fast_add (end - begin, job->a + begin, job->b ? job->b + begin : NULL,
              job->activation, job->output + begin);
}

/* Least elements worth a thread's part: the add is bound by memory, and a
 * second core brings its own L1 and L2 bandwidth. */
#define TEAM_MIN_ELEMENTS 8192.0

void
mt_fast_add_forward (gsize             n,
                     const float      *a,
                     const float      *b,
                     MtFastActivation  activation,
                     float            *output,
                     MtFastTeam       *team)
{
  AddJob job = { n, a, b, activation, output };

  g_return_if_fail (a != NULL && output != NULL);
  g_return_if_fail (activation_is_valid (activation));

  _mt_fast_team_run (team, _mt_fast_team_parts (team, (double) n, TEAM_MIN_ELEMENTS),
                     add_job, &job, NULL);
}
