/* fma-peak.c: the floating point peak of one core, so that the kernels'
 * GFLOP/s have a limit to be measured against.
 *
 * Each loop keeps 12 independent chains of vector multiply-adds on values
 * that stay finite (x · 0.9999 + small, the factor read from a volatile so
 * that the compiler cannot fold it), enough to cover the latency of two FMA
 * pipes (4 cycles each); the chains live in registers, nothing is loaded.
 * Timed on the thread's CPU time, which other processes on a loaded machine
 * disturb less than wall-clock time.  Two figures per vector width: fused
 * multiply-adds (what a kernel allowed to use FMA can reach), and a
 * separate multiply and add per step (what our bit-identical kernels, built
 * with -ffp-contract=off, can reach: half as many flops per instruction on
 * CPUs whose adds and multiplies share the FMA pipes).
 */
#include "config.h"

#include <time.h>

#include "fma-peak.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CHAINS 12
#define ITERATIONS 100000

static volatile float scale_factor = 0.9999f;

static double
cpu_seconds (void)
{
  struct timespec t;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* The chains as one macro so that each variant spells them the same way. */
#define CHAIN_LOOP(type, set1, step, lanes)                                  \
  float scale = scale_factor;                                                \
  type acc[CHAINS], one = set1 (scale), tiny = set1 (1e-7f);                 \
  double t0, t;                                                              \
  long n = 0;                                                                \
  for (int c = 0; c < CHAINS; c++)                                           \
    acc[c] = set1 ((float) c);                                               \
  t0 = cpu_seconds ();                                                       \
  do                                                                         \
    {                                                                        \
      for (int i = 0; i < ITERATIONS; i++)                                   \
        {                                                                    \
          _Pragma ("GCC unroll 12")                                          \
          for (int c = 0; c < CHAINS; c++)                                   \
            acc[c] = step;                                                   \
        }                                                                    \
      n += ITERATIONS;                                                       \
      t = cpu_seconds () - t0;                                               \
    }                                                                        \
  while (t < seconds);                                                       \
  {                                                                          \
    volatile float sink = 0;                                                 \
    for (int c = 0; c < CHAINS; c++)                                         \
      sink += acc[c][0];                                                     \
    (void) sink;                                                             \
  }                                                                          \
  return 2.0 * n * CHAINS * lanes / t / 1e9

__attribute__ ((target ("avx512f")))
static double
fma512 (double seconds)
{
  CHAIN_LOOP (__m512, _mm512_set1_ps, _mm512_fmadd_ps (acc[c], one, tiny), 16);
}

__attribute__ ((target ("avx512f")))
static double
muladd512 (double seconds)
{
  CHAIN_LOOP (__m512, _mm512_set1_ps, _mm512_add_ps (_mm512_mul_ps (acc[c], one), tiny), 16);
}

__attribute__ ((target ("avx2,fma")))
static double
fma256 (double seconds)
{
  CHAIN_LOOP (__m256, _mm256_set1_ps, _mm256_fmadd_ps (acc[c], one, tiny), 8);
}

__attribute__ ((target ("avx2")))
static double
muladd256 (double seconds)
{
  CHAIN_LOOP (__m256, _mm256_set1_ps, _mm256_add_ps (_mm256_mul_ps (acc[c], one), tiny), 8);
}

int
mt_fma_peak_measure (MtFmaPeak *peaks,
                     double     seconds)
{
  int n = 0;

  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f"))
    peaks[n++] = (MtFmaPeak) { "avx512", fma512 (seconds), muladd512 (seconds) };
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    peaks[n++] = (MtFmaPeak) { "avx2", fma256 (seconds), muladd256 (seconds) };
  return n;
}

#else

int
mt_fma_peak_measure (MtFmaPeak *peaks,
                     double     seconds)
{
  return 0;
}

#endif
