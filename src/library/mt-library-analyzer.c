#define G_LOG_DOMAIN "mt-library-analyzer"

#include "config.h"

#include "mt-audio-analyzer.h"
#include "mt-audio-features.h"
#include "mt-helper-process.h"
#include "mt-library-analyzer.h"
#include "mt-main-context.h"

/* Weights derived again from stored descriptors are written this many to
 * a transaction: thousands of songs in a second, never a long lock. */
#define RESCORE_BATCH 256

struct _MtLibraryAnalyzer
{
  GObject           parent_instance;
  MtLibrary        *library;   /* told of the new moods at the end */
  char             *db_path;
  MtAudioMoodModel *model;
  MtAudioMoods     *moods;
  guint             n_jobs;
  guint             timeout_s;
};

enum { PROGRESS, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (MtLibraryAnalyzer, mt_library_analyzer, G_TYPE_OBJECT)

static MtAnalysisReport *
analysis_report_new (void)
{
  MtAnalysisReport *report = g_new0 (MtAnalysisReport, 1);

  report->failures = g_ptr_array_new_with_free_func (mt_import_skip_free);
  return report;
}

MtAnalysisReport *
mt_analysis_report_copy (const MtAnalysisReport *report)
{
  MtAnalysisReport *copy;

  g_return_val_if_fail (report != NULL, NULL);
  copy = g_memdup2 (report, sizeof *report);
  copy->failures = mt_import_skips_copy (report->failures);
  return copy;
}

void
mt_analysis_report_free (MtAnalysisReport *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->failures, g_ptr_array_unref);
  g_free (report);
}

G_DEFINE_BOXED_TYPE (MtAnalysisReport, mt_analysis_report, mt_analysis_report_copy, mt_analysis_report_free)

char *
mt_library_analyzer_dup_model_version (MtAudioMoodModel *model,
                                       MtAudioMoods     *moods)
{
  g_return_val_if_fail (MT_IS_AUDIO_MOOD_MODEL (model), NULL);
  g_return_val_if_fail (MT_IS_AUDIO_MOODS (moods), NULL);
  return g_strdup_printf ("%s+%s", mt_audio_mood_model_get_version (model),
                          mt_audio_moods_get_fingerprint (moods));
}

static void
mt_library_analyzer_finalize (GObject *object)
{
  MtLibraryAnalyzer *self = (MtLibraryAnalyzer *) object;

  g_clear_object (&self->library);
  g_free (self->db_path);
  g_clear_object (&self->model);
  g_clear_object (&self->moods);
  G_OBJECT_CLASS (mt_library_analyzer_parent_class)->finalize (object);
}

static void
mt_library_analyzer_class_init (MtLibraryAnalyzerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_library_analyzer_finalize;

  /**
   * MtLibraryAnalyzer::progress:
   * @report: the counts so far (failures left out)
   *
   * Emitted when the songs to analyse are known, after each song, and at
   * the end.
   */
  signals[PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                    MT_TYPE_ANALYSIS_REPORT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
mt_library_analyzer_init (MtLibraryAnalyzer *self)
{
  self->n_jobs = MAX (g_get_num_processors (), 1u);
  self->timeout_s = 60;
}

MtLibraryAnalyzer *
mt_library_analyzer_new (MtLibrary *library)
{
  MtLibraryAnalyzer *self;

  g_return_val_if_fail (MT_IS_LIBRARY (library), NULL);
  self = g_object_new (MT_TYPE_LIBRARY_ANALYZER, NULL);
  self->library = g_object_ref (library);
  self->db_path = g_strdup (mt_library_get_path (library));
  return self;
}

void
mt_library_analyzer_set_model (MtLibraryAnalyzer *self,
                               MtAudioMoodModel  *model,
                               MtAudioMoods      *moods)
{
  g_return_if_fail (MT_IS_LIBRARY_ANALYZER (self));
  g_set_object (&self->model, model);
  g_set_object (&self->moods, moods);
}

void
mt_library_analyzer_set_n_jobs (MtLibraryAnalyzer *self,
                                guint              n_jobs)
{
  g_return_if_fail (MT_IS_LIBRARY_ANALYZER (self));
  self->n_jobs = CLAMP (n_jobs, 1u, 64u);
}

void
mt_library_analyzer_set_timeout (MtLibraryAnalyzer *self,
                                 guint              seconds)
{
  g_return_if_fail (MT_IS_LIBRARY_ANALYZER (self));
  self->timeout_s = MAX (seconds, 1u);
}

static gboolean
ensure_model (MtLibraryAnalyzer  *self,
              GError            **error)
{
  if (self->model == NULL && !(self->model = mt_audio_mood_model_new_default (error)))
    return FALSE;
  if (self->moods == NULL && !(self->moods = mt_audio_moods_new_default (error)))
    return FALSE;
  return TRUE;
}

/* @context: where to emit when running in a worker thread, NULL to emit
 * right here. */
static void
emit_progress (MtLibraryAnalyzer      *self,
               GMainContext           *context,
               const MtAnalysisReport *report)
{
  MtAnalysisReport counts = *report;

  /* The receiver wants counts, not a copy of every failure so far. */
  counts.failures = NULL;
  mt_main_context_emit_boxed (context, self, signals[PROGRESS], MT_TYPE_ANALYSIS_REPORT, &counts);
}

/* Valence, arousal and mood weights of one song from its descriptors. */
static gboolean
store_mood (MtLibraryAnalyzer  *self,
            MtLibrary          *library,
            gint64              id,
            const char         *model_version,
            const char         *features_json,
            GError            **error)
{
  double valence, arousal, weights[MT_N_MOODS];

  if (!mt_audio_mood_model_predict_json (self->model, features_json, &valence, &arousal, error))
    return FALSE;
  mt_audio_moods_apply (self->moods, valence, arousal, weights);
  return mt_library_set_audio_mood (library, id, model_version, valence, arousal, weights,
                                    mt_audio_moods_get_tag_weight (self->moods), error);
}

/* A new model or mapping: weights again from the stored descriptors, for
 * the songs not about to be decoded again (@pending: their ids). */
static gboolean
rescore_stale (MtLibraryAnalyzer  *self,
               MtLibrary          *library,
               const char         *model_version,
               GHashTable         *pending,
               MtAnalysisReport   *report,
               GError            **error)
{
  g_autoptr(GPtrArray) stale = mt_library_list_audio_stale (library, model_version, 0, error);
  guint in_batch = 0;

  if (stale == NULL)
    return FALSE;
  for (guint i = 0; i < stale->len; i++)
    {
      MtSongFeatures *row = g_ptr_array_index (stale, i);
      g_autoptr(GError) local_error = NULL;

      if (g_hash_table_contains (pending, &row->song_id))
        {
          if (in_batch > 0 && i + 1 == stale->len && !mt_library_commit (library, error))
            return FALSE;
          continue;
        }
      if (in_batch == 0 && !mt_library_begin (library, error))
        return FALSE;
      if (store_mood (self, library, row->song_id, model_version, row->features_json, &local_error))
        report->rescored++;
      else if (g_error_matches (local_error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_DATABASE))
        {
          mt_library_rollback (library);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      else
        /* Stored descriptors the model cannot read (edited by hand, a
         * model fitted on other descriptors): the song keeps its tags. */
        g_debug ("song %" G_GINT64_FORMAT ": %s", row->song_id, local_error->message);
      if (++in_batch == RESCORE_BATCH || i + 1 == stale->len)
        {
          if (!mt_library_commit (library, error))
            return FALSE;
          in_batch = 0;
        }
    }
  return TRUE;
}

/* What the decoding threads share. */
typedef struct {
  GPtrArray    *songs;        /* of MtSong: the queue */
  guint         next;         /* index of the next song to take */
  GMutex        lock;
  GAsyncQueue  *results;      /* of Result; a NULL song: that worker is done */
  GCancellable *cancellable;
  gint          stop;         /* atomic: the helper cannot start, stop all */
  guint         timeout_s;
} Work;

typedef struct {
  MtSong          *song;      /* borrowed from Work.songs */
  MtAudioAnalysis *analysis;  /* or */
  GError          *error;
  guint            restarts;  /* on the end marker: of that worker's helper */
} Result;

static MtSong *
take_song (Work *work)
{
  MtSong *song = NULL;

  g_mutex_lock (&work->lock);
  if (work->next < work->songs->len)
    song = g_ptr_array_index (work->songs, work->next++);
  g_mutex_unlock (&work->lock);
  return song;
}

static gpointer
decode_thread (gpointer data)
{
  Work *work = data;
  g_autoptr(MtAudioAnalyzer) analyzer = mt_audio_analyzer_new ();
  MtSong *song;

  mt_audio_analyzer_set_timeout (analyzer, work->timeout_s);
  while (!g_cancellable_is_cancelled (work->cancellable) && !g_atomic_int_get (&work->stop) &&
         (song = take_song (work)) != NULL)
    {
      Result *result = g_new0 (Result, 1);

      result->song = song;
      result->analysis = mt_audio_analyzer_analyse (analyzer, song->uri, &result->error);
      if (g_error_matches (result->error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_HELPER))
        g_atomic_int_set (&work->stop, TRUE);
      g_async_queue_push (work->results, result);
    }
  {
    Result *end = g_new0 (Result, 1);

    end->restarts = mt_audio_analyzer_get_n_restarts (analyzer);
    g_async_queue_push (work->results, end);
  }
  return NULL;
}

static char *
path_of (const char *uri)
{
  char *path = g_filename_from_uri (uri, NULL, NULL);

  return path != NULL ? path : g_strdup (uri);
}

/* Commits one song's analysis (or why it failed). */
static gboolean
store_result (MtLibraryAnalyzer  *self,
              MtLibrary          *library,
              const char         *model_version,
              Result             *result,
              MtAnalysisReport   *report,
              GError            **error)
{
  MtSong *song = result->song;
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  if (result->analysis == NULL)
    {
      /* A file that crashes or hangs the decoder would do it again:
       * remembered like any other failure, tried again once it changes. */
      g_autofree char *path = path_of (song->uri);
      g_autofree char *local = g_filename_from_uri (song->uri, NULL, NULL);

      report->failed++;
      if (local != NULL && !g_file_test (local, G_FILE_TEST_EXISTS))
        {
          /* Gone since the import (an unplugged drive, a share not
           * mounted): not the file's fault.  Remembered as a failure, it
           * would never be tried again when it comes back unchanged. */
          g_ptr_array_add (report->failures,
                           mt_import_skip_new (path, "the file is not there any more: it is analysed when it is back"));
          return TRUE;
        }
      g_ptr_array_add (report->failures, mt_import_skip_new (path, result->error->message));
      ok = mt_library_set_audio_failed (library, song->id, song->size, song->mtime, MT_AUDIO_FEATURES_VERSION,
                                        result->error->message, &local_error);
    }
  else
    {
      const MtAudioAnalysis *a = result->analysis;

      ok = mt_library_begin (library, &local_error) &&
           mt_library_set_audio_features (library, song->id, song->size, song->mtime, a->features_version,
                                          a->features_json, a->tempo, a->loudness, a->analysed_ms,
                                          &local_error);
      if (ok && !store_mood (self, library, song->id, model_version, a->features_json, &local_error) &&
          !g_error_matches (local_error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_DATABASE))
        {
          /* The model cannot read these descriptors: they are kept, and a
           * fixed model scores them without decoding. */
          g_warning ("%s: %s", song->uri, local_error->message);
          g_clear_error (&local_error);
        }
      ok = local_error == NULL && mt_library_commit (library, &local_error);
      if (!ok)
        mt_library_rollback (library);
      else
        report->analysed++;
    }
  /* Removed while it was being decoded: nothing to keep. */
  if (!ok && g_error_matches (local_error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND))
    return TRUE;
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return ok;
}

static MtAnalysisReport *
analyse_run (MtLibraryAnalyzer  *self,
             GMainContext       *context,
             GCancellable       *cancellable,
             GError            **error)
{
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(MtAnalysisReport) report = analysis_report_new ();
  g_autofree char *model_version = NULL;
  g_autoptr(GPtrArray) threads = NULL;
  g_autoptr(GError) store_error = NULL;
  g_autoptr(GHashTable) pending = NULL;
  Work work = { 0 };
  guint n_done = 0;

  if (!ensure_model (self, error) || !(library = mt_library_open (self->db_path, error)))
    return NULL;
  model_version = mt_library_analyzer_dup_model_version (self->model, self->moods);
  if (!(work.songs = mt_library_list_audio_pending (library, MT_AUDIO_FEATURES_VERSION, 0, error)))
    return NULL;
  pending = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < work.songs->len; i++)
    g_hash_table_add (pending, &((MtSong *) g_ptr_array_index (work.songs, i))->id);
  if (!rescore_stale (self, library, model_version, pending, report, error))
    {
      g_ptr_array_unref (work.songs);
      return NULL;
    }
  report->total = work.songs->len;
  emit_progress (self, context, report);

  g_mutex_init (&work.lock);
  work.results = g_async_queue_new ();
  work.cancellable = cancellable;
  work.timeout_s = self->timeout_s;
  threads = g_ptr_array_new ();
  for (guint i = 0; i < MIN (self->n_jobs, work.songs->len); i++)
    g_ptr_array_add (threads, g_thread_new ("mt-analyze", decode_thread, &work));

  /* Every result that comes is stored, also after a cancel: those songs
   * are done, and the threads stop taking new ones. */
  while (n_done < threads->len)
    {
      Result *result = g_async_queue_pop (work.results);

      if (result->song == NULL)
        {
          n_done++;
          report->helper_restarts += result->restarts;
        }
      else
        {
          if (g_error_matches (result->error, MT_HELPER_PROCESS_ERROR, MT_HELPER_PROCESS_ERROR_HELPER))
            {
              if (store_error == NULL)
                store_error = g_error_copy (result->error);
            }
          else if (store_error == NULL &&
                   !store_result (self, library, model_version, result, report, &store_error))
            g_atomic_int_set (&work.stop, TRUE);
          emit_progress (self, context, report);
        }
      g_clear_error (&result->error);
      mt_audio_analysis_free (result->analysis);
      g_free (result);
    }
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));
  report->cancelled = work.next < work.songs->len || g_cancellable_is_cancelled (cancellable);
  g_async_queue_unref (work.results);
  g_mutex_clear (&work.lock);
  g_ptr_array_unref (work.songs);

  if (store_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&store_error));
      return NULL;
    }
  emit_progress (self, context, report);
  return g_steal_pointer (&report);
}

MtAnalysisReport *
mt_library_analyzer_run (MtLibraryAnalyzer  *self,
                         GCancellable       *cancellable,
                         GError            **error)
{
  g_return_val_if_fail (MT_IS_LIBRARY_ANALYZER (self), NULL);
  return analyse_run (self, NULL, cancellable, error);
}

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  GError *error = NULL;
  MtAnalysisReport *report = analyse_run (source_object, task_data, cancellable, &error);

  if (report == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, report, (GDestroyNotify) mt_analysis_report_free);
}

void
mt_library_analyzer_run_async (MtLibraryAnalyzer  *self,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (MT_IS_LIBRARY_ANALYZER (self));

  /* Loaded here so the worker thread never races on them. */
  if (!ensure_model (self, &error))
    {
      g_task_report_error (self, callback, user_data, mt_library_analyzer_run_async, g_steal_pointer (&error));
      return;
    }
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mt_library_analyzer_run_async);
  /* A cancelled run still returns its report (cancelled set, the songs
   * done counted), as mt_library_analyzer_run() does: GTask would turn it
   * into G_IO_ERROR_CANCELLED and drop it. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, g_main_context_ref_thread_default (), (GDestroyNotify) g_main_context_unref);
  g_task_run_in_thread (task, run_thread);
}

MtAnalysisReport *
mt_library_analyzer_run_finish (MtLibraryAnalyzer  *self,
                                GAsyncResult       *result,
                                GError            **error)
{
  MtAnalysisReport *report;

  g_return_val_if_fail (MT_IS_LIBRARY_ANALYZER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  report = g_task_propagate_pointer (G_TASK (result), error);
  /* Written on the thread's own connection: see the importer's finish. */
  if (report == NULL || report->analysed + report->rescored > 0)
    mt_library_notify_changed (self->library, MT_LIBRARY_CHANGE_MOODS);
  return report;
}
