/* mt-fast-scratch.c: the kernels' growable, aligned work memory. */
#define G_LOG_DOMAIN "mt-fast-kernels"

#include "config.h"

#include "mt-fast-private.h"

float *
_mt_fast_scratch_reserve (MtFastScratch *scratch,
                          gsize          n_floats)
{
  if (scratch->n_floats < n_floats)
    {
      g_aligned_free (scratch->data);
      /* Some slack so that later, slightly larger requests do not realloc. */
      scratch->n_floats = n_floats + n_floats / 8 + 64;
      scratch->data = g_aligned_alloc (scratch->n_floats, sizeof (float), 64);
    }
  return scratch->data;
}

void
mt_fast_scratch_clear (MtFastScratch *scratch)
{
  g_clear_pointer (&scratch->data, g_aligned_free);
  scratch->n_floats = 0;
}
