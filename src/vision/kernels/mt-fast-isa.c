/* mt-fast-isa.c: which instruction set the fast kernels run with.
 *
 * The kernels are built for AVX-512, AVX2 and a portable instruction set
 * (see mt-fast-vector.h); the best one the CPU has is used unless a test or
 * benchmark asks for another with mt_fast_kernels_set_isa().
 */
#define G_LOG_DOMAIN "mt-fast-kernels"

#include "config.h"

#include "mt-fast-vector.h"

static int isa_override = -1;

static MtFastIsa
detect_isa (void)
{
#ifdef MT_HAVE_X86_VARIANTS
  static gsize detected = 0;

  if (g_once_init_enter (&detected))
    {
      MtFastIsa isa = MT_FAST_ISA_GENERIC;

      __builtin_cpu_init ();
      if (__builtin_cpu_supports ("avx2"))
        isa = MT_FAST_ISA_AVX2;
      if (isa == MT_FAST_ISA_AVX2 && __builtin_cpu_supports ("avx512f"))
        isa = MT_FAST_ISA_AVX512;
      g_once_init_leave (&detected, isa + 1);
    }
  return (MtFastIsa) (detected - 1);
#else
  return MT_FAST_ISA_GENERIC;
#endif
}

MtFastIsa
mt_fast_kernels_get_best_isa (void)
{
  return detect_isa ();
}

void
mt_fast_kernels_set_isa (MtFastIsa isa)
{
  g_return_if_fail (isa >= MT_FAST_ISA_GENERIC && isa <= MT_FAST_ISA_AVX512);

  g_atomic_int_set (&isa_override, MIN ((int) isa, (int) detect_isa ()));
}

MtFastIsa
mt_fast_kernels_get_isa (void)
{
  int isa = g_atomic_int_get (&isa_override);

  return isa >= 0 ? (MtFastIsa) isa : detect_isa ();
}

const char *
mt_fast_kernels_isa_name (MtFastIsa isa)
{
  switch (isa)
    {
    case MT_FAST_ISA_AVX512:
      return "avx512";
    case MT_FAST_ISA_AVX2:
      return "avx2";
    case MT_FAST_ISA_GENERIC:
    default:
      return "generic";
    }
}
