/* mt-fast-kernels.c: fast forward kernels matching Darknet's layer semantics.
 *
 * Written with GCC vector extensions so one source serves several builds of
 * each hot loop: AVX-512 (the GEMM and the direct convolution of first
 * layers), AVX2 and a portable one (SSE2 on x86-64, NEON elsewhere), chosen
 * at run time from what the CPU has.  The bodies are always_inline functions
 * instantiated in each; see MT_DEFINE_VARIANTS.
 *
 * Results are bit-identical to Debian's Darknet CPU forward, not just close:
 * every sum runs in Darknet's order with a separate multiply and add (this
 * file is built with -ffp-contract=off, and Debian's Darknet uses no FMA),
 * the bias is added after the sum and the activation after that, in
 * Darknet's precision (leaky's 0.1 x is a double product).  On CPUs with
 * separate add and multiply pipes this costs little; the double leaky costs
 * about a third of a 16-input pointwise layer.
 *
 * Convolutions with groups == 1 run as a GEMM (weights × im2col columns),
 * with the weights packed once and the columns built in cache-sized chunks;
 * depthwise convolutions and max pooling run directly over a padded copy of
 * each channel whose columns are split by stride phase, so every tap of a
 * strided window becomes a contiguous vector load.
 */
#define G_LOG_DOMAIN "mt-fast-kernels"

#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "mt-fast-kernels.h"

typedef float  v8f  __attribute__ ((vector_size (32)));
typedef int    v8i  __attribute__ ((vector_size (32)));
typedef double v4d  __attribute__ ((vector_size (32)));
typedef float  v4f  __attribute__ ((vector_size (16)));
typedef int    v4i  __attribute__ ((vector_size (16)));
typedef float  v16f __attribute__ ((vector_size (64)));
typedef int    v16i __attribute__ ((vector_size (64)));
typedef double v8d  __attribute__ ((vector_size (64)));

#define INLINE static inline __attribute__ ((always_inline))

#if defined(__x86_64__) || defined(__i386__)
# define MT_HAVE_X86_VARIANTS 1
#endif

/* GEMM register tiles: MR rows of weights × NR output columns; the AVX-512
 * tile is MR16 × up to NR16 (three vectors of 16). */
#define MR 6
#define NR 16
#define MR16 8
#define NR16 48
/* Rows of weights and biases are padded to a multiple of both MRs. */
#define M_ALIGN 24

/* Depthwise taps kept in registers (3×3, or 4×4 with zero taps). */
#define MAX_UNROLLED_TAPS 9

/* Bytes of im2col columns built at once: they stay in L2 while used. */
#define IM2COL_CHUNK_BYTES (128 * 1024)

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

/* Spelt as a shuffle: GCC 12 turns the obvious { x, x, … } initialiser into
 * a chain of inserts, this into one (embedded) broadcast. */
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
        /* Darknet's .1 * x is a double product rounded to float. */
        v4d lo = __builtin_convertvector (__builtin_shufflevector (x, x, 0, 1, 2, 3), v4d) * 0.1;
        v4d hi = __builtin_convertvector (__builtin_shufflevector (x, x, 4, 5, 6, 7), v4d) * 0.1;
        v4f flo = __builtin_convertvector (lo, v4f);
        v4f fhi = __builtin_convertvector (hi, v4f);
        v8f neg = __builtin_shufflevector (flo, fhi, 0, 1, 2, 3, 4, 5, 6, 7);
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

/* ---- instruction set dispatch ------------------------------------------- */

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

/* Defines name_avx2() and name_generic() from name_body(), and name() which
 * picks one (AVX2 for AVX-512 CPUs too: these loops are bound by memory, not
 * by vector width).  Parameter lists are passed in parentheses. */
#ifdef MT_HAVE_X86_VARIANTS
# define MT_DEFINE_VARIANTS(name, params, args)                              \
  __attribute__ ((target ("avx2"))) static void name##_avx2 params          \
  { name##_body args; }                                                      \
  static void name##_generic params                                          \
  { name##_body args; }                                                      \
  static void name params                                                    \
  {                                                                          \
    if (mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX2)                      \
      name##_avx2 args;                                                      \
    else                                                                     \
      name##_generic args;                                                   \
  }
#else
# define MT_DEFINE_VARIANTS(name, params, args)                              \
  static void name params                                                    \
  { name##_body args; }
#endif

/* ---- scratch memory ----------------------------------------------------- */

static float *
scratch_reserve (MtFastScratch *scratch,
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

static gsize
round_up (gsize x,
          gsize to)
{
  return (x + to - 1) / to * to;
}

/* ---- GEMM: C (M × N) = act (A (M × K) · B (K × N) + bias) -------------- */

/* One MR × NR tile.  @ap holds K steps of MR weights (packed), @bp K steps of
 * NR columns (packed); @bias has MR entries.  Only mr rows and nr columns of
 * the tile are stored. */
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
           int               nv)
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
      a = v8_set1 (ap[2]); c20 += a * b0; if (nv > 1) c21 += a * b1;
      a = v8_set1 (ap[3]); c30 += a * b0; if (nv > 1) c31 += a * b1;
      a = v8_set1 (ap[4]); c40 += a * b0; if (nv > 1) c41 += a * b1;
      a = v8_set1 (ap[5]); c50 += a * b0; if (nv > 1) c51 += a * b1;
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

/* Copies columns [j, j + nr) of B (K rows of stride ldb) into a contiguous
 * K × NR panel, zero-filling the columns past nr. */
INLINE void
pack_panel (int          K,
            const float *b,
            gsize        ldb,
            int          nr,
            float       *panel)
{
  if (nr == NR)
    {
      for (int k = 0; k < K; k++)
        {
          v8_store (panel + k * NR, v8_load (b + k * ldb));
          v8_store (panel + k * NR + 8, v8_load (b + k * ldb + 8));
        }
      return;
    }

  for (int k = 0; k < K; k++)
    {
      memcpy (panel + k * NR, b + k * ldb, (gsize) nr * sizeof (float));
      memset (panel + k * NR + nr, 0, (gsize) (NR - nr) * sizeof (float));
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
           float            *panel,
           int               nv)
{
  for (int j = 0; j < N; j += NR)
    {
      int nr = MIN (NR, N - j);

      pack_panel (K, b + j, ldb, nr, panel);
      for (int i = 0; i < M; i += MR)
        {
          const float *a = ap + (gsize) i * K;
          int mr = MIN (MR, M - i);
          float *out = c + (gsize) i * ldc + j;

          if (nv == 2)
            gemm_tile (K, a, panel, bias + i, activation, mr, nr, out, ldc, 2);
          else
            {
              gemm_tile (K, a, panel, bias + i, activation, mr, MIN (nr, 8), out, ldc, 1);
              if (nr > 8)
                gemm_tile (K, a, panel + 8, bias + i, activation, mr, nr - 8, out + 8, ldc, 1);
            }
        }
    }
}

#ifdef MT_HAVE_X86_VARIANTS
__attribute__ ((target ("avx2")))
static void
fast_gemm_avx2 (int M, int K, int N, const float *ap, const float *bias,
                MtFastActivation activation, const float *b, gsize ldb,
                float *c, gsize ldc, float *panel)
{
  fast_gemm_body (M, K, N, ap, bias, activation, b, ldb, c, ldc, panel, 2);
}
#endif

static void
fast_gemm (int M, int K, int N, const float *ap, const float *bias,
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
        /* Darknet's .1 * x is a double product rounded to float. */
        v8d lo = __builtin_convertvector (__builtin_shufflevector (x, x, 0, 1, 2, 3, 4, 5, 6, 7), v8d) * 0.1;
        v8d hi = __builtin_convertvector (__builtin_shufflevector (x, x, 8, 9, 10, 11, 12, 13, 14, 15), v8d) * 0.1;
        v8f flo = __builtin_convertvector (lo, v8f);
        v8f fhi = __builtin_convertvector (hi, v8f);
        v16f neg = __builtin_shufflevector (flo, fhi, 0, 1, 2, 3, 4, 5, 6, 7,
                                            8, 9, 10, 11, 12, 13, 14, 15);

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
      memcpy (panel + (gsize) k * width, b + k * ldb, (gsize) nr * sizeof (float));
      if (nr < width)
        memset (panel + (gsize) k * width + nr, 0, (gsize) (width - nr) * sizeof (float));
    }
}

__attribute__ ((target ("avx512f")))
static void
fast_gemm_avx512 (int               M,
                  int               K,
                  int               N,
                  const float      *ap,
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

      pack_panel16 (K, b + j, ldb, nr, 16 * nv, panel);
      for (int i = 0; i < M; i += MR16)
        {
          const float *a = ap + (gsize) i * K;
          float *out = c + (gsize) i * ldc + j;
          int mr = MIN (MR16, M - i);

          if (nv == 3)
            gemm16_tile (K, a, panel, 3, bias + i, activation, mr, nr, out, ldc);
          else if (nv == 2)
            gemm16_tile (K, a, panel, 2, bias + i, activation, mr, nr, out, ldc);
          else
            gemm16_tile (K, a, panel, 1, bias + i, activation, mr, nr, out, ldc);
        }
    }
}

#endif /* MT_HAVE_X86_VARIANTS */

/* ---- convolution -------------------------------------------------------- */

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
  float *biases;  /* padded to a multiple of M_ALIGN with zeros */
};

int
mt_fast_conv_out_width (const MtFastConvShape *shape)
{
  return (shape->w + 2 * shape->pad - shape->size) / shape->stride + 1;
}

int
mt_fast_conv_out_height (const MtFastConvShape *shape)
{
  return (shape->h + 2 * shape->pad - shape->size) / shape->stride + 1;
}

static gboolean
activation_is_valid (MtFastActivation activation)
{
  return activation == MT_FAST_ACTIVATION_LINEAR ||
         activation == MT_FAST_ACTIVATION_RELU ||
         activation == MT_FAST_ACTIVATION_LEAKY ||
         activation == MT_FAST_ACTIVATION_LOGISTIC;
}

gboolean
mt_fast_conv_supports (const MtFastConvShape *shape)
{
  g_return_val_if_fail (shape != NULL, FALSE);

  if (shape->c <= 0 || shape->h <= 0 || shape->w <= 0 || shape->n <= 0 ||
      shape->size <= 0 || shape->stride <= 0 || shape->pad < 0 ||
      !activation_is_valid (shape->activation))
    return FALSE;
  if (mt_fast_conv_out_width (shape) <= 0 || mt_fast_conv_out_height (shape) <= 0 ||
      shape->w + 2 * shape->pad < shape->size || shape->h + 2 * shape->pad < shape->size)
    return FALSE;
  /* Darknet skips im2col for every 1×1 kernel, stride and padding or not. */
  if (shape->size == 1 && (shape->stride != 1 || shape->pad != 0))
    return FALSE;
  if (shape->groups == 1)
    return TRUE;
  return shape->groups == shape->c && shape->groups == shape->n;
}

/* Packs the weights of a GEMM convolution in blocks of @mr rows: block b
 * holds, for each k, rows b·mr … b·mr + mr - 1 (zeros past M). */
static float *
pack_weights (const MtFastConv *conv,
              const float      *weights,
              int               mr)
{
  const MtFastConvShape *shape = &conv->shape;
  int k = shape->size;
  float *packed = g_new0 (float, MAX (round_up ((gsize) conv->M, M_ALIGN) * conv->K, 1));

  for (int i = 0; i < conv->M; i++)
    for (int ci = 0; ci < shape->c; ci++)
      for (int t = 0; t < conv->n_taps; t++)
        {
          int r = ci * conv->n_taps + t;
          gsize src = (((gsize) i * shape->c + ci) * k + conv->tap_y[t]) * k + conv->tap_x[t];
          gsize dst = (gsize) (i / mr) * mr * conv->K + (gsize) r * mr + i % mr;

          packed[dst] = weights[src];
        }
  return packed;
}

MtFastConv *
mt_fast_conv_new (const MtFastConvShape *shape,
                  const float           *weights,
                  const float           *biases)
{
  MtFastConv *conv;
  int k, cg, n_taps = 0;

  g_return_val_if_fail (shape != NULL, NULL);
  g_return_val_if_fail (weights != NULL, NULL);
  g_return_val_if_fail (biases != NULL, NULL);

  if (!mt_fast_conv_supports (shape))
    return NULL;

  conv = g_new0 (MtFastConv, 1);
  conv->shape = *shape;
  conv->out_w = mt_fast_conv_out_width (shape);
  conv->out_h = mt_fast_conv_out_height (shape);
  k = shape->size;
  cg = shape->c / shape->groups;

  if (shape->groups != 1)
    conv->kind = CONV_DEPTHWISE;
  else if (k == 1)
    conv->kind = CONV_POINTWISE;
  else
    conv->kind = CONV_IM2COL;

  conv->tap_y = g_new (int, k * k);
  conv->tap_x = g_new (int, k * k);
  for (int t = 0; t < k * k; t++)
    {
      gboolean used = conv->kind == CONV_POINTWISE;

      for (gsize f = 0; !used && f < (gsize) shape->n * cg; f++)
        used = weights[f * k * k + t] != 0.f;
      if (used)
        {
          conv->tap_y[n_taps] = t / k;
          conv->tap_x[n_taps] = t % k;
          n_taps++;
        }
    }
  conv->n_taps = n_taps;

  if (conv->kind == CONV_DEPTHWISE)
    {
      conv->weights = g_new0 (float, (gsize) shape->n * MAX (n_taps, 1));
      for (int ch = 0; ch < shape->n; ch++)
        for (int t = 0; t < n_taps; t++)
          conv->weights[ch * n_taps + t] =
            weights[(gsize) ch * k * k + conv->tap_y[t] * k + conv->tap_x[t]];
      conv->biases = g_new0 (float, shape->n);
      memcpy (conv->biases, biases, (gsize) shape->n * sizeof (float));
      return conv;
    }

  /* Row r of B is (input channel r / n_taps, tap r % n_taps), Darknet's own
   * channel-major, row-major-tap order, so sums run in Darknet's order. */
  conv->M = shape->n;
  conv->K = shape->c * n_taps;
  conv->biases = g_new0 (float, round_up ((gsize) conv->M, M_ALIGN));
  memcpy (conv->biases, biases, (gsize) shape->n * sizeof (float));
  conv->weights = pack_weights (conv, weights, MR);
  if (mt_fast_kernels_get_best_isa () >= MT_FAST_ISA_AVX512)
    conv->weights16 = pack_weights (conv, weights, MR16);
  return conv;
}

void
mt_fast_conv_free (MtFastConv *conv)
{
  if (conv == NULL)
    return;
  g_free (conv->tap_y);
  g_free (conv->tap_x);
  g_free (conv->weights);
  g_free (conv->weights16);
  g_free (conv->biases);
  g_free (conv);
}

/* Fills columns [j0, j0 + n) of the im2col matrix (rows of stride ldb) for
 * the convolution's non-zero taps. */
static void
im2col_chunk (const MtFastConv *conv,
              const float      *input,
              int               j0,
              int               n,
              float            *dst,
              gsize             ldb)
{
  const MtFastConvShape *s = &conv->shape;
  int ow = conv->out_w;

  for (int ci = 0; ci < s->c; ci++)
    for (int t = 0; t < conv->n_taps; t++)
      {
        const float *plane = input + (gsize) ci * s->h * s->w;
        float *row = dst + (gsize) (ci * conv->n_taps + t) * ldb;
        int ky = conv->tap_y[t], kx = conv->tap_x[t];
        int oy = j0 / ow, ox = j0 % ow;

        for (int idx = 0; idx < n; oy++, ox = 0)
          {
            int seg = MIN (ow - ox, n - idx);
            int iy = oy * s->stride + ky - s->pad;
            float *d = row + idx;

            if (iy < 0 || iy >= s->h)
              memset (d, 0, (gsize) seg * sizeof (float));
            else
              {
                const float *irow = plane + (gsize) iy * s->w;
                /* Valid outputs q: 0 <= (ox + q) stride + kx - pad < w. */
                int first = ox * s->stride + kx - s->pad;
                int lo = first >= 0 ? 0 : (-first + s->stride - 1) / s->stride;
                int hi = first > s->w - 1 ? 0 : (s->w - 1 - first) / s->stride + 1;

                lo = MIN (lo, seg);
                hi = CLAMP (hi, lo, seg);
                memset (d, 0, (gsize) lo * sizeof (float));
                if (s->stride == 1)
                  memcpy (d + lo, irow + first + lo, (gsize) (hi - lo) * sizeof (float));
                else
                  for (int q = lo; q < hi; q++)
                    d[q] = irow[first + q * s->stride];
                memset (d + hi, 0, (gsize) (seg - hi) * sizeof (float));
              }
            idx += seg;
          }
      }
}

static void
run_gemm (const MtFastConv *conv,
          gboolean          wide,
          const float      *b,
          gsize             ldb,
          int               n,
          float            *c,
          gsize             ldc,
          float            *panel)
{
#ifdef MT_HAVE_X86_VARIANTS
  if (wide)
    {
      fast_gemm_avx512 (conv->M, conv->K, n, conv->weights16, conv->biases,
                        conv->shape.activation, b, ldb, c, ldc, panel);
      return;
    }
#endif
  fast_gemm (conv->M, conv->K, n, conv->weights, conv->biases,
             conv->shape.activation, b, ldb, c, ldc, panel);
}

static void
conv_gemm_forward (const MtFastConv *conv,
                   const float      *input,
                   float            *output,
                   MtFastScratch    *scratch)
{
  int N = conv->out_w * conv->out_h;
  int K = conv->K;
  gboolean wide = conv->weights16 != NULL && mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX512;
  gsize panel_size = round_up ((gsize) MAX (K, 1) * (wide ? NR16 : NR), 16);
  int chunk;
  gsize ldb;
  float *panel, *cols;

  if (conv->kind == CONV_POINTWISE)
    {
      panel = scratch_reserve (scratch, panel_size);
      run_gemm (conv, wide, input, (gsize) N, N, output, (gsize) N, panel);
      return;
    }

  chunk = (int) (IM2COL_CHUNK_BYTES / sizeof (float) / MAX (K, 1));
  chunk = MAX (NR16, chunk / NR16 * NR16);
  chunk = MIN (chunk, (int) round_up ((gsize) N, NR16));
  /* Rows a multiple of 4 KiB apart would all fall in the same cache sets. */
  ldb = (gsize) chunk + ((chunk % 256) == 0 ? NR : 0);

  panel = scratch_reserve (scratch, panel_size + (gsize) K * ldb);
  cols = panel + panel_size;

  for (int j0 = 0; j0 < N; j0 += chunk)
    {
      int n = MIN (chunk, N - j0);

      im2col_chunk (conv, input, j0, n, cols, ldb);
      run_gemm (conv, wide, cols, ldb, n, output + j0, (gsize) N, panel);
    }
}

static void
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

/* Copies one channel into rows of @stride phases of @len values: phase p of
 * padded row r holds padded columns p, p + stride, p + 2 stride…, so tap kx
 * of output column x is element x + kx / stride of phase kx % stride.
 * Padded row r is input row r - pad_top, padded column q is input column
 * q - pad_left; everything outside the input is @fill.  With @borders_done,
 * only the input's values are written: @dst already holds a plane of the
 * same geometry (the previous channel's), whose borders are the same. */
static void
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
              memcpy (d + lo, irow + first + lo, (gsize) (hi - lo) * sizeof (float));
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
static void
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

/* One channel of a depthwise convolution from its phase plane: output row y
 * reads the plane from y · @row_step on, tap t at offset @offs[t]. */
INLINE void
depthwise_channel (const float      *plane,
                   gsize             row_step,
                   const int        *offs,
                   const float      *wt,
                   int               n_taps,
                   v8f               bias,
                   MtFastActivation  activation,
                   float            *out,
                   int               ow,
                   int               oh)
{
  v8f w[MAX_UNROLLED_TAPS] = { { 0 } };

  if (n_taps <= MAX_UNROLLED_TAPS)
    for (int t = 0; t < n_taps; t++)
      w[t] = v8_set1 (wt[t]);

  for (int y = 0; y < oh; y++, out += ow)
    {
      const float *base = plane + (gsize) y * row_step;
      int x = 0;

      if (n_taps <= MAX_UNROLLED_TAPS)
        for (; x + 16 <= ow; x += 16)
          {
            v8f acc0 = { 0 }, acc1 = { 0 };

#pragma GCC unroll 16
            for (int t = 0; t < n_taps; t++)
              {
                acc0 += w[t] * v8_load (base + offs[t] + x);
                acc1 += w[t] * v8_load (base + offs[t] + x + 8);
              }
            v8_store (out + x, v8_activate (acc0 + bias, activation));
            v8_store (out + x + 8, v8_activate (acc1 + bias, activation));
          }

      for (; x < ow; x += 8)
        {
          v8f acc = { 0 };

          for (int t = 0; t < n_taps; t++)
            acc += v8_set1 (wt[t]) * v8_load (base + offs[t] + x);
          acc = v8_activate (acc + bias, activation);
          if (x + 8 <= ow)
            v8_store (out + x, acc);
          else
            v8_store_n (out + x, acc, ow - x);
        }
    }
}

INLINE void
fast_depthwise_body (const MtFastConv *conv,
                const float      *input,
                float            *output,
                float            *plane,
                int               n_rows,
                int               len)
{
  const MtFastConvShape *s = &conv->shape;
  int ow = conv->out_w, oh = conv->out_h, st = s->stride;
  int n_taps = conv->n_taps;
  int offsets[64];
  int *offs = n_taps <= 64 ? offsets : g_new (int, n_taps);

  for (int t = 0; t < n_taps; t++)
    offs[t] = conv->tap_y[t] * st * len + (conv->tap_x[t] % st) * len + conv->tap_x[t] / st;

  for (int ch = 0; ch < s->c; ch++)
    {
      const float *wt = conv->weights + (gsize) ch * n_taps;
      v8f bias = v8_set1 (conv->biases[ch]);

      build_phase_plane (input + (gsize) ch * s->h * s->w, s->h, s->w, s->pad, s->pad,
                         n_rows, st, len, 0.f, ch > 0, plane);

      /* The common 3×3 gets its weights in registers and its taps unrolled. */
      if (n_taps == 9)
        depthwise_channel (plane, st * st * len, offs, wt, 9, bias, s->activation,
                           output + (gsize) ch * oh * ow, ow, oh);
      else
        depthwise_channel (plane, st * st * len, offs, wt, n_taps, bias, s->activation,
                           output + (gsize) ch * oh * ow, ow, oh);
    }

  if (offs != offsets)
    g_free (offs);
}

MT_DEFINE_VARIANTS (fast_depthwise,
                    (const MtFastConv *conv, const float *input, float *output,
                     float *plane, int n_rows, int len),
                    (conv, input, output, plane, n_rows, len))

#ifdef MT_HAVE_X86_VARIANTS

/* Plain convolutions with few inputs per output (the first layers: 3 or 1
 * channels, K = c · taps <= DIRECT_MAX_K) skip im2col on AVX-512: each tile
 * of 8 filters × 32 columns reads its taps straight from the phase planes of
 * the input channels.  The sums run over (channel, tap) in Darknet's order,
 * with the weights in the GEMM's 8-row packing. */
#define DIRECT_MAX_K 64

#define DIRECT_ROW(f)                                                        \
  do {                                                                       \
    v16f a = v16_set1 (wk[f]);                                               \
    acc##f##0 += a * x0;                                                     \
    acc##f##1 += a * x1;                                                     \
  } while (0)

#define DIRECT_STORE(f)                                                      \
  if (f < nf)                                                                \
    {                                                                        \
      v16f bias_f = v16_set1 (conv->biases[f0 + f]);                         \
      float *o = out + (gsize) (f0 + f) * plane_out;                         \
      v16_store_n (o, v16_activate (acc##f##0 + bias_f, activation), MIN (nx, 16)); \
      if (nx > 16)                                                           \
        v16_store_n (o + 16, v16_activate (acc##f##1 + bias_f, activation), nx - 16); \
    }

__attribute__ ((target ("avx512f")))
static void
direct_conv_avx512 (const MtFastConv *conv,
                    const float      *input,
                    float            *output,
                    float            *planes,
                    int               n_rows,
                    int               len)
{
  const MtFastConvShape *s = &conv->shape;
  int ow = conv->out_w, oh = conv->out_h, st = s->stride, K = conv->K;
  gsize plane_size = (gsize) n_rows * st * len;
  gsize plane_out = (gsize) ow * oh;
  MtFastActivation activation = s->activation;
  int offs[DIRECT_MAX_K];

  for (int ci = 0; ci < s->c; ci++)
    {
      build_phase_plane (input + (gsize) ci * s->h * s->w, s->h, s->w, s->pad, s->pad,
                         n_rows, st, len, 0.f, FALSE, planes + ci * plane_size);
      for (int t = 0; t < conv->n_taps; t++)
        offs[ci * conv->n_taps + t] = (int) (ci * plane_size) + conv->tap_y[t] * st * len +
                                      (conv->tap_x[t] % st) * len + conv->tap_x[t] / st;
    }

  for (int y = 0; y < oh; y++)
    {
      const float *base = planes + (gsize) y * st * st * len;
      float *out = output + (gsize) y * ow;

      for (int f0 = 0; f0 < s->n; f0 += MR16)
        {
          const float *wb = conv->weights16 + (gsize) f0 * K;
          int nf = MIN (MR16, s->n - f0);

          for (int x = 0; x < ow; x += 32)
            {
              v16f acc00 = { 0 }, acc01 = { 0 }, acc10 = { 0 }, acc11 = { 0 };
              v16f acc20 = { 0 }, acc21 = { 0 }, acc30 = { 0 }, acc31 = { 0 };
              v16f acc40 = { 0 }, acc41 = { 0 }, acc50 = { 0 }, acc51 = { 0 };
              v16f acc60 = { 0 }, acc61 = { 0 }, acc70 = { 0 }, acc71 = { 0 };
              int nx = MIN (32, ow - x);

              for (int k = 0; k < K; k++)
                {
                  const float *wk = wb + k * MR16;
                  v16f x0 = v16_load (base + offs[k] + x);
                  v16f x1 = v16_load (base + offs[k] + x + 16);

                  DIRECT_ROW (0); DIRECT_ROW (1); DIRECT_ROW (2); DIRECT_ROW (3);
                  DIRECT_ROW (4); DIRECT_ROW (5); DIRECT_ROW (6); DIRECT_ROW (7);
                }

              out += x;
              DIRECT_STORE (0) DIRECT_STORE (1) DIRECT_STORE (2) DIRECT_STORE (3)
              DIRECT_STORE (4) DIRECT_STORE (5) DIRECT_STORE (6) DIRECT_STORE (7)
              out -= x;
            }
        }
    }
}

#undef DIRECT_ROW
#undef DIRECT_STORE

#endif /* MT_HAVE_X86_VARIANTS */

void
mt_fast_conv_forward (const MtFastConv *conv,
                      const float      *input,
                      float            *output,
                      MtFastScratch    *scratch)
{
  g_return_if_fail (conv != NULL);
  g_return_if_fail (input != NULL && output != NULL && scratch != NULL);

  if (conv->kind == CONV_DEPTHWISE)
    {
      int n_rows, len;
      float *plane;

      phase_plane_geometry (conv->shape.size, conv->shape.stride,
                            conv->out_w, conv->out_h, &n_rows, &len);
      plane = scratch_reserve (scratch, (gsize) n_rows * conv->shape.stride * len);
      fast_depthwise (conv, input, output, plane, n_rows, len);
    }
#ifdef MT_HAVE_X86_VARIANTS
  else if (conv->kind == CONV_IM2COL && conv->K <= DIRECT_MAX_K &&
           conv->weights16 != NULL && mt_fast_kernels_get_isa () >= MT_FAST_ISA_AVX512)
    {
      int n_rows, len;
      float *planes;

      phase_plane_geometry (conv->shape.size, conv->shape.stride,
                            conv->out_w + 24, conv->out_h, &n_rows, &len);
      planes = scratch_reserve (scratch, (gsize) conv->shape.c * n_rows * conv->shape.stride * len);
      direct_conv_avx512 (conv, input, output, planes, n_rows, len);
    }
#endif
  else
    conv_gemm_forward (conv, input, output, scratch);
}

/* ---- max pooling -------------------------------------------------------- */

int
mt_fast_maxpool_out_width (const MtFastPoolShape *shape)
{
  return (shape->w + shape->padding - shape->size) / shape->stride + 1;
}

int
mt_fast_maxpool_out_height (const MtFastPoolShape *shape)
{
  return (shape->h + shape->padding - shape->size) / shape->stride + 1;
}

gboolean
mt_fast_maxpool_supports (const MtFastPoolShape *shape)
{
  g_return_val_if_fail (shape != NULL, FALSE);

  return shape->c > 0 && shape->h > 0 && shape->w > 0 &&
         shape->size > 0 && shape->stride > 0 && shape->padding >= 0 &&
         shape->w + shape->padding >= shape->size &&
         shape->h + shape->padding >= shape->size;
}

/* The detector's 2×2 stride 2 pooling with Darknet's default padding (1,
 * offset 0): max of two rows, then of even and odd columns. */
INLINE void
fast_maxpool_2x2s2_body (const MtFastPoolShape *s,
                    const float           *input,
                    float                 *output,
                    int                    ow,
                    int                    oh)
{
  for (int ch = 0; ch < s->c; ch++)
    for (int y = 0; y < oh; y++)
      {
        const float *plane = input + (gsize) ch * s->h * s->w;
        const float *r0 = plane + (gsize) (2 * y) * s->w;
        /* A missing second row (odd height) adds nothing to the max. */
        const float *r1 = 2 * y + 1 < s->h ? r0 + s->w : r0;
        float *out = output + ((gsize) ch * oh + y) * ow;
        int x = 0;

        /* In 4-wide halves: SSE2 has the even/odd shuffle for those, and
         * the loop is bound by memory anyway. */
        for (; 2 * x + 8 <= s->w; x += 4)
          {
            v4f a0 = v4_max (v4_load (r0 + 2 * x), v4_load (r1 + 2 * x));
            v4f a1 = v4_max (v4_load (r0 + 2 * x + 4), v4_load (r1 + 2 * x + 4));

            v4_store (out + x, v4_max (__builtin_shufflevector (a0, a1, 0, 2, 4, 6),
                                       __builtin_shufflevector (a0, a1, 1, 3, 5, 7)));
          }
        for (; x < ow; x++)
          {
            float m = -FLT_MAX;

            for (int dx = 0; dx < 2; dx++)
              {
                int ix = 2 * x + dx;

                if (ix >= s->w)
                  continue;
                m = r0[ix] > m ? r0[ix] : m;
                m = r1[ix] > m ? r1[ix] : m;
              }
            out[x] = m;
          }
      }
}

MT_DEFINE_VARIANTS (fast_maxpool_2x2s2,
                    (const MtFastPoolShape *s, const float *input, float *output,
                     int ow, int oh),
                    (s, input, output, ow, oh))

/* 2×2 stride 1 with padding 1 (offset 0): the detector's last pooling, which
 * keeps the size; the last row and column see only what is inside. */
INLINE void
fast_maxpool_2x2s1_body (const MtFastPoolShape *s,
                         const float           *input,
                         float                 *output,
                         int                    ow,
                         int                    oh)
{
  for (int ch = 0; ch < s->c; ch++)
    for (int y = 0; y < oh; y++)
      {
        const float *plane = input + (gsize) ch * s->h * s->w;
        const float *r0 = plane + (gsize) y * s->w;
        const float *r1 = y + 1 < s->h ? r0 + s->w : r0;
        float *out = output + ((gsize) ch * oh + y) * ow;
        int x = 0;

        for (; x + 9 <= s->w && x + 8 <= ow; x += 8)
          {
            v8f a = v8_max (v8_load (r0 + x), v8_load (r1 + x));
            v8f b = v8_max (v8_load (r0 + x + 1), v8_load (r1 + x + 1));

            v8_store (out + x, v8_max (b, a));
          }
        for (; x < ow; x++)
          {
            float m = -FLT_MAX;

            for (int dx = 0; dx < 2 && x + dx < s->w; dx++)
              {
                m = r0[x + dx] > m ? r0[x + dx] : m;
                m = r1[x + dx] > m ? r1[x + dx] : m;
              }
            out[x] = m;
          }
      }
}

MT_DEFINE_VARIANTS (fast_maxpool_2x2s1,
                    (const MtFastPoolShape *s, const float *input, float *output,
                     int ow, int oh),
                    (s, input, output, ow, oh))

INLINE void
fast_maxpool_body (const MtFastPoolShape *s,
              const float           *input,
              float                 *output,
              int                    ow,
              int                    oh,
              float                 *plane,
              int                    n_rows,
              int                    len)
{
  int st = s->stride, k = s->size;

  for (int ch = 0; ch < s->c; ch++)
    {
      build_phase_plane (input + (gsize) ch * s->h * s->w, s->h, s->w,
                         s->padding / 2, s->padding / 2, n_rows, st, len,
                         -FLT_MAX, ch > 0, plane);

      for (int y = 0; y < oh; y++)
        {
          const float *base = plane + (gsize) y * st * st * len;
          float *out = output + ((gsize) ch * oh + y) * ow;

          for (int x = 0; x < ow; x += 8)
            {
              v8f m = v8_set1 (-FLT_MAX);

              for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                  {
                    v8f v = v8_load (base + (gsize) ky * st * len + (kx % st) * len + kx / st + x);
                    m = v8_max (v, m);
                  }
              if (x + 8 <= ow)
                v8_store (out + x, m);
              else
                v8_store_n (out + x, m, ow - x);
            }
        }
    }
}

MT_DEFINE_VARIANTS (fast_maxpool,
                    (const MtFastPoolShape *s, const float *input, float *output,
                     int ow, int oh, float *plane, int n_rows, int len),
                    (s, input, output, ow, oh, plane, n_rows, len))

void
mt_fast_maxpool_forward (const MtFastPoolShape *shape,
                         const float           *input,
                         float                 *output,
                         MtFastScratch         *scratch)
{
  int ow, oh, n_rows, len;
  float *plane;

  g_return_if_fail (shape != NULL && mt_fast_maxpool_supports (shape));
  g_return_if_fail (input != NULL && output != NULL && scratch != NULL);

  ow = mt_fast_maxpool_out_width (shape);
  oh = mt_fast_maxpool_out_height (shape);

  if (shape->size == 2 && shape->stride == 2 && shape->padding / 2 == 0)
    {
      fast_maxpool_2x2s2 (shape, input, output, ow, oh);
      return;
    }
  if (shape->size == 2 && shape->stride == 1 && shape->padding / 2 == 0)
    {
      fast_maxpool_2x2s1 (shape, input, output, ow, oh);
      return;
    }

  phase_plane_geometry (shape->size, shape->stride, ow, oh, &n_rows, &len);
  plane = scratch_reserve (scratch, (gsize) n_rows * shape->stride * len);
  fast_maxpool (shape, input, output, ow, oh, plane, n_rows, len);
}

/* ---- average pooling, shortcut ------------------------------------------ */

void
mt_fast_avgpool_forward (int          c,
                         int          h,
                         int          w,
                         const float *input,
                         float       *output)
{
  g_return_if_fail (c > 0 && h > 0 && w > 0);
  g_return_if_fail (input != NULL && output != NULL);

  /* A plain running sum in Darknet's order, so the means are bit-identical
   * (the layer is a tiny part of the work).  Darknet's source divides by
   * h·w, but Debian's build multiplies by the float reciprocal: so do we. */
  float scale = 1.f / (float) (h * w);

  for (int ch = 0; ch < c; ch++)
    {
      const float *p = input + (gsize) ch * h * w;
      float sum = 0.f;

      for (int i = 0; i < h * w; i++)
        sum += p[i];
      output[ch] = sum * scale;
    }
}

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
