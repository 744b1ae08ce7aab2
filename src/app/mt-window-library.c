/* mt-window-library.c: the window's library page: no music yet, importing
 * (with its progress and cancel) and reading the songs' sound. */
#define G_LOG_DOMAIN "mt-window-library"

#include "config.h"

#include <glib/gi18n.h>

#include "mt-window-private.h"
#include "mt-test-report.h"

/* ---- library ------------------------------------------------------------- */

void
_mt_window_update_library (MtWindow *self)
{
  MtLibrary *library = mt_application_get_library (self->app);
  gint64 count = 0;
  JsonBuilder *report;

  if (library == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The music library cannot be opened: %s"),
                                               mt_application_get_library_error (self->app));

      adw_status_page_set_title (self->library_page, _("Music Library Unavailable"));
      adw_status_page_set_description (self->library_page, text);
      gtk_widget_set_visible (self->import_music_button, FALSE);
      gtk_widget_set_visible (self->import_demo_button, FALSE);
      gtk_stack_set_visible_child_name (self->main_stack, "library");
      return;
    }

  count = mt_library_count_songs (library, NULL);
  report = mt_test_report_begin ("library");
  if (report != NULL)
    {
      json_builder_set_member_name (report, "songs");
      json_builder_add_int_value (report, count);
      mt_test_report_end (report);
    }
  gtk_widget_set_visible (self->import_demo_button, g_file_test (MT_DEMO_MUSIC_DIR, G_FILE_TEST_IS_DIR));
  if (count > 0)
    {
      gtk_stack_set_visible_child_name (self->main_stack, "main");
      mt_session_refresh_playlist (self->session, FALSE);
    }
  else if (self->importer == NULL)
    gtk_stack_set_visible_child_name (self->main_stack, "library");
}

static void
import_progress_cb (MtWindow             *self,
                    const MtImportReport *progress)
{
  g_autofree char *text = NULL;
  JsonBuilder *report;

  /* The total is not known until the end: count what was read. */
  text = g_strdup_printf (ngettext ("%u song imported", "%u songs imported",
                                    progress->imported + progress->updated),
                          progress->imported + progress->updated);
  gtk_label_set_text (self->import_label, text);
  gtk_progress_bar_set_fraction (self->import_progress,
                                 progress->files_seen > 0
                                 ? (double) (progress->files_read + progress->unchanged + progress->skipped) /
                                   progress->files_seen
                                 : 0);
  report = mt_test_report_begin ("import-progress");
  if (report != NULL)
    {
      json_builder_set_member_name (report, "imported");
      json_builder_add_int_value (report, progress->imported);
      json_builder_set_member_name (report, "seen");
      json_builder_add_int_value (report, progress->files_seen);
      mt_test_report_end (report);
    }
}

static void
import_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      data)
{
  g_autoptr(MtWindow) self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtImportReport) import_report = NULL;
  JsonBuilder *report;

  import_report = mt_library_importer_import_finish (MT_LIBRARY_IMPORTER (object), result, &error);
  g_clear_object (&self->importer);
  g_clear_object (&self->import_cancellable);
  gtk_widget_set_visible (self->import_box, FALSE);
  gtk_widget_set_sensitive (self->import_music_button, TRUE);
  gtk_widget_set_sensitive (self->import_demo_button, TRUE);
  _mt_window_actions_update (self);

  report = mt_test_report_begin ("import-done");
  if (report != NULL)
    {
      json_builder_set_member_name (report, "ok");
      json_builder_add_boolean_value (report, import_report != NULL);
      json_builder_set_member_name (report, "imported");
      json_builder_add_int_value (report, import_report ? import_report->imported : 0);
      mt_test_report_end (report);
    }

  if (import_report == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = g_strdup_printf (_("Import failed: %s"), error->message);
          _mt_window_toast (self, text);
        }
    }
  else
    {
      g_autofree char *text = g_strdup_printf (ngettext ("%u song imported", "%u songs imported",
                                                         import_report->imported),
                                               import_report->imported);
      _mt_window_toast (self, text);
    }
  /* The session ranks the playlist again: the library told it of the songs. */
  _mt_window_update_library (self);
  /* Moods from the sound of the new songs, in the background. */
  if (import_report != NULL)
    mt_sound_analysis_start (mt_application_get_sound_analysis (self->app));
}

void
_mt_window_import (MtWindow           *self,
                   const char * const *folders)
{
  MtLibrary *library = mt_application_get_library (self->app);

  if (library == NULL || self->importer != NULL)
    return;
  /* Its songs are read again after the import, with the new ones. */
  mt_sound_analysis_cancel (mt_application_get_sound_analysis (self->app));
  self->importer = mt_library_importer_new (library);
  self->import_cancellable = g_cancellable_new ();
  g_signal_connect_object (self->importer, "progress", G_CALLBACK (import_progress_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_progress_bar_set_fraction (self->import_progress, 0);
  gtk_label_set_text (self->import_label, _("Looking for music…"));
  gtk_widget_set_visible (self->import_box, TRUE);
  gtk_widget_set_sensitive (self->import_music_button, FALSE);
  gtk_widget_set_sensitive (self->import_demo_button, FALSE);
  gtk_stack_set_visible_child_name (self->main_stack, "library");
  _mt_window_actions_update (self);
  mt_library_importer_import_async (self->importer, folders, self->import_cancellable,
                                    import_done_cb, g_object_ref (self));
}

/* ---- the sound of the songs ------------------------------------------------ */

static void
update_sound_ui (MtWindow *self)
{
  MtSoundAnalysis *analysis = mt_application_get_sound_analysis (self->app);
  guint done, total;
  g_autofree char *text = NULL;

  if (analysis == NULL || !mt_sound_analysis_get_running (analysis))
    {
      gtk_widget_set_visible (self->sound_box, FALSE);
      return;
    }
  done = mt_sound_analysis_get_done (analysis);
  total = mt_sound_analysis_get_total (analysis);
  /* Translators: progress of reading the songs' sound, e.g. "Reading the
   * sound of your songs… 12 of 600" */
  text = g_strdup_printf (ngettext ("Reading the sound of your song… %u of %u",
                                    "Reading the sound of your songs… %u of %u", total),
                          MIN (done, total), total);
  gtk_label_set_text (self->sound_label, text);
  gtk_progress_bar_set_fraction (self->sound_progress, total > 0 ? (double) MIN (done, total) / total : 0);
  gtk_widget_set_visible (self->sound_box, TRUE);
}

void
_mt_window_library_init (MtWindow *self)
{
  MtSoundAnalysis *analysis = mt_application_get_sound_analysis (self->app);

  /* New moods reach the playlist through the session (the library's
   * "changed"): only the progress is shown here. */
  if (analysis != NULL)
    {
      g_signal_connect_object (analysis, "notify::running", G_CALLBACK (update_sound_ui), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (analysis, "notify::done", G_CALLBACK (update_sound_ui), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (analysis, "notify::total", G_CALLBACK (update_sound_ui), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (analysis, "finished", G_CALLBACK (update_sound_ui), self, G_CONNECT_SWAPPED);
    }
  update_sound_ui (self);
}
