/* bench-fma-peak: one core's floating point peak per vector width.
 *
 *   bench-fma-peak [SECONDS]
 *
 * See fma-peak.c; bench-vision prints the same figures beside each layer's
 * GFLOP/s.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fma-peak.h"

int
main (int   argc,
      char *argv[])
{
  MtFmaPeak peaks[2];
  double seconds = argc > 1 ? atof (argv[1]) : 0.5;
  int n = mt_fma_peak_measure (peaks, seconds > 0 ? seconds : 0.5);

  if (n == 0)
    {
      printf ("no AVX2 or AVX-512 on this CPU: nothing to measure\n");
      return 0;
    }
  printf ("one core's peak (12 independent chains, thread CPU time):\n");
  for (int i = 0; i < n; i++)
    printf ("  %-7s FMA %7.1f GFLOP/s   separate mul + add %7.1f GFLOP/s\n",
            peaks[i].isa, peaks[i].fma_gflops, peaks[i].muladd_gflops);
  return 0;
}
