/* mt-fast-gemm.c: C (M × N) = act (A (M × K) · B (K × N) + bias).
 *
 * The matrix product every convolution with groups == 1 runs on (weights ×
 * im2col columns, or × the input itself for 1×1 kernels), with the weights
 * packed once in row blocks (mt-fast-conv.c) and B copied into column
 * panels here.  An AVX2 build (6 × 16 tiles), a portable one (6 × 8) and an
 * AVX-512 one (8 × up to 48, 24 accumulators), with a narrow variant for
 * small maps (32 filters in the lanes × 12 columns).
 */
#define G_LOG_DOMAIN "mt-fast-kernels"

#include "config.h"

#include "mt-fast-private.h"

/* One MR × NR tile.  @ap holds K steps of MR weights (packed), @bp K steps of
 * NR columns (packed); @bias has MR entries.  Only mr rows and nr columns of
 * the tile are stored, and only @tile_rows rows (a constant in each
 * instantiation, >= mr) are computed: 16 or 32 filters leave a block of 4
 * or 2, whose zero rows would cost an eighth of the layer. */
INLINE void
gemm_tile (int               K,
           const float      *ap,
           const float      *bp,
           const float      *bias,
           MtFastActivation  activation,
           int               mr,
           int               nr,
           float            *c,
           gsize             ldc,
           int               nv,
           int               tile_rows)
{
  v8f c00 = { 0 }, c01 = { 0 }, c10 = { 0 }, c11 = { 0 }, c20 = { 0 }, c21 = { 0 };
  v8f c30 = { 0 }, c31 = { 0 }, c40 = { 0 }, c41 = { 0 }, c50 = { 0 }, c51 = { 0 };

  /* @nv (a constant in each build) is the number of 8-column vectors: 2 with
   * AVX2's 16 registers, 1 for SSE2, whose 128-bit registers would
   * otherwise overflow. */
  for (int k = 0; k < K; k++)
    {
      v8f b0 = v8_load (bp);
      v8f b1 = nv > 1 ? v8_load (bp + 8) : b0;
      v8f a;

      a = v8_set1 (ap[0]); c00 += a * b0; if (nv > 1) c01 += a * b1;
      a = v8_set1 (ap[1]); c10 += a * b0; if (nv > 1) c11 += a * b1;
      if (tile_rows > 2)
        {
          a = v8_set1 (ap[2]); c20 += a * b0; if (nv > 1) c21 += a * b1;
          a = v8_set1 (ap[3]); c30 += a * b0; if (nv > 1) c31 += a * b1;
        }
      if (tile_rows > 4)
        {
          a = v8_set1 (ap[4]); c40 += a * b0; if (nv > 1) c41 += a * b1;
          a = v8_set1 (ap[5]); c50 += a * b0; if (nv > 1) c51 += a * b1;
        }
      ap += MR;
      bp += NR;
    }

  {
    v8f rows[MR][2] = {
      { c00, c01 }, { c10, c11 }, { c20, c21 },
      { c30, c31 }, { c40, c41 }, { c50, c51 },
    };

    for (int r = 0; r < mr; r++)
      {
        /* Darknet adds the bias after the whole sum, then activates. */
        v8f lo = v8_activate (rows[r][0] + v8_set1 (bias[r]), activation);
        v8f hi = v8_activate (rows[r][1] + v8_set1 (bias[r]), activation);
        float *out = c + (gsize) r * ldc;

        if (nv == 1)
          v8_store_n (out, lo, MIN (nr, 8));
        else if (nr == NR)
          {
            v8_store (out, lo);
            v8_store (out + 8, hi);
          }
        else if (nr > 8)
          {
            v8_store (out, lo);
            v8_store_n (out + 8, hi, nr - 8);
          }
        else
          v8_store_n (out, lo, nr);
      }
  }
}

/* Short sums over a B larger than half an L2 (K <= PANEL_GROUP_MAX_K:
 * pointwise layers over few channels of large maps) pack PANEL_GROUP panels
 * at once, reading 64 columns of each row of B where one panel reads 16:
 * with each of K rows its own stream from L3, 16 columns a visit left the
 * hardware prefetchers behind (BlazeFace's 24 channels of 96x96 and
 * 128x128: a fifth faster).  On a B that L2 holds, one panel at a time is
 * as fast or a little faster. */
#define PANEL_GROUP 4
#define PANEL_GROUP_MAX_K 128
#define PANEL_GROUP_MIN_B (64 * 1024)

gsize
_mt_fast_gemm_panel_floats (int K)
{
  gsize one = round_up ((gsize) MAX (K, 1) * NR, 16);

  return K <= PANEL_GROUP_MAX_K ? PANEL_GROUP * one : one;
}

/* Copies columns [0, @n) of B (K rows of stride ldb), n <= @count NR, into
 * @count contiguous K × NR panels @stride floats apart, zero-filling the
 * last one's columns past n. */
INLINE void
pack_panels (int          K,
             const float *b,
             gsize        ldb,
             int          n,
             int          count,
             gsize        stride,
             float       *panel)
{
  for (int k = 0; k < K; k++)
    for (int p = 0; p < count; p++)
      {
        const float *src = b + k * ldb + p * NR;
        float *dst = panel + p * stride + k * NR;
        int nr = MIN (NR, n - p * NR);

        if (nr == NR)
          {
            v8_store (dst, v8_load (src));
            v8_store (dst + 8, v8_load (src + 8));
          }
        else
          {
            memcpy (dst, src, (gsize) nr * sizeof (float));
            memset (dst + nr, 0, (gsize) (NR - nr) * sizeof (float));
          }
      }
}

/* Columns [0, @nr) of C from one packed panel, every row block of A. */
INLINE void
gemm_panel (int               M,
            int               K,
            const float      *ap,
            const float      *bias,
            MtFastActivation  activation,
            const float      *panel,
            int               nr,
            float            *c,
            gsize             ldc,
            int               nv)
{
  for (int i = 0; i < M; i += MR)
    {
      const float *a = ap + (gsize) i * K;
      int mr = MIN (MR, M - i);
      float *out = c + (gsize) i * ldc;

#define TILE(cols, vectors, tile_rows) \
  gemm_tile (K, a, panel + (cols), bias + i, activation, mr, \
             (cols) ? nr - (cols) : nr, out + (cols), ldc, vectors, tile_rows)
#define TILES(vectors) \
  do { if (mr > 4) TILE (0, vectors, 6); \
       else if (mr > 2) TILE (0, vectors, 4); \
       else TILE (0, vectors, 2); } while (0)
      /* A last panel of at most 8 columns (7x7 maps: 1 of 49) takes one
       * vector: half the wasted lanes. */
      if (nv == 2 && nr > 8)
        TILES (2);
      else if (nv == 2)
        TILES (1);
      else
        {
          gemm_tile (K, a, panel, bias + i, activation, mr, MIN (nr, 8), out, ldc, 1, MR);
          if (nr > 8)
            TILE (8, 1, MR);
        }
#undef TILES
#undef TILE
    }
}

INLINE void
fast_gemm_body (int               M,
                int               K,
                int               N,
                const float      *ap,
                const float      *bias,
                MtFastActivation  activation,
                const float      *b,
                gsize             ldb,
                float            *c,
                gsize             ldc,
                float            *panels,
                int               nv)
{
  int group = K <= PANEL_GROUP_MAX_K && (gsize) K * N >= PANEL_GROUP_MIN_B ? PANEL_GROUP : 1;
  gsize stride = round_up ((gsize) MAX (K, 1) * NR, 16);

  for (int j0 = 0; j0 < N; j0 += group * NR)
    {
      int count = MIN (group, (N - j0 + NR - 1) / NR);

      pack_panels (K, b + j0, ldb, N - j0, count, stride, panels);
      for (int p = 0; p < count; p++)
        gemm_panel (M, K, ap, bias, activation, panels + p * stride,
                    MIN (NR, N - j0 - p * NR), c + j0 + p * NR, ldc, nv);
    }
}

#ifdef MT_HAVE_X86_VARIANTS
__attribute__ ((target ("avx2")))
static void
fast_gemm_avx2 (int M, int K, int N, const float *ap, const float *bias,
                MtFastActivation activation, const float *b, gsize ldb,
                float *c, gsize ldc, float *panel)
{
  /* Builds for the linear and ReLU layers: with the activation a variable,
   * the tiles' stores keep each accumulator on the stack around the switch
   * (logistic's lane by lane loop), 4-7% of BlazeFace's 24>24 layers.  A
   * leaky build measured slower (0.46 -> 0.65 ms on 32>64 at 80x80), so
   * leaky and logistic stay with the general one. */
  switch (activation)
    {
    case MT_FAST_ACTIVATION_RELU:
      fast_gemm_body (M, K, N, ap, bias, MT_FAST_ACTIVATION_RELU, b, ldb, c, ldc, panel, 2);
      break;
    case MT_FAST_ACTIVATION_LINEAR:
      fast_gemm_body (M, K, N, ap, bias, MT_FAST_ACTIVATION_LINEAR, b, ldb, c, ldc, panel, 2);
      break;
    default:
      fast_gemm_body (M, K, N, ap, bias, activation, b, ldb, c, ldc, panel, 2);
      break;
    }
}
#endif

void
_mt_fast_gemm (int M, int K, int N, const float *ap, const float *bias,
               MtFastActivation activation, const float *b, gsize ldb,
               float *c, gsize ldc, float *panel)
{
#ifdef MT_HAVE_X86_VARIANTS
  if (mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX2)
    {
      fast_gemm_avx2 (M, K, N, ap, bias, activation, b, ldb, c, ldc, panel);
      return;
    }
#endif
  fast_gemm_body (M, K, N, ap, bias, activation, b, ldb, c, ldc, panel, 1);
}

#ifdef MT_HAVE_X86_VARIANTS

/* The AVX-512 GEMM: twice the vector width and twice the registers, so an
 * 8 × 48 tile (24 accumulators).  Only instantiated for AVX-512. */

/* Columns of one tile of the narrow GEMM. */
#define NARROW_COLS 12

#define ROW16(r)                                                             \
  do {                                                                       \
    v16f a = v16_set1 (ap[r]);                                               \
    c##r##0 += a * b0;                                                       \
    if (nv > 1)                                                              \
      c##r##1 += a * b1;                                                     \
    if (nv > 2)                                                              \
      c##r##2 += a * b2;                                                     \
  } while (0)

#define STORE16(r)                                                           \
  if (r < mr)                                                                \
    {                                                                        \
      v16f bias_r = v16_set1 (bias[r]);                                      \
      float *out = c + (gsize) r * ldc;                                      \
      v16_store_n (out, v16_activate (c##r##0 + bias_r, activation), MIN (nr, 16)); \
      if (nv > 1)                                                            \
        v16_store_n (out + 16, v16_activate (c##r##1 + bias_r, activation), MIN (nr - 16, 16)); \
      if (nv > 2)                                                            \
        v16_store_n (out + 32, v16_activate (c##r##2 + bias_r, activation), nr - 32); \
    }

/* One MR16 × (16 nv) tile; @nv is a constant in each instantiation, the
 * accumulators it does not use are dropped by the compiler. */
INLINE void
gemm16_tile (int               K,
             const float      *ap,
             const float      *bp,
             int               nv,
             const float      *bias,
             MtFastActivation  activation,
             int               mr,
             int               nr,
             float            *c,
             gsize             ldc)
{
  v16f c00 = { 0 }, c01 = { 0 }, c02 = { 0 }, c10 = { 0 }, c11 = { 0 }, c12 = { 0 };
  v16f c20 = { 0 }, c21 = { 0 }, c22 = { 0 }, c30 = { 0 }, c31 = { 0 }, c32 = { 0 };
  v16f c40 = { 0 }, c41 = { 0 }, c42 = { 0 }, c50 = { 0 }, c51 = { 0 }, c52 = { 0 };
  v16f c60 = { 0 }, c61 = { 0 }, c62 = { 0 }, c70 = { 0 }, c71 = { 0 }, c72 = { 0 };

  for (int k = 0; k < K; k++)
    {
      v16f b0 = v16_load (bp);
      v16f b1 = nv > 1 ? v16_load (bp + 16) : b0;
      v16f b2 = nv > 2 ? v16_load (bp + 32) : b0;

      ROW16 (0); ROW16 (1); ROW16 (2); ROW16 (3);
      ROW16 (4); ROW16 (5); ROW16 (6); ROW16 (7);
      ap += MR16;
      bp += 16 * nv;
    }

  STORE16 (0) STORE16 (1) STORE16 (2) STORE16 (3)
  STORE16 (4) STORE16 (5) STORE16 (6) STORE16 (7)
}

#undef ROW16
#undef STORE16

/* Copies columns [0, nr) of B into a K × (16 nv) panel, zero-filling past nr. */
INLINE void
pack_panel16 (int          K,
              const float *b,
              gsize        ldb,
              int          nr,
              int          width,
              float       *panel)
{
  for (int k = 0; k < K; k++)
    {
      /* The panel after next into L2: rows of a map whose size is a
       * multiple of 4 KiB share their L1 sets, so they cannot wait there. */
      if (ldb > (gsize) width)
        for (int l = 0; l < width; l += 16)
          __builtin_prefetch (b + k * ldb + 2 * width + l, 0, 2);
      memcpy (panel + (gsize) k * width, b + k * ldb, (gsize) nr * sizeof (float));
      if (nr < width)
        memset (panel + (gsize) k * width + nr, 0, (gsize) (width - nr) * sizeof (float));
    }
}

/* The narrow GEMM: a tile of 16 nm filters × nc columns, the filters in
 * the lanes, the columns' values broadcast, so a 36-column panel fills
 * every lane where 16-wide columns would leave a quarter empty.  @at holds
 * K steps of 16 filters per block, blocks 16 K apart; @bp the panel (rows
 * of @width).  Each sum runs over k in the same order as gemm16_tile()'s,
 * so the results are the same bits.  @nm and @nc are constants in each
 * instantiation; only nc_store columns are stored. */
INLINE void
gemm_narrow_tile (int               K,
                  const float      *at,
                  const float      *bp,
                  int               width,
                  int               nm,
                  int               nc,
                  const float      *bias,
                  MtFastActivation  activation,
                  int               nc_store,
                  float            *c,
                  gsize             ldc)
{
  v16f acc[2][NARROW_COLS];

  for (int v = 0; v < 2; v++)
    for (int j = 0; j < NARROW_COLS; j++)
      acc[v][j] = (v16f) { 0 };

  for (int k = 0; k < K; k++)
    {
      v16f a0 = v16_load (at + (gsize) k * 16);
      v16f a1 = nm > 1 ? v16_load (at + (gsize) (K + k) * 16) : a0;
      const float *bk = bp + (gsize) k * width;

#pragma GCC unroll 12
      for (int j = 0; j < nc; j++)
        {
          v16f b = v16_set1 (bk[j]);

          acc[0][j] += a0 * b;
          if (nm > 1)
            acc[1][j] += a1 * b;
        }
    }

  for (int v = 0; v < nm; v++)
    {
      v16f bias_v = v16_load (bias + 16 * v);

      for (int j = 0; j < nc_store; j++)
        {
          float lanes[16];

          v16_store_n (lanes, v16_activate (acc[v][j] + bias_v, activation), 16);
          for (int l = 0; l < 16; l++)
            c[(gsize) (16 * v + l) * ldc + j] = lanes[l];
        }
    }
}

/* Columns [0, nr) of a packed panel (rows of @width >= nr rounded up to 4)
 * through the narrow GEMM, 32 filters and up to 12 columns at a time. */
INLINE void
gemm_narrow (int               M,
             int               K,
             const float      *ap_t,
             const float      *bias,
             MtFastActivation  activation,
             const float      *bp,
             int               width,
             int               nr,
             float            *c,
             gsize             ldc)
{
  for (int i = 0; i < M; i += 32)
    {
      const float *at = ap_t + (gsize) i * K;
      gboolean pair = M - i >= 32;

      for (int j = 0; j < nr; j += NARROW_COLS)
        {
          int rest = nr - j, n = MIN (rest, NARROW_COLS);
          float *out = c + (gsize) i * ldc + j;

#define NARROW(nm, nc) \
  gemm_narrow_tile (K, at, bp + j, width, nm, nc, bias + i, activation, n, out, ldc)
          if (pair)
            {
              if (rest > 8)
                NARROW (2, 12);
              else if (rest > 4)
                NARROW (2, 8);
              else
                NARROW (2, 4);
            }
          else
            {
              if (rest > 8)
                NARROW (1, 12);
              else if (rest > 4)
                NARROW (1, 8);
              else
                NARROW (1, 4);
            }
#undef NARROW
        }
    }
}

__attribute__ ((target ("avx512f")))
void
_mt_fast_gemm_avx512 (int               M,
                      int               K,
                      int               N,
                      const float      *ap,
                      const float      *ap_t,
                      const float      *bias,
                      MtFastActivation  activation,
                      const float      *b,
                      gsize             ldb,
                      float            *c,
                      gsize             ldc,
                      float            *panel)
{
  for (int j = 0; j < N; j += NR16)
    {
      int nr = MIN (NR16, N - j);
      int nv = (nr + 15) / 16;
      const float *bp = panel;

      /* B already in the panel's layout (one whole tile of im2col columns,
       * rows of 48) is read where it is: with few filters, copying it would
       * cost more than the multiplications. */
      if (j == 0 && nr == NR16 && ldb == NR16)
        bp = b;
      else
        pack_panel16 (K, b + j, ldb, nr, 16 * nv, panel);
      if (ap_t != NULL && nr % 16 != 0)
        {
          gemm_narrow (M, K, ap_t, bias, activation, bp, 16 * nv, nr, c + j, ldc);
          continue;
        }
      for (int i = 0; i < M; i += MR16)
        {
          const float *a = ap + (gsize) i * K;
          float *out = c + (gsize) i * ldc + j;
          int mr = MIN (MR16, M - i);

          /* Likewise the output rows the panel after next writes. */
          if (ldc > (gsize) NR16)
            for (int r = 0; r < mr; r++)
              for (int l = 0; l < NR16; l += 16)
                __builtin_prefetch (out + r * ldc + 2 * NR16 + l, 1, 2);
          if (nv == 3)
            gemm16_tile (K, a, bp, 3, bias + i, activation, mr, nr, out, ldc);
          else if (nv == 2)
            gemm16_tile (K, a, bp, 2, bias + i, activation, mr, nr, out, ldc);
          else
            gemm16_tile (K, a, bp, 1, bias + i, activation, mr, nr, out, ldc);
        }
    }
}

#endif /* MT_HAVE_X86_VARIANTS */
