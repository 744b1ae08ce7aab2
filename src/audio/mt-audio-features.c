#define G_LOG_DOMAIN "mt-audio-features"

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <aubio/aubio.h>
#include <ebur128.h>

#include "mt-audio-features.h"

/* Spectral frames: 93 ms windows every 46 ms, the usual grain for timbre
 * statistics.  The beat tracker and onset detector get the timing aubio's
 * defaults are tuned for, 23 ms windows every 11.6 ms (1024 and 512 samples
 * at 44.1 kHz): the tracker counts its tempo prior in hops (it peaks at 43
 * hops, 120 BPM at that grain), so 512-sample hops at this rate would pull
 * every song towards 60 BPM. */
#define WIN_SIZE 2048
#define HOP_SIZE 1024
#define BEAT_WIN 512
#define BEAT_HOP 256
/* ... at half the analysis rate: beats and onsets live below 5 kHz, and
 * half the rate halves the two detectors' transforms (they were a quarter
 * of the analysis).  The timing in seconds stays the same. */
#define BEAT_DECIMATION 2
#define BEAT_RATE (MT_AUDIO_SAMPLE_RATE / BEAT_DECIMATION)
#define BEAT_WIN_D (BEAT_WIN / BEAT_DECIMATION)
#define BEAT_HOP_D (BEAT_HOP / BEAT_DECIMATION)
#define N_MFCC 13          /* coefficient 0 (level) is left out of the stats */
#define N_MEL_BANDS 40
/* A frame quieter than this (about -100 dBFS) is silence: it counts for
 * the dynamics, not for the spectral shape, which silence does not have. */
#define SILENT_RMS 1e-5
/* Pitch classes are read from 65 Hz (C2) to 5 kHz, where the 10.8 Hz bins
 * still separate them and the harmonics are still strong. */
#define CHROMA_LOW_HZ 65.0
#define CHROMA_HIGH_HZ 5000.0
/* Spectral contrast (Jiang et al. 2002): peak over valley in octave bands
 * from 200 Hz, the lowest band below it; peak and valley are the means of
 * the top and bottom fifth of a band's bins. */
#define N_CONTRAST_BANDS 7
#define CONTRAST_SHARE 0.2
/* Key and mode are also read per segment of this many frames (3 s), where
 * a song that changes key or mode still has a clear one. */
#define SEGMENT_FRAMES 64
/* Floors that keep logarithms and ratios finite. */
#define LUFS_FLOOR -70.0
#define EPS 1e-12

typedef enum {
  F_LOUDNESS_INTEGRATED,
  F_LOUDNESS_RANGE,
  F_RMS_DB_STD,
  F_LOW_ENERGY_RATIO,
  F_CREST_DB,
  F_SILENCE_RATIO,
  F_TEMPO_BPM,
  F_TEMPO_CONFIDENCE,
  F_ONSET_RATE,
  F_CENTROID_MEAN, F_CENTROID_STD,
  F_SPREAD_MEAN, F_SPREAD_STD,
  F_ROLLOFF_MEAN, F_ROLLOFF_STD,
  F_FLATNESS_MEAN, F_FLATNESS_STD,
  F_FLUX_MEAN, F_FLUX_STD,
  F_ZCR_MEAN, F_ZCR_STD,
  F_BAND_LOW, F_BAND_LOW_MID, F_BAND_HIGH_MID, F_BAND_HIGH,
  F_MFCC_MEAN_FIRST,
  F_MFCC_STD_FIRST = F_MFCC_MEAN_FIRST + N_MFCC - 1,
  F_CHROMA_KEY_STRENGTH = F_MFCC_STD_FIRST + N_MFCC - 1,
  F_CHROMA_MODE,
  F_CHROMA_ENTROPY,
  F_CHROMA_FLUX,
  F_CONTRAST_FIRST,
  F_SEGMENT_MODE_MEAN = F_CONTRAST_FIRST + N_CONTRAST_BANDS,
  F_SEGMENT_MODE_STD,
  F_SEGMENT_KEY_STRENGTH,
  N_FEATURES
} FeatureId;

static const char * const feature_names[N_FEATURES] = {
  [F_LOUDNESS_INTEGRATED] = "loudness_integrated",   /* LUFS, EBU R128 */
  [F_LOUDNESS_RANGE] = "loudness_range",             /* LU, EBU Tech 3342 */
  [F_RMS_DB_STD] = "rms_db_std",                     /* dB, over sounding frames */
  [F_LOW_ENERGY_RATIO] = "low_energy_ratio",         /* frames below the mean energy */
  [F_CREST_DB] = "crest_db",                         /* peak over RMS */
  [F_SILENCE_RATIO] = "silence_ratio",
  [F_TEMPO_BPM] = "tempo_bpm",
  [F_TEMPO_CONFIDENCE] = "tempo_confidence",
  [F_ONSET_RATE] = "onset_rate",                     /* per second */
  [F_CENTROID_MEAN] = "centroid_mean", [F_CENTROID_STD] = "centroid_std",   /* kHz */
  [F_SPREAD_MEAN] = "spread_mean", [F_SPREAD_STD] = "spread_std",           /* kHz */
  [F_ROLLOFF_MEAN] = "rolloff_mean", [F_ROLLOFF_STD] = "rolloff_std",       /* kHz, 85% */
  [F_FLATNESS_MEAN] = "flatness_mean", [F_FLATNESS_STD] = "flatness_std",
  [F_FLUX_MEAN] = "flux_mean", [F_FLUX_STD] = "flux_std",
  [F_ZCR_MEAN] = "zcr_mean", [F_ZCR_STD] = "zcr_std",
  [F_BAND_LOW] = "band_low",             /* power share below 150 Hz */
  [F_BAND_LOW_MID] = "band_low_mid",     /* 150-800 Hz */
  [F_BAND_HIGH_MID] = "band_high_mid",   /* 800-3000 Hz */
  [F_BAND_HIGH] = "band_high",           /* 3-11 kHz */
  [F_MFCC_MEAN_FIRST + 0] = "mfcc1_mean", [F_MFCC_MEAN_FIRST + 1] = "mfcc2_mean",
  [F_MFCC_MEAN_FIRST + 2] = "mfcc3_mean", [F_MFCC_MEAN_FIRST + 3] = "mfcc4_mean",
  [F_MFCC_MEAN_FIRST + 4] = "mfcc5_mean", [F_MFCC_MEAN_FIRST + 5] = "mfcc6_mean",
  [F_MFCC_MEAN_FIRST + 6] = "mfcc7_mean", [F_MFCC_MEAN_FIRST + 7] = "mfcc8_mean",
  [F_MFCC_MEAN_FIRST + 8] = "mfcc9_mean", [F_MFCC_MEAN_FIRST + 9] = "mfcc10_mean",
  [F_MFCC_MEAN_FIRST + 10] = "mfcc11_mean", [F_MFCC_MEAN_FIRST + 11] = "mfcc12_mean",
  [F_MFCC_STD_FIRST + 0] = "mfcc1_std", [F_MFCC_STD_FIRST + 1] = "mfcc2_std",
  [F_MFCC_STD_FIRST + 2] = "mfcc3_std", [F_MFCC_STD_FIRST + 3] = "mfcc4_std",
  [F_MFCC_STD_FIRST + 4] = "mfcc5_std", [F_MFCC_STD_FIRST + 5] = "mfcc6_std",
  [F_MFCC_STD_FIRST + 6] = "mfcc7_std", [F_MFCC_STD_FIRST + 7] = "mfcc8_std",
  [F_MFCC_STD_FIRST + 8] = "mfcc9_std", [F_MFCC_STD_FIRST + 9] = "mfcc10_std",
  [F_MFCC_STD_FIRST + 10] = "mfcc11_std", [F_MFCC_STD_FIRST + 11] = "mfcc12_std",
  [F_CHROMA_KEY_STRENGTH] = "chroma_key_strength",   /* best key profile correlation */
  [F_CHROMA_MODE] = "chroma_mode",                   /* major minus minor correlation */
  [F_CHROMA_ENTROPY] = "chroma_entropy",             /* bits, of the mean chroma */
  [F_CHROMA_FLUX] = "chroma_flux",                   /* harmonic change per frame */
  [F_CONTRAST_FIRST + 0] = "contrast1_mean", [F_CONTRAST_FIRST + 1] = "contrast2_mean",
  [F_CONTRAST_FIRST + 2] = "contrast3_mean", [F_CONTRAST_FIRST + 3] = "contrast4_mean",
  [F_CONTRAST_FIRST + 4] = "contrast5_mean", [F_CONTRAST_FIRST + 5] = "contrast6_mean",
  [F_CONTRAST_FIRST + 6] = "contrast7_mean",
  [F_SEGMENT_MODE_MEAN] = "segment_mode_mean",       /* per 3 s: major minus minor */
  [F_SEGMENT_MODE_STD] = "segment_mode_std",
  [F_SEGMENT_KEY_STRENGTH] = "segment_key_strength",
};

/* Krumhansl & Kessler's key profiles (probe-tone ratings, 1982), C first. */
static const double major_profile[12] = { 6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88 };
static const double minor_profile[12] = { 6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17 };

/* Running mean and variance (Welford): one pass, no stored frames. */
typedef struct {
  double n;
  double mean;
  double m2;
} Stat;

static void
stat_add (Stat *s, double x)
{
  double delta = x - s->mean;

  s->n += 1.0;
  s->mean += delta / s->n;
  s->m2 += delta * (x - s->mean);
}

static double
stat_mean (const Stat *s)
{
  return s->n > 0 ? s->mean : 0.0;
}

static double
stat_std (const Stat *s)
{
  return s->n > 1 ? sqrt (s->m2 / (s->n - 1)) : 0.0;
}

typedef enum {
  S_CENTROID, S_SPREAD, S_ROLLOFF, S_FLATNESS, S_FLUX, S_ZCR, S_RMS_DB, S_CHROMA_FLUX,
  S_SEGMENT_MODE, S_SEGMENT_KEY,
  N_STATS
} StatId;

struct _MtAudioFeatures
{
  GObject          parent_instance;

  ebur128_state   *meter;
  /* The spectrum of the last WIN_SIZE samples, magnitudes only: aubio's
   * phase vocoder would also compute every bin's phase (an arctangent
   * each), which no descriptor here uses. */
  fvec_t          *frame;         /* the last WIN_SIZE samples */
  fvec_t          *window;        /* Hann */
  fvec_t          *windowed;
  fvec_t          *complex_spectrum;
  aubio_fft_t     *fft;
  cvec_t          *spectrum;
  aubio_mfcc_t    *mfcc;
  fvec_t          *mfcc_out;
  aubio_tempo_t   *tempo;
  fvec_t          *tempo_out;
  aubio_onset_t   *onset;
  fvec_t          *onset_out;

  fvec_t          *hop;           /* mono samples of the frame being filled */
  guint            hop_fill;
  fvec_t          *beat_block;    /* the hop at BEAT_RATE, for the beat tracker */
  fvec_t          *beat_view;     /* BEAT_HOP_D samples of it at a time */

  double           previous_spectrum[WIN_SIZE / 2 + 1];
  gboolean         have_previous_spectrum;
  double           previous_chroma[12];
  gboolean         have_previous_chroma;
  int              bin_pitch_class[WIN_SIZE / 2 + 1];   /* -1 outside the chroma band */

  Stat             stats[N_STATS];
  Stat             mfcc_stats[N_MFCC];
  double           band_power[4];
  double           chroma_sum[12];
  double           segment_chroma[12];
  guint            segment_fill;
  Stat             contrast[N_CONTRAST_BANDS];
  double           energy_sum;    /* of hop mean squares, for the low-energy ratio */
  GArray          *frame_energy;  /* mean square per frame */
  double           peak;
  double           square_sum;
  guint64          n_samples;
  guint            n_frames;
  guint            n_silent_frames;
  guint            n_onsets;
  GArray          *beat_bpm;      /* the tracker's tempo at each beat */
  Stat             beat_confidence;
};

G_DEFINE_FINAL_TYPE (MtAudioFeatures, mt_audio_features, G_TYPE_OBJECT)

guint
mt_audio_features_get_n_names (void)
{
  return N_FEATURES;
}

const char *
mt_audio_features_get_name (guint index)
{
  g_return_val_if_fail (index < N_FEATURES, NULL);
  return feature_names[index];
}

int
mt_audio_features_find_name (const char *name)
{
  g_return_val_if_fail (name != NULL, -1);
  for (guint i = 0; i < N_FEATURES; i++)
    if (strcmp (feature_names[i], name) == 0)
      return (int) i;
  return -1;
}

static void
mt_audio_features_finalize (GObject *object)
{
  MtAudioFeatures *self = (MtAudioFeatures *) object;

  ebur128_destroy (&self->meter);
  del_fvec (self->frame);
  del_fvec (self->window);
  del_fvec (self->windowed);
  del_fvec (self->complex_spectrum);
  del_aubio_fft (self->fft);
  del_cvec (self->spectrum);
  del_aubio_mfcc (self->mfcc);
  del_fvec (self->mfcc_out);
  del_aubio_tempo (self->tempo);
  del_fvec (self->tempo_out);
  del_aubio_onset (self->onset);
  del_fvec (self->onset_out);
  del_fvec (self->hop);
  del_fvec (self->beat_block);
  g_free (self->beat_view);   /* a view: its data belongs to beat_block */
  g_array_unref (self->frame_energy);
  g_array_unref (self->beat_bpm);
  G_OBJECT_CLASS (mt_audio_features_parent_class)->finalize (object);
}

static void
mt_audio_features_class_init (MtAudioFeaturesClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_audio_features_finalize;
}

static void
mt_audio_features_init (MtAudioFeatures *self)
{
  const double bin_hz = (double) MT_AUDIO_SAMPLE_RATE / WIN_SIZE;

  self->meter = ebur128_init (2, MT_AUDIO_SAMPLE_RATE, EBUR128_MODE_I | EBUR128_MODE_LRA);
  self->frame = new_fvec (WIN_SIZE);
  self->window = new_aubio_window ("hanningz", WIN_SIZE);
  self->windowed = new_fvec (WIN_SIZE);
  self->complex_spectrum = new_fvec (WIN_SIZE);
  self->fft = new_aubio_fft (WIN_SIZE);
  self->spectrum = new_cvec (WIN_SIZE);
  self->mfcc = new_aubio_mfcc (WIN_SIZE, N_MEL_BANDS, N_MFCC, MT_AUDIO_SAMPLE_RATE);
  self->mfcc_out = new_fvec (N_MFCC);
  self->tempo = new_aubio_tempo ("default", BEAT_WIN_D, BEAT_HOP_D, BEAT_RATE);
  self->tempo_out = new_fvec (1);
  self->onset = new_aubio_onset ("default", BEAT_WIN_D, BEAT_HOP_D, BEAT_RATE);
  self->onset_out = new_fvec (1);
  self->hop = new_fvec (HOP_SIZE);
  /* The beat tracker takes BEAT_HOP_D samples at a time: views into the
   * decimated hop rather than copies. */
  self->beat_block = new_fvec (HOP_SIZE / BEAT_DECIMATION);
  self->beat_view = g_new0 (fvec_t, 1);
  self->beat_view->length = BEAT_HOP_D;
  self->frame_energy = g_array_new (FALSE, FALSE, sizeof (double));
  self->beat_bpm = g_array_new (FALSE, FALSE, sizeof (double));

  /* Each object is checked: aubio returns NULL for parameters it refuses,
   * which these constants never are, but a NULL here would crash later. */
  g_assert (self->meter != NULL && self->fft != NULL && self->window != NULL && self->mfcc != NULL &&
            self->tempo != NULL && self->onset != NULL);

  for (guint k = 0; k <= WIN_SIZE / 2; k++)
    {
      double hz = k * bin_hz;

      if (hz < CHROMA_LOW_HZ || hz > CHROMA_HIGH_HZ)
        self->bin_pitch_class[k] = -1;
      else
        {
          /* MIDI note number; C is pitch class 0. */
          int note = (int) lround (69.0 + 12.0 * log2 (hz / 440.0));
          self->bin_pitch_class[k] = ((note % 12) + 12) % 12;
        }
    }
}

MtAudioFeatures *
mt_audio_features_new (void)
{
  return g_object_new (MT_TYPE_AUDIO_FEATURES, NULL);
}

static void key_fit (const double *chroma, double *out_major, double *out_minor);

static void
add_chroma (MtAudioFeatures *self,
            const double    *power)
{
  double chroma[12] = { 0 };
  double total = 0.0;

  for (guint k = 0; k <= WIN_SIZE / 2; k++)
    if (self->bin_pitch_class[k] >= 0)
      chroma[self->bin_pitch_class[k]] += power[k];
  for (int i = 0; i < 12; i++)
    total += chroma[i];
  if (total < EPS)
    return;
  for (int i = 0; i < 12; i++)
    {
      chroma[i] /= total;
      self->chroma_sum[i] += chroma[i];
    }
  if (self->have_previous_chroma)
    {
      double change = 0.0;

      for (int i = 0; i < 12; i++)
        change += fabs (chroma[i] - self->previous_chroma[i]);
      stat_add (&self->stats[S_CHROMA_FLUX], change);
    }
  memcpy (self->previous_chroma, chroma, sizeof chroma);
  self->have_previous_chroma = TRUE;

  for (int i = 0; i < 12; i++)
    self->segment_chroma[i] += chroma[i];
  if (++self->segment_fill == SEGMENT_FRAMES)
    {
      double major, minor;

      key_fit (self->segment_chroma, &major, &minor);
      stat_add (&self->stats[S_SEGMENT_MODE], major - minor);
      stat_add (&self->stats[S_SEGMENT_KEY], MAX (major, minor));
      memset (self->segment_chroma, 0, sizeof self->segment_chroma);
      self->segment_fill = 0;
    }
}

/* Rearranges @x so that x[k] is the k-th smallest, smaller ones before it
 * and larger after (Hoare's selection): the peak and valley of a band in
 * linear time, where sorting every band of every frame cost a tenth of the
 * analysis. */
static void
select_kth (double *x,
            guint   n,
            guint   k)
{
  guint left = 0, right = n - 1;

  while (left < right)
    {
      double pivot = x[(left + right) / 2];
      guint i = left, j = right;

      while (i <= j)
        {
          while (x[i] < pivot)
            i++;
          while (x[j] > pivot)
            j--;
          if (i <= j)
            {
              double t = x[i];
              x[i] = x[j];
              x[j] = t;
              i++;
              if (j == 0)
                break;
              j--;
            }
        }
      if (k <= j)
        right = j;
      else if (k >= i)
        left = i;
      else
        break;
    }
}

static void
add_contrast (MtAudioFeatures *self)
{
  const double bin_hz = (double) MT_AUDIO_SAMPLE_RATE / WIN_SIZE;
  double band[WIN_SIZE / 2 + 1];
  guint k = 1;   /* the DC bin says nothing about timbre */

  for (int b = 0; b < N_CONTRAST_BANDS; b++)
    {
      double high_hz = b == N_CONTRAST_BANDS - 1 ? G_MAXDOUBLE : 200.0 * (1 << b);
      guint n = 0, share;
      double peak = 0.0, valley = 0.0;

      while (k <= WIN_SIZE / 2 && k * bin_hz < high_hz)
        band[n++] = self->spectrum->norm[k++];
      /* Every band holds 18 bins or more at this rate and window. */
      if (n < 5)
        continue;
      share = MAX ((guint) (n * CONTRAST_SHARE), 1u);
      /* The smallest share values first, then the largest share last. */
      select_kth (band, n, share - 1);
      select_kth (band + share, n - share, n - 2 * share);
      for (guint i = 0; i < share; i++)
        {
          valley += band[i];
          peak += band[n - 1 - i];
        }
      stat_add (&self->contrast[b], log ((peak + EPS) / (valley + EPS)));
    }
}

/* The spectral shape of one sounding frame. */
static void
add_spectrum (MtAudioFeatures *self)
{
  const guint n_bins = WIN_SIZE / 2 + 1;
  const double bin_hz = (double) MT_AUDIO_SAMPLE_RATE / WIN_SIZE;
  double power[WIN_SIZE / 2 + 1];
  double magnitude_sum = 0.0, power_sum = 0.0, weighted = 0.0, log_sum = 0.0;
  double centroid, spread = 0.0, cumulative = 0.0, rolloff = 0.0, flux = 0.0;
  const double band_edges[4] = { 150.0, 800.0, 3000.0, G_MAXDOUBLE };

  for (guint k = 0; k < n_bins; k++)
    {
      double m = self->spectrum->norm[k];

      power[k] = m * m;
      magnitude_sum += m;
      power_sum += power[k];
      weighted += m * k * bin_hz;
      log_sum += log (m + EPS);
    }
  if (magnitude_sum < EPS)
    return;

  centroid = weighted / magnitude_sum;
  for (guint k = 0; k < n_bins; k++)
    {
      double d = k * bin_hz - centroid;
      spread += self->spectrum->norm[k] * d * d;
    }
  spread = sqrt (spread / magnitude_sum);
  for (guint k = 0; k < n_bins; k++)
    {
      cumulative += power[k];
      if (cumulative >= 0.85 * power_sum)
        {
          rolloff = k * bin_hz;
          break;
        }
    }
  for (guint k = 0, band = 0; k < n_bins; k++)
    {
      while (k * bin_hz >= band_edges[band])
        band++;
      self->band_power[band] += power[k] / power_sum;
    }
  /* Flux of the level-normalized spectrum: how much the timbre changes,
   * whatever the loudness. */
  for (guint k = 0; k < n_bins; k++)
    {
      double now = self->spectrum->norm[k] / magnitude_sum;

      if (self->have_previous_spectrum && now > self->previous_spectrum[k])
        flux += now - self->previous_spectrum[k];
      self->previous_spectrum[k] = now;
    }
  if (self->have_previous_spectrum)
    stat_add (&self->stats[S_FLUX], flux);
  self->have_previous_spectrum = TRUE;

  stat_add (&self->stats[S_CENTROID], centroid / 1000.0);
  stat_add (&self->stats[S_SPREAD], spread / 1000.0);
  stat_add (&self->stats[S_ROLLOFF], rolloff / 1000.0);
  stat_add (&self->stats[S_FLATNESS], exp (log_sum / n_bins) / (magnitude_sum / n_bins));

  aubio_mfcc_do (self->mfcc, self->spectrum, self->mfcc_out);
  for (guint i = 1; i < N_MFCC; i++)
    if (isfinite (self->mfcc_out->data[i]))
      stat_add (&self->mfcc_stats[i], self->mfcc_out->data[i]);

  add_chroma (self, power);
  add_contrast (self);
}

/* One hop of mono samples is complete. */
static void
process_hop (MtAudioFeatures *self)
{
  double square_sum = 0.0, mean_square;
  guint crossings = 0;

  for (guint i = 0; i < HOP_SIZE; i++)
    {
      double x = self->hop->data[i];

      square_sum += x * x;
      if (i > 0 && (x >= 0.0) != (self->hop->data[i - 1] >= 0.0))
        crossings++;
    }
  mean_square = square_sum / HOP_SIZE;
  g_array_append_val (self->frame_energy, mean_square);
  self->energy_sum += mean_square;
  self->n_frames++;

  /* Pairs averaged: a low-pass (a zero at the new Nyquist frequency)
   * good enough for onsets, which aliasing does not move. */
  for (guint i = 0; i < HOP_SIZE / BEAT_DECIMATION; i++)
    self->beat_block->data[i] = 0.5f * (self->hop->data[2 * i] + self->hop->data[2 * i + 1]);
  for (guint b = 0; b < HOP_SIZE / BEAT_HOP; b++)
    {
      self->beat_view->data = self->beat_block->data + b * BEAT_HOP_D;
      aubio_tempo_do (self->tempo, self->beat_view, self->tempo_out);
      if (self->tempo_out->data[0] != 0.0f)
        {
          double bpm = aubio_tempo_get_bpm (self->tempo);

          if (isfinite (bpm) && bpm > 0.0)
            g_array_append_val (self->beat_bpm, bpm);
          stat_add (&self->beat_confidence, aubio_tempo_get_confidence (self->tempo));
        }
      aubio_onset_do (self->onset, self->beat_view, self->onset_out);
      if (self->onset_out->data[0] != 0.0f)
        self->n_onsets++;
    }

  memmove (self->frame->data, self->frame->data + HOP_SIZE, (WIN_SIZE - HOP_SIZE) * sizeof (smpl_t));
  memcpy (self->frame->data + WIN_SIZE - HOP_SIZE, self->hop->data, HOP_SIZE * sizeof (smpl_t));
  for (guint i = 0; i < WIN_SIZE; i++)
    self->windowed->data[i] = self->frame->data[i] * self->window->data[i];
  aubio_fft_do_complex (self->fft, self->windowed, self->complex_spectrum);
  aubio_fft_get_norm (self->complex_spectrum, self->spectrum);

  if (sqrt (mean_square) < SILENT_RMS)
    {
      self->n_silent_frames++;
      self->have_previous_spectrum = FALSE;
      self->have_previous_chroma = FALSE;
      return;
    }
  stat_add (&self->stats[S_RMS_DB], 10.0 * log10 (mean_square));
  stat_add (&self->stats[S_ZCR], (double) crossings / HOP_SIZE);
  add_spectrum (self);
}

void
mt_audio_features_add (MtAudioFeatures *self,
                       const float     *interleaved,
                       gsize            n_frames)
{
  g_return_if_fail (MT_IS_AUDIO_FEATURES (self));
  g_return_if_fail (interleaved != NULL || n_frames == 0);

  if (n_frames == 0)
    return;
  ebur128_add_frames_float (self->meter, interleaved, n_frames);
  for (gsize i = 0; i < n_frames; i++)
    {
      float l = interleaved[2 * i], r = interleaved[2 * i + 1];
      /* A decoder's garbage (NaN, inf) must not poison every statistic. */
      double x = isfinite (l) && isfinite (r) ? CLAMP (0.5 * ((double) l + r), -1.0, 1.0) : 0.0;

      self->peak = MAX (self->peak, fabs (x));
      self->square_sum += x * x;
      self->hop->data[self->hop_fill++] = (smpl_t) x;
      if (self->hop_fill == HOP_SIZE)
        {
          process_hop (self);
          self->hop_fill = 0;
        }
    }
  self->n_samples += n_frames;
}

void
mt_audio_features_end_window (MtAudioFeatures *self)
{
  g_return_if_fail (MT_IS_AUDIO_FEATURES (self));
  /* A part-filled hop is dropped rather than joined to the next window's
   * start; the flux and chroma change restart. */
  self->hop_fill = 0;
  fvec_zeros (self->frame);
  self->have_previous_spectrum = FALSE;
  self->have_previous_chroma = FALSE;
}

double
mt_audio_features_get_seconds (MtAudioFeatures *self)
{
  g_return_val_if_fail (MT_IS_AUDIO_FEATURES (self), 0.0);
  return (double) self->n_samples / MT_AUDIO_SAMPLE_RATE;
}

static double
correlation (const double *a, const double *b, int rotation)
{
  double mean_a = 0.0, mean_b = 0.0, ab = 0.0, aa = 0.0, bb = 0.0;

  for (int i = 0; i < 12; i++)
    mean_a += a[i] / 12.0, mean_b += b[i] / 12.0;
  for (int i = 0; i < 12; i++)
    {
      double da = a[(i + rotation) % 12] - mean_a;
      double db = b[i] - mean_b;

      ab += da * db;
      aa += da * da;
      bb += db * db;
    }
  return aa > EPS && bb > EPS ? ab / sqrt (aa * bb) : 0.0;
}

/* The best correlations of @chroma with a major and a minor key profile. */
static void
key_fit (const double *chroma,
         double       *out_major,
         double       *out_minor)
{
  *out_major = *out_minor = -1.0;
  for (int key = 0; key < 12; key++)
    {
      *out_major = MAX (*out_major, correlation (chroma, major_profile, key));
      *out_minor = MAX (*out_minor, correlation (chroma, minor_profile, key));
    }
}

static void
finish_chroma (MtAudioFeatures *self,
               double          *values)
{
  double total = 0.0, entropy = 0.0, best_major = -1.0, best_minor = -1.0;

  for (int i = 0; i < 12; i++)
    total += self->chroma_sum[i];
  if (total < EPS)
    {
      /* No pitched content at all: no key, maximal uncertainty. */
      values[F_CHROMA_KEY_STRENGTH] = 0.0;
      values[F_CHROMA_MODE] = 0.0;
      values[F_CHROMA_ENTROPY] = log2 (12.0);
      return;
    }
  for (int i = 0; i < 12; i++)
    {
      double p = self->chroma_sum[i] / total;
      if (p > EPS)
        entropy -= p * log2 (p);
    }
  key_fit (self->chroma_sum, &best_major, &best_minor);
  values[F_CHROMA_KEY_STRENGTH] = MAX (best_major, best_minor);
  values[F_CHROMA_MODE] = best_major - best_minor;
  values[F_CHROMA_ENTROPY] = entropy;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* The tracker's tempo is re-estimated at every beat; the median over the
 * song ignores its first guesses and a passage where it lost the beat. */
static double
median_bpm (GArray *bpm)
{
  if (bpm->len == 0)
    return 0.0;
  g_array_sort (bpm, compare_doubles);
  return g_array_index (bpm, double, bpm->len / 2);
}

void
mt_audio_features_finish (MtAudioFeatures *self,
                          double          *values)
{
  double seconds = mt_audio_features_get_seconds (self);
  double lufs = LUFS_FLOOR, range = 0.0, mean_energy, rms;
  guint n_low = 0, n_sounding;

  g_return_if_fail (MT_IS_AUDIO_FEATURES (self));
  g_return_if_fail (values != NULL);

  if (ebur128_loudness_global (self->meter, &lufs) != EBUR128_SUCCESS || !isfinite (lufs))
    lufs = LUFS_FLOOR;
  if (ebur128_loudness_range (self->meter, &range) != EBUR128_SUCCESS || !isfinite (range))
    range = 0.0;
  values[F_LOUDNESS_INTEGRATED] = MAX (lufs, LUFS_FLOOR);
  values[F_LOUDNESS_RANGE] = range;

  mean_energy = self->n_frames > 0 ? self->energy_sum / self->n_frames : 0.0;
  for (guint i = 0; i < self->frame_energy->len; i++)
    if (g_array_index (self->frame_energy, double, i) < mean_energy)
      n_low++;
  values[F_RMS_DB_STD] = stat_std (&self->stats[S_RMS_DB]);
  values[F_LOW_ENERGY_RATIO] = self->n_frames > 0 ? (double) n_low / self->n_frames : 1.0;
  rms = self->n_samples > 0 ? sqrt (self->square_sum / self->n_samples) : 0.0;
  values[F_CREST_DB] = rms > SILENT_RMS ? 20.0 * log10 (self->peak / rms) : 0.0;
  values[F_SILENCE_RATIO] = self->n_frames > 0 ? (double) self->n_silent_frames / self->n_frames : 1.0;

  values[F_TEMPO_BPM] = median_bpm (self->beat_bpm);
  values[F_TEMPO_CONFIDENCE] = CLAMP (stat_mean (&self->beat_confidence), 0.0, 1.0);
  values[F_ONSET_RATE] = seconds > 0.0 ? self->n_onsets / seconds : 0.0;

  values[F_CENTROID_MEAN] = stat_mean (&self->stats[S_CENTROID]);
  values[F_CENTROID_STD] = stat_std (&self->stats[S_CENTROID]);
  values[F_SPREAD_MEAN] = stat_mean (&self->stats[S_SPREAD]);
  values[F_SPREAD_STD] = stat_std (&self->stats[S_SPREAD]);
  values[F_ROLLOFF_MEAN] = stat_mean (&self->stats[S_ROLLOFF]);
  values[F_ROLLOFF_STD] = stat_std (&self->stats[S_ROLLOFF]);
  values[F_FLATNESS_MEAN] = stat_mean (&self->stats[S_FLATNESS]);
  values[F_FLATNESS_STD] = stat_std (&self->stats[S_FLATNESS]);
  values[F_FLUX_MEAN] = stat_mean (&self->stats[S_FLUX]);
  values[F_FLUX_STD] = stat_std (&self->stats[S_FLUX]);
  values[F_ZCR_MEAN] = stat_mean (&self->stats[S_ZCR]);
  values[F_ZCR_STD] = stat_std (&self->stats[S_ZCR]);

  n_sounding = self->n_frames - self->n_silent_frames;
  for (int b = 0; b < 4; b++)
    values[F_BAND_LOW + b] = n_sounding > 0 ? self->band_power[b] / n_sounding : 0.0;

  for (guint i = 1; i < N_MFCC; i++)
    {
      values[F_MFCC_MEAN_FIRST + i - 1] = stat_mean (&self->mfcc_stats[i]);
      values[F_MFCC_STD_FIRST + i - 1] = stat_std (&self->mfcc_stats[i]);
    }

  finish_chroma (self, values);
  values[F_CHROMA_FLUX] = stat_mean (&self->stats[S_CHROMA_FLUX]);
  for (int b = 0; b < N_CONTRAST_BANDS; b++)
    values[F_CONTRAST_FIRST + b] = stat_mean (&self->contrast[b]);
  values[F_SEGMENT_MODE_MEAN] = stat_mean (&self->stats[S_SEGMENT_MODE]);
  values[F_SEGMENT_MODE_STD] = stat_std (&self->stats[S_SEGMENT_MODE]);
  values[F_SEGMENT_KEY_STRENGTH] = stat_mean (&self->stats[S_SEGMENT_KEY]);

  for (guint i = 0; i < N_FEATURES; i++)
    if (!isfinite (values[i]))
      {
        g_debug ("%s was not finite", feature_names[i]);
        values[i] = 0.0;
      }
}
