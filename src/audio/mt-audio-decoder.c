#define G_LOG_DOMAIN "mt-audio-decoder"

#include "config.h"

#include <gst/gst.h>
#include <gst/app/gstappsink.h>

#include "mt-audio-decoder.h"

G_DEFINE_QUARK (mt-audio-decoder-error-quark, mt_audio_decoder_error)

typedef struct {
  GstElement *pipeline;
  GstElement *convert;
  GstElement *sink;
  gboolean    has_audio;
  gint64      deadline;    /* monotonic µs */
  guint       timeout_s;
} Decoder;

/* Links the first audio stream of the file; others (video, a second audio
 * track) are left unlinked. */
static void
on_pad_added (GstElement *decodebin,
              GstPad     *pad,
              Decoder    *d)
{
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  g_autoptr(GstPad) sink_pad = NULL;
  const char *name;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (!g_str_has_prefix (name, "audio/") || d->has_audio)
    return;
  sink_pad = gst_element_get_static_pad (d->convert, "sink");
  if (gst_pad_link (pad, sink_pad) == GST_PAD_LINK_OK)
    d->has_audio = TRUE;
}

static gboolean
build_pipeline (Decoder     *d,
                const char  *uri,
                GError     **error)
{
  g_autoptr(GstCaps) caps = NULL;
  GstElement *source = gst_element_factory_make ("uridecodebin", NULL);
  GstElement *resample = gst_element_factory_make ("audioresample", NULL);
  GstElement *filter = gst_element_factory_make ("capsfilter", NULL);

  d->convert = gst_element_factory_make ("audioconvert", NULL);
  d->sink = gst_element_factory_make ("appsink", NULL);
  d->pipeline = gst_pipeline_new (NULL);
  if (source == NULL || resample == NULL || filter == NULL || d->convert == NULL || d->sink == NULL)
    {
      g_clear_object (&source);
      g_clear_object (&resample);
      g_clear_object (&filter);
      g_clear_object (&d->convert);
      g_clear_object (&d->sink);
      g_set_error_literal (error, MT_AUDIO_DECODER_ERROR, MT_AUDIO_DECODER_ERROR_UNREADABLE,
                           "GStreamer's base plugins are missing (uridecodebin, audioconvert, audioresample, appsink)");
      return FALSE;
    }
  caps = gst_caps_new_simple ("audio/x-raw",
                              "format", G_TYPE_STRING, "F32LE",
                              "layout", G_TYPE_STRING, "interleaved",
                              "channels", G_TYPE_INT, 2,
                              "rate", G_TYPE_INT, MT_AUDIO_SAMPLE_RATE,
                              NULL);
  /* The uri is set as a property, never parsed into a pipeline
   * description: a file name cannot add elements. */
  g_object_set (source, "uri", uri, NULL);
  g_object_set (filter, "caps", caps, NULL);
  /* Quality 4 (the default) filters far beyond what loudness, beats and
   * spectral statistics resolve, at a third of the analysis time; 1 keeps
   * the aliasing below -60 dB. */
  g_object_set (resample, "quality", 1, NULL);
  /* As fast as the decoder goes, never at the song's own pace. */
  g_object_set (d->sink, "sync", FALSE, "max-buffers", 16, NULL);
  gst_bin_add_many (GST_BIN (d->pipeline), source, d->convert, resample, filter, d->sink, NULL);
  if (!gst_element_link_many (d->convert, resample, filter, d->sink, NULL))
    {
      g_set_error_literal (error, MT_AUDIO_DECODER_ERROR, MT_AUDIO_DECODER_ERROR_UNREADABLE,
                           "cannot build the decoding pipeline");
      return FALSE;
    }
  g_signal_connect (source, "pad-added", G_CALLBACK (on_pad_added), d);
  return TRUE;
}

static gboolean
timeout_error (Decoder  *d,
               GError  **error)
{
  g_set_error (error, MT_AUDIO_DECODER_ERROR, MT_AUDIO_DECODER_ERROR_TIMEOUT,
               "decoding took longer than %u s", d->timeout_s);
  return FALSE;
}

/* An error the pipeline posted, as a message for people. */
static gboolean
bus_error (Decoder     *d,
           GstMessage  *message,
           GError     **error)
{
  g_autoptr(GError) gst_error = NULL;

  gst_message_parse_error (message, &gst_error, NULL);
  if (!d->has_audio)
    g_set_error (error, MT_AUDIO_DECODER_ERROR, MT_AUDIO_DECODER_ERROR_UNREADABLE,
                 "not a readable audio file (%s)", gst_error->message);
  else
    g_set_error (error, MT_AUDIO_DECODER_ERROR, MT_AUDIO_DECODER_ERROR_UNREADABLE,
                 "the audio cannot be decoded (%s)", gst_error->message);
  return FALSE;
}

/* Waits until the pipeline is paused with data (prerolled).  A file that
 * gives no first sample within MT_AUDIO_PREROLL_S is given up before the
 * whole timeout: decodebin drops the error of a demuxer that fails while
 * it is being set up (a truncated Ogg, now and then), and then nothing
 * more ever happens. */
static gboolean
preroll (Decoder  *d,
         GError  **error)
{
  g_autoptr(GstBus) bus = gst_element_get_bus (d->pipeline);
  gint64 deadline = MIN (d->deadline, g_get_monotonic_time () + (gint64) MT_AUDIO_PREROLL_S * G_USEC_PER_SEC);

  if (gst_element_set_state (d->pipeline, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE)
    {
      g_autoptr(GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
      if (message != NULL)
        return bus_error (d, message, error);
      g_set_error_literal (error, MT_AUDIO_DECODER_ERROR, MT_AUDIO_DECODER_ERROR_UNREADABLE,
                           "not a readable audio file");
      return FALSE;
    }
  for (;;)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      g_autoptr(GstMessage) message = NULL;

      if (left > 0)
        message = gst_bus_timed_pop_filtered (bus, left * GST_USECOND,
                                              GST_MESSAGE_ERROR | GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_EOS);
      if (message == NULL && deadline < d->deadline)
        {
          g_set_error (error, MT_AUDIO_DECODER_ERROR, MT_AUDIO_DECODER_ERROR_UNREADABLE,
                       "the audio cannot be decoded (no sound came out within %d s: a damaged or truncated file?)",
                       MT_AUDIO_PREROLL_S);
          return FALSE;
        }
      if (message == NULL)
        return timeout_error (d, error);
      if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
        return bus_error (d, message, error);
      if (!d->has_audio)
        {
          g_set_error_literal (error, MT_AUDIO_DECODER_ERROR, MT_AUDIO_DECODER_ERROR_UNREADABLE,
                               "the file has no audio stream");
          return FALSE;
        }
      return TRUE;
    }
}

/* Pulls decoded audio into @features until the window's end, the stream's
 * end, or @max_frames frames.  Returns the frames added, -1 on error. */
static gint64
pull_window (Decoder          *d,
             MtAudioFeatures  *features,
             gint64            max_frames,
             GError          **error)
{
  g_autoptr(GstBus) bus = gst_element_get_bus (d->pipeline);
  gint64 n_frames = 0;

  if (gst_element_set_state (d->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error_literal (error, MT_AUDIO_DECODER_ERROR, MT_AUDIO_DECODER_ERROR_UNREADABLE,
                           "the audio cannot be decoded");
      return -1;
    }
  while (n_frames < max_frames)
    {
      g_autoptr(GstSample) sample = NULL;
      g_autoptr(GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
      GstBuffer *buffer;
      GstMapInfo map;

      if (message != NULL)
        {
          bus_error (d, message, error);
          return -1;
        }
      if (g_get_monotonic_time () > d->deadline)
        {
          timeout_error (d, error);
          return -1;
        }
      sample = gst_app_sink_try_pull_sample (GST_APP_SINK (d->sink), 100 * GST_MSECOND);
      if (sample == NULL)
        {
          if (gst_app_sink_is_eos (GST_APP_SINK (d->sink)))
            break;
          continue;
        }
      buffer = gst_sample_get_buffer (sample);
      if (buffer == NULL || !gst_buffer_map (buffer, &map, GST_MAP_READ))
        continue;
      {
        gint64 frames = (gint64) (map.size / (2 * sizeof (float)));

        frames = MIN (frames, max_frames - n_frames);
        mt_audio_features_add (features, (const float *) map.data, (gsize) frames);
        n_frames += frames;
      }
      gst_buffer_unmap (buffer, &map);
    }
  gst_element_set_state (d->pipeline, GST_STATE_PAUSED);
  gst_element_get_state (d->pipeline, NULL, NULL, 5 * GST_SECOND);
  mt_audio_features_end_window (features);
  return n_frames;
}

static gboolean
seek_window (Decoder *d,
             gint64   start_ns,
             gint64   length_ns)
{
  gboolean ok = gst_element_seek (d->pipeline, 1.0, GST_FORMAT_TIME,
                                  GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                                  GST_SEEK_TYPE_SET, start_ns,
                                  GST_SEEK_TYPE_SET, start_ns + length_ns);
  /* A flushing seek prerolls again before the next pull. */
  if (ok)
    gst_element_get_state (d->pipeline, NULL, NULL, 5 * GST_SECOND);
  return ok;
}

gboolean
mt_audio_decode_into (const char       *uri,
                      MtAudioFeatures  *features,
                      guint             timeout_s,
                      gint64           *out_duration_ms,
                      gint64           *out_analysed_ms,
                      GError          **error)
{
  Decoder d = { 0 };
  gint64 duration_ns = -1;
  gint64 total_frames = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail (uri != NULL, FALSE);
  g_return_val_if_fail (MT_IS_AUDIO_FEATURES (features), FALSE);

  *out_duration_ms = 0;
  *out_analysed_ms = 0;
  d.timeout_s = MAX (timeout_s, 1u);
  d.deadline = g_get_monotonic_time () + (gint64) d.timeout_s * G_USEC_PER_SEC;
  if (!build_pipeline (&d, uri, error) || !preroll (&d, error))
    goto out;

  if (!gst_element_query_duration (d.pipeline, GST_FORMAT_TIME, &duration_ns) || duration_ns <= 0)
    duration_ns = -1;
  else
    *out_duration_ms = duration_ns / GST_MSECOND;

  if (duration_ns > (gint64) MT_AUDIO_WHOLE_SONG_S * GST_SECOND)
    {
      /* Windows centred at 20%, 50% and 80%: past an intro, clear of the
       * fade-out, and the chorus most songs have in the middle. */
      const gint64 window_ns = (gint64) MT_AUDIO_WINDOW_S * GST_SECOND;
      const double centres[MT_AUDIO_N_WINDOWS] = { 0.2, 0.5, 0.8 };
      g_autoptr(GError) seek_error = NULL;

      for (int w = 0; w < MT_AUDIO_N_WINDOWS; w++)
        {
          gint64 start = (gint64) (centres[w] * duration_ns) - window_ns / 2;
          gint64 frames;

          start = CLAMP (start, 0, duration_ns - window_ns);
          if (!seek_window (&d, start, window_ns))
            {
              /* Not seekable after all: what was decoded is the analysis. */
              if (w == 0)
                g_set_error_literal (&seek_error, MT_AUDIO_DECODER_ERROR, MT_AUDIO_DECODER_ERROR_UNREADABLE,
                                     "the file cannot be read at its middle (seeking failed)");
              break;
            }
          frames = pull_window (&d, features, (gint64) MT_AUDIO_WINDOW_S * MT_AUDIO_SAMPLE_RATE, error);
          if (frames < 0)
            goto out;
          total_frames += frames;
        }
      if (total_frames == 0 && seek_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&seek_error));
          goto out;
        }
    }
  else
    {
      gint64 frames = pull_window (&d, features, (gint64) MT_AUDIO_WHOLE_SONG_S * MT_AUDIO_SAMPLE_RATE, error);

      if (frames < 0)
        goto out;
      total_frames = frames;
    }

  *out_analysed_ms = total_frames * 1000 / MT_AUDIO_SAMPLE_RATE;
  if ((double) total_frames / MT_AUDIO_SAMPLE_RATE < MT_AUDIO_MIN_SECONDS)
    {
      g_set_error (error, MT_AUDIO_DECODER_ERROR, MT_AUDIO_DECODER_ERROR_TOO_SHORT,
                   "too short to analyse (%.1f s of audio, %.0f s needed)",
                   (double) total_frames / MT_AUDIO_SAMPLE_RATE, MT_AUDIO_MIN_SECONDS);
      goto out;
    }
  ok = TRUE;

out:
  if (d.pipeline != NULL)
    {
      gst_element_set_state (d.pipeline, GST_STATE_NULL);
      gst_object_unref (d.pipeline);
    }
  return ok;
}
