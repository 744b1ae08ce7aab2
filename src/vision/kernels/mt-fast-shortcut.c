/* mt-fast-shortcut.c: Darknet's [shortcut] layer, an element-wise add and
 * activation.  AVX2 and portable builds.
 */
#define G_LOG_DOMAIN "mt-fast-kernels"

#include "config.h"

#include "mt-fast-vector.h"

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

void
mt_fast_add_forward (gsize             n,
                     const float      *a,
                     const float      *b,
                     MtFastActivation  activation,
                     float            *output)
{
  g_return_if_fail (a != NULL && output != NULL);
  g_return_if_fail (activation_is_valid (activation));

  fast_add (n, a, b, activation, output);
}
