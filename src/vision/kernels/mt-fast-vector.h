/* mt-fast-vector.h: the fast kernels' vector types, helpers and activations.
 *
 * Private to src/vision/kernels/.  Written with GCC vector extensions so one
 * source serves several builds of each hot loop: AVX-512 (the GEMMs, the
 * direct convolution of first layers and depthwise rows), AVX2 and a
 * portable one (SSE2 on x86-64, NEON elsewhere), chosen at run time from
 * what the CPU has.  The loop bodies are always_inline functions
 * instantiated in each build (see MT_DEFINE_VARIANTS), so everything here is
 * static inline: each file's variants get their own copy, compiled for their
 * instruction set.
 *
 * Results are bit-identical to Debian's Darknet CPU forward, not just close:
 * every sum runs in Darknet's order with a separate multiply and add (these
 * files are built with -ffp-contract=off, and Debian's Darknet uses no FMA),
 * the bias is added after the sum and the activation after that, in
 * Darknet's precision (leaky's 0.1 x is a double product).  On CPUs with
 * separate add and multiply pipes this costs little; the double leaky costs
 * about a third of a 16-input pointwise layer.
 */
#pragma once

#include <math.h>
#include <string.h>
#include <glib.h>

#include "mt-fast-kernels.h"

typedef float  v8f  __attribute__ ((vector_size (32)));
typedef int    v8i  __attribute__ ((vector_size (32)));
typedef float  v4f  __attribute__ ((vector_size (16)));
typedef int    v4i  __attribute__ ((vector_size (16)));
typedef float  v16f __attribute__ ((vector_size (64)));
typedef int    v16i __attribute__ ((vector_size (64)));
typedef double v8d  __attribute__ ((vector_size (64)));
typedef double v16d __attribute__ ((vector_size (128)));

#define INLINE static inline __attribute__ ((always_inline))

#if defined(__x86_64__) || defined(__i386__)
# define MT_HAVE_X86_VARIANTS 1
#endif

/* ---- small vector helpers ------------------------------------------------ */

INLINE v8f
v8_load (const float *p)
{
  v8f v;
  memcpy (&v, p, sizeof v);
  return v;
}

INLINE void
v8_store (float *p,
          v8f    v)
{
  memcpy (p, &v, sizeof v);
}

INLINE void
v8_store_n (float *p,
            v8f    v,
            int    n)
{
  float tmp[8];

  memcpy (tmp, &v, sizeof v);
  memcpy (p, tmp, (gsize) n * sizeof (float));
}

INLINE v4f
v4_load (const float *p)
{
  v4f v;
  memcpy (&v, p, sizeof v);
  return v;
}

INLINE void
v4_store (float *p,
          v4f    v)
{
  memcpy (p, &v, sizeof v);
}

INLINE v4f
v4_max (v4f a,
        v4f b)
{
  v4i m = a > b;
  return (v4f) (((v4i) a & m) | ((v4i) b & ~m));
}

/* Spelt as a shuffle: GCC 12 turns the obvious { x, x, … } initialiser into
 * a chain of inserts, this into one (embedded) broadcast. */
INLINE v8f
v8_set1 (float x)
{
  v8f v = { x };

  return __builtin_shufflevector (v, v, 0, 0, 0, 0, 0, 0, 0, 0);
}

/* Lane-wise a > b ? a : b, which is also Darknet's max pooling rule. */
INLINE v8f
v8_max (v8f a,
        v8f b)
{
  v8i m = a > b;
  return (v8f) (((v8i) a & m) | ((v8i) b & ~m));
}

/* ---- activations --------------------------------------------------------- */

INLINE float
logistic_scalar (float x)
{
  /* Darknet computes it in double precision. */
  return (float) (1. / (1. + exp (-(double) x)));
}

INLINE v8f
v8_activate (v8f              x,
             MtFastActivation activation)
{
  switch (activation)
    {
    case MT_FAST_ACTIVATION_RELU:
      return v8_max (x, v8_set1 (0.f));
    case MT_FAST_ACTIVATION_LEAKY:
      {
        /* Darknet's .1 * x is a double product rounded to float.  Written
         * on all 8 lanes at once: converted in 4-lane halves, GCC 12 split
         * each half again into pairs of lanes through the stack (17
         * instructions, not 9): Tiny 320's first layer 2.34 -> 1.91 ms. */
        v8f neg = __builtin_convertvector (__builtin_convertvector (x, v8d) * 0.1, v8f);
        v8i m = x > v8_set1 (0.f);

        return (v8f) (((v8i) x & m) | ((v8i) neg & ~m));
      }
    case MT_FAST_ACTIVATION_LOGISTIC:
      for (int i = 0; i < 8; i++)
        x[i] = logistic_scalar (x[i]);
      return x;
    case MT_FAST_ACTIVATION_LINEAR:
    default:
      return x;
    }
}

INLINE float
activate_scalar (float            x,
                 MtFastActivation activation)
{
  switch (activation)
    {
    case MT_FAST_ACTIVATION_RELU:
      return x > 0.f ? x : 0.f;
    case MT_FAST_ACTIVATION_LEAKY:
      return x > 0.f ? x : (float) (.1 * x);
    case MT_FAST_ACTIVATION_LOGISTIC:
      return logistic_scalar (x);
    case MT_FAST_ACTIVATION_LINEAR:
    default:
      return x;
    }
}

static inline gboolean
activation_is_valid (MtFastActivation activation)
{
  return activation == MT_FAST_ACTIVATION_LINEAR ||
         activation == MT_FAST_ACTIVATION_RELU ||
         activation == MT_FAST_ACTIVATION_LEAKY ||
         activation == MT_FAST_ACTIVATION_LOGISTIC;
}

#ifdef MT_HAVE_X86_VARIANTS

/* ---- 16-wide vectors, only used in AVX-512 functions --------------------- */

INLINE v16f
v16_load (const float *p)
{
  v16f v;
  memcpy (&v, p, sizeof v);
  return v;
}

INLINE void
v16_store_n (float *p,
             v16f   v,
             int    n)
{
  if (n == 16)
    memcpy (p, &v, sizeof v);
  else
    {
      float tmp[16];

      memcpy (tmp, &v, sizeof v);
      memcpy (p, tmp, (gsize) n * sizeof (float));
    }
}

INLINE v16f
v16_set1 (float x)
{
  v16f v = { x };

  return __builtin_shufflevector (v, v, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

INLINE v16f
v16_activate (v16f             x,
              MtFastActivation activation)
{
  v16i m;

  switch (activation)
    {
    case MT_FAST_ACTIVATION_RELU:
      m = x > v16_set1 (0.f);
      return (v16f) ((v16i) x & m);
    case MT_FAST_ACTIVATION_LEAKY:
      {
        /* Darknet's .1 * x is a double product rounded to float; on all 16
         * lanes at once, as in v8_activate(): 13 instructions where 8-lane
         * halves took 21. */
        v16f neg = __builtin_convertvector (__builtin_convertvector (x, v16d) * 0.1, v16f);

        m = x > v16_set1 (0.f);
        return (v16f) (((v16i) x & m) | ((v16i) neg & ~m));
      }
    case MT_FAST_ACTIVATION_LOGISTIC:
      for (int i = 0; i < 16; i++)
        x[i] = logistic_scalar (x[i]);
      return x;
    case MT_FAST_ACTIVATION_LINEAR:
    default:
      return x;
    }
}

#endif /* MT_HAVE_X86_VARIANTS */

/* ---- one source, several builds ------------------------------------------ */

/* Defines name_avx2() and name_generic() from name_body(), and name() which
 * picks one (AVX2 for AVX-512 CPUs too: pooling and shortcuts are bound by
 * memory, not by vector width).  Parameter lists are passed in parentheses;
 * @linkage is static, or empty for a function other kernel files call. */
#ifdef MT_HAVE_X86_VARIANTS
# define MT_DEFINE_VARIANTS_LINKAGE(linkage, name, params, args)             \
  __attribute__ ((target ("avx2"))) static void name##_avx2 params          \
  { name##_body args; }                                                      \
  static void name##_generic params                                          \
  { name##_body args; }                                                      \
  linkage void name params                                                   \
  {                                                                          \
    if (mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX2)                      \
      name##_avx2 args;                                                      \
    else                                                                     \
      name##_generic args;                                                   \
  }
#else
# define MT_DEFINE_VARIANTS_LINKAGE(linkage, name, params, args)             \
  linkage void name params                                                   \
  { name##_body args; }
#endif

#define MT_DEFINE_VARIANTS(name, params, args) \
  MT_DEFINE_VARIANTS_LINKAGE (static, name, params, args)
