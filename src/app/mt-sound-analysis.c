/* mt-sound-analysis.c: one MtLibraryAnalyzer run at a time, cancelled when
 * the app quits or an import starts, observed through its properties. */
#define G_LOG_DOMAIN "mt-sound-analysis"

#include "config.h"

#include "mt-audio-features.h"
#include "mt-library-analyzer.h"
#include "mt-sound-analysis.h"
#include "mt-test-report.h"

struct _MtSoundAnalysis
{
  GObject            parent_instance;

  MtLibrary         *library;
  GSettings         *settings;
  MtLibraryAnalyzer *analyzer;     /* while running */
  GCancellable      *cancellable;  /* while running */
  guint              done;
  guint              total;
  gboolean           start_again;  /* asked to start while a cancelled run ends */
};

G_DEFINE_FINAL_TYPE (MtSoundAnalysis, mt_sound_analysis, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_RUNNING,
  PROP_DONE,
  PROP_TOTAL,
  N_PROPS
};

enum {
  FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
report_event (const char             *event,
              const MtAnalysisReport *report)
{
  JsonBuilder *builder = mt_test_report_begin (event);

  if (builder == NULL)
    return;
  json_builder_set_member_name (builder, "total");
  json_builder_add_int_value (builder, report->total);
  json_builder_set_member_name (builder, "analysed");
  json_builder_add_int_value (builder, report->analysed);
  json_builder_set_member_name (builder, "failed");
  json_builder_add_int_value (builder, report->failed);
  json_builder_set_member_name (builder, "cancelled");
  json_builder_add_boolean_value (builder, report->cancelled);
  mt_test_report_end (builder);
}

static void
set_progress (MtSoundAnalysis *self,
              guint            done,
              guint            total)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (self->done != done)
    {
      self->done = done;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DONE]);
    }
  if (self->total != total)
    {
      self->total = total;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static void
progress_cb (MtSoundAnalysis        *self,
             const MtAnalysisReport *report)
{
  set_progress (self, report->analysed + report->failed, report->total);
  report_event ("sound-analysis-progress", report);
}

static void
run_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      data)
{
  g_autoptr(MtSoundAnalysis) self = data;
  g_autoptr(MtAnalysisReport) report = NULL;
  g_autoptr(GError) error = NULL;

  report = mt_library_analyzer_run_finish (MT_LIBRARY_ANALYZER (object), result, &error);
  if (report == NULL)
    g_message ("The sound of the songs could not be read: %s", error->message);
  /* A newer run may have started after this one was cancelled. */
  if (self->analyzer != MT_LIBRARY_ANALYZER (object))
    return;
  g_clear_object (&self->analyzer);
  g_clear_object (&self->cancellable);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  if (report != NULL)
    report_event ("sound-analysis-done", report);
  /* New moods (also from a run cut short): the playlist follows them. */
  g_signal_emit (self, signals[FINISHED], 0,
                 report != NULL && report->analysed + report->rescored > 0);
  if (self->start_again)
    {
      self->start_again = FALSE;
      mt_sound_analysis_start (self);
    }
}

void
mt_sound_analysis_start (MtSoundAnalysis *self)
{
  gint64 pending = 0;

  g_return_if_fail (MT_IS_SOUND_ANALYSIS (self));

  if (!g_settings_get_boolean (self->settings, "audio-analysis"))
    return;
  if (self->analyzer != NULL)
    {
      /* A cancelled run still finishing the songs it was decoding. */
      self->start_again = g_cancellable_is_cancelled (self->cancellable);
      return;
    }
  if (!mt_sound_analysis_count (self, NULL, NULL, &pending, NULL) || pending == 0)
    return;
  self->analyzer = mt_library_analyzer_new (self->library);
  self->cancellable = g_cancellable_new ();
  g_signal_connect_object (self->analyzer, "progress", G_CALLBACK (progress_cb), self, G_CONNECT_SWAPPED);
  set_progress (self, 0, (guint) pending);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  mt_library_analyzer_run_async (self->analyzer, self->cancellable, run_done_cb, g_object_ref (self));
}

void
mt_sound_analysis_cancel (MtSoundAnalysis *self)
{
  g_return_if_fail (MT_IS_SOUND_ANALYSIS (self));

  self->start_again = FALSE;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
mt_sound_analysis_get_running (MtSoundAnalysis *self)
{
  g_return_val_if_fail (MT_IS_SOUND_ANALYSIS (self), FALSE);
  return self->analyzer != NULL;
}

guint
mt_sound_analysis_get_done (MtSoundAnalysis *self)
{
  g_return_val_if_fail (MT_IS_SOUND_ANALYSIS (self), 0);
  return self->done;
}

guint
mt_sound_analysis_get_total (MtSoundAnalysis *self)
{
  g_return_val_if_fail (MT_IS_SOUND_ANALYSIS (self), 0);
  return self->total;
}

gboolean
mt_sound_analysis_count (MtSoundAnalysis *self,
                         gint64          *analysed,
                         gint64          *failed,
                         gint64          *pending,
                         GError         **error)
{
  g_return_val_if_fail (MT_IS_SOUND_ANALYSIS (self), FALSE);
  return mt_library_count_audio (self->library, MT_AUDIO_FEATURES_VERSION, analysed, failed, pending, error);
}

GPtrArray *
mt_sound_analysis_list_failures (MtSoundAnalysis *self,
                                 GError         **error)
{
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(GPtrArray) failures = NULL;

  g_return_val_if_fail (MT_IS_SOUND_ANALYSIS (self), NULL);

  if (!(songs = mt_library_list_songs (self->library, error)))
    return NULL;
  failures = g_ptr_array_new_with_free_func (mt_import_skip_free);
  for (guint i = 0; i < songs->len; i++)
    {
      const MtSong *song = g_ptr_array_index (songs, i);
      g_autofree char *reason = NULL;
      g_autofree char *path = NULL;
      MtAudioState state;

      if (song->missing_since != 0)
        continue;
      if (!mt_library_get_audio_state (self->library, song->id, &state, &reason, error))
        return NULL;
      if (state != MT_AUDIO_STATE_FAILED)
        continue;
      path = g_filename_from_uri (song->uri, NULL, NULL);
      g_ptr_array_add (failures, mt_import_skip_new (path != NULL ? path : song->uri, reason));
    }
  return g_steal_pointer (&failures);
}

/* Switched off: the run stops; on again: the songs waiting are read. */
static void
setting_changed_cb (MtSoundAnalysis *self)
{
  if (g_settings_get_boolean (self->settings, "audio-analysis"))
    mt_sound_analysis_start (self);
  else
    mt_sound_analysis_cancel (self);
}

static void
mt_sound_analysis_dispose (GObject *object)
{
  MtSoundAnalysis *self = MT_SOUND_ANALYSIS (object);

  mt_sound_analysis_cancel (self);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->analyzer);
  g_clear_object (&self->library);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mt_sound_analysis_parent_class)->dispose (object);
}

static void
mt_sound_analysis_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  MtSoundAnalysis *self = MT_SOUND_ANALYSIS (object);

  switch (prop_id)
    {
    case PROP_RUNNING:
      g_value_set_boolean (value, mt_sound_analysis_get_running (self));
      break;
    case PROP_DONE:
      g_value_set_uint (value, self->done);
      break;
    case PROP_TOTAL:
      g_value_set_uint (value, self->total);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_sound_analysis_class_init (MtSoundAnalysisClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mt_sound_analysis_dispose;
  object_class->get_property = mt_sound_analysis_get_property;

  /** MtSoundAnalysis:running: songs are being read now */
  properties[PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                                   G_PARAM_STATIC_STRINGS);
  /** MtSoundAnalysis:done: songs read (or failed) in the current or last run */
  properties[PROP_DONE] = g_param_spec_uint ("done", NULL, NULL, 0, G_MAXUINT, 0,
                                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                             G_PARAM_STATIC_STRINGS);
  /** MtSoundAnalysis:total: songs to read in the current or last run */
  properties[PROP_TOTAL] = g_param_spec_uint ("total", NULL, NULL, 0, G_MAXUINT, 0,
                                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                              G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MtSoundAnalysis::finished:
   * @new_moods: some songs have new moods from their sound
   *
   * A run ended: done, cancelled or failed.
   */
  signals[FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
mt_sound_analysis_init (MtSoundAnalysis *self)
{
}

MtSoundAnalysis *
mt_sound_analysis_new (MtLibrary *library,
                       GSettings *settings)
{
  MtSoundAnalysis *self;

  g_return_val_if_fail (MT_IS_LIBRARY (library), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (MT_TYPE_SOUND_ANALYSIS, NULL);
  self->library = g_object_ref (library);
  self->settings = g_object_ref (settings);
  g_signal_connect_object (settings, "changed::audio-analysis", G_CALLBACK (setting_changed_cb), self,
                           G_CONNECT_SWAPPED);
  return self;
}
