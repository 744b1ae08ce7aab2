/* fma-peak.h: the floating point peak of one core, measured (bench/fma-peak.c). */
#pragma once


typedef struct {
  const char *isa;       /* "avx512", "avx2" */
  double fma_gflops;     /* fused multiply-adds, 2 flops each */
  double muladd_gflops;  /* separate multiplies and adds, as our kernels run */
} MtFmaPeak;

/* Measures each vector width this CPU has (at most 2 entries in @peaks) for
 * about @seconds each, on the calling thread's CPU time; returns how many. */
int mt_fma_peak_measure (MtFmaPeak *peaks,
                         double     seconds);
