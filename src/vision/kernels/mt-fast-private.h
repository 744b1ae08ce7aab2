/* mt-fast-private.h: what the fast kernel files share with each other.
 *
 * Private to src/vision/kernels/: scratch memory, the phase planes that the
 * depthwise and direct convolutions and max pooling read, the convolution's
 * prepared form (mt-fast-conv.c builds it, mt-fast-depthwise.c runs the
 * depthwise kind) and the GEMM the other convolutions run on
 * (mt-fast-gemm.c).  Functions with a leading underscore are internal.
 */
#pragma once

#include "mt-fast-vector.h"

/* GEMM register tiles: MR rows of weights × NR output columns; the AVX-512
 * tile is MR16 × up to NR16 (three vectors of 16). */
#define MR 6
#define NR 16
#define MR16 8
#define NR16 48
/* Rows of weights and biases are padded to a multiple of both MRs. */
#define M_ALIGN 24
/* Filters per block of the narrow GEMM's packing, and where a split of
 * filters between threads may fall when it is used. */
#define NARROW_ALIGN 16

/* ---- scratch memory (mt-fast-scratch.c) ---------------------------------- */

/* At least @n_floats of 64-byte aligned memory in @scratch (not zeroed). */
float *_mt_fast_scratch_reserve (MtFastScratch *scratch,
                                 gsize          n_floats);

static inline gsize
round_up (gsize x,
          gsize to)
{
  return (x + to - 1) / to * to;
}

/* ---- teams (mt-fast-team.c) ------------------------------------------------ */

/* Part @part of @n_parts of a job, with that thread's scratch. */
typedef void (*MtFastTeamFunc) (gpointer       data,
                                guint          part,
                                guint          n_parts,
                                MtFastScratch *scratch);

/* Runs parts 0 … n_parts - 1 of @func (at most one per thread of @team, part
 * 0 on the caller with @scratch) and returns when all are done.  Without a
 * team, or with @n_parts 1, runs part 0 of 1 on the caller. */
void  _mt_fast_team_run   (MtFastTeam    *team,
                           guint          n_parts,
                           MtFastTeamFunc func,
                           gpointer       data,
                           MtFastScratch *scratch);

/* How many parts @work is worth splitting into: as many as @team has
 * threads, fewer where a part would do less than @work_per_part. */
guint _mt_fast_team_parts (MtFastTeam *team,
                           double      work,
                           double      work_per_part);

/* Part @part of [0, n) in pieces that are multiples of @align (the last one
 * takes the rest): [*begin, *end), empty when there is too little. */
static inline void
team_part_range (gsize  n,
                 gsize  align,
                 guint  part,
                 guint  n_parts,
                 gsize *begin,
                 gsize *end)
{
  gsize units = (n + align - 1) / align;

  *begin = MIN (units * part / n_parts * align, n);
  *end = part + 1 == n_parts ? n : MIN (units * (part + 1) / n_parts * align, n);
}

/* ---- phase planes --------------------------------------------------------- */

static inline void
fill_floats (float *p,
             gsize  n,
             float  value)
{
  if (value == 0.f)
    memset (p, 0, n * sizeof (float));
  else
    for (gsize i = 0; i < n; i++)
      p[i] = value;
}

/* @n floats copied inline: on maps of 6 to 30 columns a library call per
 * row costs more than the copy. */
static inline void
copy_floats (float       *dst,
             const float *src,
             int          n)
{
  int i = 0;

  for (; i + 8 <= n; i += 8)
    v8_store (dst + i, v8_load (src + i));
  if (i + 4 <= n)
    {
      v4_store (dst + i, v4_load (src + i));
      i += 4;
    }
  /* At most three left, written out: GCC may turn a copying loop back into
   * a memcpy call. */
  if (i < n)
    dst[i] = src[i];
  if (i + 1 < n)
    dst[i + 1] = src[i + 1];
  if (i + 2 < n)
    dst[i + 2] = src[i + 2];
}

/* Copies one channel into rows of @stride phases of @len values: phase p of
 * padded row r holds padded columns p, p + stride, p + 2 stride…, so tap kx
 * of output column x is element x + kx / stride of phase kx % stride.
 * Padded row r is input row r - pad_top, padded column q is input column
 * q - pad_left; everything outside the input is @fill.  With @borders_done,
 * only the input's values are written: @dst already holds a plane of the
 * same geometry (the previous channel's), whose borders are the same.
 *
 * Always inlined, so each instruction set's variant of its callers has its
 * own build: left to itself GCC made one out-of-line copy for the baseline
 * (SSE2), whose 32-byte copies went through the stack, a third of an AVX2
 * depthwise layer's time on 96x96 maps. */
INLINE void
build_phase_plane (const float *in,
                   int          h,
                   int          w,
                   int          pad_top,
                   int          pad_left,
                   int          n_rows,
                   int          stride,
                   int          len,
                   float        fill,
                   gboolean     borders_done,
                   float       *dst)
{
  for (int p = 0; p < stride; p++)
    {
      int first = p - pad_left;  /* input column of element 0 */
      int lo = first >= 0 ? 0 : (-first + stride - 1) / stride;
      int hi = first > w - 1 ? 0 : (w - 1 - first) / stride + 1;

      lo = MIN (lo, len);
      hi = CLAMP (hi, lo, len);

      for (int r = 0; r < n_rows; r++)
        {
          int iy = r - pad_top;
          const float *irow = in + (gsize) iy * w;
          float *d = dst + ((gsize) r * stride + p) * len;
          int i;

          if (iy < 0 || iy >= h)
            {
              if (!borders_done)
                fill_floats (d, (gsize) len, fill);
              continue;
            }

          if (!borders_done)
            {
              fill_floats (d, (gsize) lo, fill);
              fill_floats (d + hi, (gsize) (len - hi), fill);
            }
          if (stride == 1)
            {
              copy_floats (d + lo, irow + first + lo, hi - lo);
              continue;
            }
          i = lo;
          /* Every other column, four at a time (one SSE2 shuffle). */
          if (stride == 2)
            for (; i + 4 <= hi && first + 2 * i + 8 <= w; i += 4)
              {
                v4f a = v4_load (irow + first + 2 * i);
                v4f b = v4_load (irow + first + 2 * i + 4);

                v4_store (d + i, __builtin_shufflevector (a, b, 0, 2, 4, 6));
              }
          for (; i < hi; i++)
            d[i] = irow[first + i * stride];
        }
    }
}

/* Geometry of a phase plane for windows of @size, @stride over out_w × out_h. */
static inline void
phase_plane_geometry (int  size,
                      int  stride,
                      int  out_w,
                      int  out_h,
                      int *n_rows,
                      int *len)
{
  *n_rows = (out_h - 1) * stride + size;
  /* Room for reading a whole vector past the last output column. */
  *len = (int) round_up ((gsize) out_w + (size - 1) / stride + 8, 8);
}

/* ---- convolutions (mt-fast-conv.c, mt-fast-depthwise.c) -------------------- */

typedef enum {
  CONV_POINTWISE,  /* 1×1, stride 1, no padding: the input is B as is */
  CONV_IM2COL,     /* groups 1: im2col of the non-zero taps, then GEMM */
  CONV_DEPTHWISE,  /* groups == c == n: direct */
} ConvKind;

struct _MtFastConv {
  MtFastConvShape shape;
  ConvKind kind;
  int out_w, out_h;

  /* Taps (ky, kx) where some weight is non-zero: skipping the others gives
   * the same sums (x + 0·y == x) and makes kernels written as a larger
   * kernel with zero rows (4×4 with padding 1, strided 1×1 as 3×3) cost what
   * their real taps cost. */
  int n_taps;
  int *tap_y;
  int *tap_x;

  /* GEMM kinds: M = n, K = c · n_taps; A packed in MR-row blocks, and in
   * MR16-row blocks for AVX-512 CPUs.  Depthwise: weights[ch · n_taps + t]. */
  int M, K;
  float *weights;
  float *weights16;
  /* On AVX-512 CPUs, where the map's columns leave a last panel that 16-wide
   * vectors would fill badly (a 6x6 map: 36 of 48 lanes) and M is a
   * multiple of NARROW_ALIGN: A in blocks of 16 rows, for the narrow GEMM
   * (filters in the lanes). */
  float *weights_t;
  float *biases;  /* padded to a multiple of M_ALIGN with zeros */
};

/* Output rows [@y_begin, @y_end) of every channel of a depthwise
 * convolution, over @plane, scratch for one phase plane of the whole map's
 * @n_rows × stride × @len floats (phase_plane_geometry()). */
void _mt_fast_depthwise_forward (const MtFastConv *conv,
                                 const float      *input,
                                 float            *output,
                                 int               y_begin,
                                 int               y_end,
                                 float            *plane,
                                 int               n_rows,
                                 int               len);

/* ---- GEMM (mt-fast-gemm.c) -------------------------------------------------- */

/* Floats of the @panel _mt_fast_gemm() needs for sums of @K. */
gsize _mt_fast_gemm_panel_floats (int K);

/* C (M × N, rows of stride @ldc) = act (A (M × K) · B (K × N, rows of stride
 * @ldb) + bias), A packed in MR-row blocks, B copied into @panel
 * (_mt_fast_gemm_panel_floats() floats).  AVX2 or the portable build, as
 * mt_fast_kernels_get_isa() says. */
void _mt_fast_gemm (int               M,
                    int               K,
                    int               N,
                    const float      *ap,
                    const float      *bias,
                    MtFastActivation  activation,
                    const float      *b,
                    gsize             ldb,
                    float            *c,
                    gsize             ldc,
                    float            *panel);

#ifdef MT_HAVE_X86_VARIANTS
/* The same with A packed in MR16-row blocks and a K × NR16 @panel; AVX-512
 * CPUs only.  With @ap_t (A in NARROW_ALIGN-row blocks, M a multiple of
 * it), a last panel of fewer than 48 columns that is not a multiple of 16
 * runs with the filters in the vector lanes instead. */
void _mt_fast_gemm_avx512 (int               M,
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
                           float            *panel);
#endif
