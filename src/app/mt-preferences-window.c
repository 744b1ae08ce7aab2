/* mt-preferences-window.c: every row is bound to its GSettings key. */
#define G_LOG_DOMAIN "mt-preferences-window"

#include "config.h"

#include <glib/gi18n.h>

#include "mt-library-importer.h"
#include "mt-model-manifest.h"
#include "mt-mood-history-store.h"
#include "mt-preferences-window.h"

struct _MtPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  MtApplication        *app;
  GSettings            *settings;
  GtkStringList        *cameras;
  GtkStringList        *expression_models;
  GPtrArray            *folder_rows;

  AdwComboRow          *camera_row;
  AdwComboRow          *strategy_row;
  AdwComboRow          *expression_model_row;
  GtkSpinButton        *detector_size_spin;
  GtkSpinButton        *threshold_spin;
  AdwPreferencesGroup  *folders_group;
  GtkWidget            *import_button;
  GtkSwitch            *sound_switch;
  AdwExpanderRow       *sound_state_row;
  GtkSwitch            *history_switch;
  AdwActionRow         *history_row;
  GtkWidget            *delete_history_button;
  GPtrArray            *failure_rows;
  GtkWidget            *server_group;
  GtkSwitch            *server_switch;
  GtkSwitch            *server_token_switch;
  GtkSpinButton        *port_spin;
  AdwActionRow         *server_status_row;
};

G_DEFINE_FINAL_TYPE (MtPreferencesWindow, mt_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static gboolean
strategy_get_mapping (GValue   *value,
                      GVariant *variant,
                      gpointer  data)
{
  g_value_set_uint (value, g_str_equal (g_variant_get_string (variant, NULL), "lift") ? 1 : 0);
  return TRUE;
}

static GVariant *
strategy_set_mapping (const GValue       *value,
                      const GVariantType *type,
                      gpointer            data)
{
  return g_variant_new_string (g_value_get_uint (value) == 1 ? "lift" : "match");
}

static void
remove_folder_cb (GtkButton *button,
                  gpointer   data)
{
  MtPreferencesWindow *self = data;
  const char *folder = g_object_get_data (G_OBJECT (button), "folder");
  g_auto(GStrv) folders = g_settings_get_strv (self->settings, "music-folders");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) updated = NULL;

  for (guint i = 0; folders[i] != NULL; i++)
    if (g_strcmp0 (folders[i], folder) != 0)
      g_strv_builder_add (builder, folders[i]);
  updated = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "music-folders", (const char * const *) updated);
}

static void
update_folders (MtPreferencesWindow *self)
{
  g_auto(GStrv) folders = g_settings_get_strv (self->settings, "music-folders");

  for (guint i = 0; i < self->folder_rows->len; i++)
    adw_preferences_group_remove (self->folders_group, g_ptr_array_index (self->folder_rows, i));
  g_ptr_array_set_size (self->folder_rows, 0);

  for (guint i = 0; folders[i] != NULL; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
      g_autofree char *escaped = g_markup_escape_text (folders[i], -1);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), escaped);
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, _("Remove This Folder"));
      g_object_set_data_full (G_OBJECT (remove), "folder", g_strdup (folders[i]), g_free);
      g_signal_connect (remove, "clicked", G_CALLBACK (remove_folder_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      adw_preferences_group_add (self->folders_group, row);
      g_ptr_array_add (self->folder_rows, row);
    }
}

static void
folder_chosen_cb (GtkNativeDialog *dialog,
                  int              response,
                  gpointer         data)
{
  MtPreferencesWindow *self = data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_auto(GStrv) folders = g_settings_get_strv (self->settings, "music-folders");

      if (path != NULL && !g_strv_contains ((const char * const *) folders, path))
        {
          g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
          g_auto(GStrv) updated = NULL;

          g_strv_builder_addv (builder, (const char **) folders);
          g_strv_builder_add (builder, path);
          updated = g_strv_builder_end (builder);
          g_settings_set_strv (self->settings, "music-folders", (const char * const *) updated);
        }
    }
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
add_folder_clicked_cb (MtPreferencesWindow *self)
{
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Add a Music Folder"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Add"), _("_Cancel"));
  g_signal_connect (chooser, "response", G_CALLBACK (folder_chosen_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
import_clicked_cb (MtPreferencesWindow *self)
{
  GtkWindow *window = gtk_window_get_transient_for (GTK_WINDOW (self));

  if (window != NULL)
    gtk_widget_activate_action (GTK_WIDGET (window), "win.import-music", NULL);
  gtk_window_close (GTK_WINDOW (self));
}

/* The camera row lists "Automatic" and the cameras found; the key holds a
 * camera name or "" for automatic. */
static void
camera_selected_cb (MtPreferencesWindow *self)
{
  guint selected = adw_combo_row_get_selected (self->camera_row);
  const char *name = selected == 0 || selected == GTK_INVALID_LIST_POSITION
                     ? "" : gtk_string_list_get_string (self->cameras, selected);

  if (name != NULL)
    g_settings_set_string (self->settings, "camera", name);
}

static void
fill_cameras (MtPreferencesWindow *self)
{
  g_autofree char *current = g_settings_get_string (self->settings, "camera");
  GtkWindow *window = gtk_window_get_transient_for (GTK_WINDOW (self));
  GListModel *devices = NULL;
  guint selected = 0;

  gtk_string_list_append (self->cameras, _("Automatic"));
  if (window != NULL)
    g_object_get (window, "camera-devices", &devices, NULL);
  for (guint i = 0; devices != NULL && i < g_list_model_get_n_items (devices); i++)
    {
      const char *name = gtk_string_list_get_string (GTK_STRING_LIST (devices), i);

      gtk_string_list_append (self->cameras, name);
      if (g_strcmp0 (name, current) == 0)
        selected = i + 1;
    }
  /* A camera chosen earlier but not plugged in now stays listed. */
  if (current[0] != '\0' && selected == 0)
    {
      gtk_string_list_append (self->cameras, current);
      selected = g_list_model_get_n_items (G_LIST_MODEL (self->cameras)) - 1;
    }
  g_clear_object (&devices);
  adw_combo_row_set_model (self->camera_row, G_LIST_MODEL (self->cameras));
  adw_combo_row_set_selected (self->camera_row, selected);
  g_signal_connect_object (self->camera_row, "notify::selected", G_CALLBACK (camera_selected_cb), self,
                           G_CONNECT_SWAPPED);
}

/* The expression model row lists "Automatic" (the key's "": the manifest's
 * default) and every model of the installed and the user's manifests. */
static void
expression_model_selected_cb (MtPreferencesWindow *self)
{
  guint selected = adw_combo_row_get_selected (self->expression_model_row);
  const char *name = selected == 0 || selected == GTK_INVALID_LIST_POSITION
                     ? "" : gtk_string_list_get_string (self->expression_models, selected);

  if (name != NULL)
    g_settings_set_string (self->settings, "expression-model", name);
}

static void
fill_expression_models (MtPreferencesWindow *self)
{
  g_autofree char *current = g_settings_get_string (self->settings, "expression-model");
  g_autoptr(GError) error = NULL;
  g_autoptr(MtModelManifest) manifest = mt_model_manifest_open (NULL, &error);
  const char * const *models = manifest != NULL ? mt_model_manifest_list_models (manifest) : NULL;
  guint selected = 0;

  gtk_string_list_append (self->expression_models, _("Automatic"));
  for (guint i = 0; models != NULL && models[i] != NULL; i++)
    {
      gtk_string_list_append (self->expression_models, models[i]);
      if (g_strcmp0 (models[i], current) == 0)
        selected = i + 1;
    }
  /* What cannot be read is said where the models are picked. */
  if (manifest == NULL)
    {
      g_autofree char *escaped = g_markup_escape_text (error->message, -1);

      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->expression_model_row), escaped);
    }
  else if (mt_model_manifest_get_user_error (manifest) != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Your own models are left out: %s"),
                                               mt_model_manifest_get_user_error (manifest)->message);
      g_autofree char *escaped = g_markup_escape_text (text, -1);

      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->expression_model_row), escaped);
    }
  adw_combo_row_set_model (self->expression_model_row, G_LIST_MODEL (self->expression_models));
  adw_combo_row_set_selected (self->expression_model_row, selected);
  g_signal_connect_object (self->expression_model_row, "notify::selected",
                           G_CALLBACK (expression_model_selected_cb), self, G_CONNECT_SWAPPED);
}

#define MAX_FAILURE_ROWS 200

static void
clear_failure_rows (MtPreferencesWindow *self)
{
  for (guint i = 0; i < self->failure_rows->len; i++)
    adw_expander_row_remove (self->sound_state_row, g_ptr_array_index (self->failure_rows, i));
  g_ptr_array_set_size (self->failure_rows, 0);
}

static void
add_failure_row (MtPreferencesWindow *self,
                 const char          *title,
                 const char          *subtitle,
                 const char          *tooltip)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *escaped_title = g_markup_escape_text (title, -1);
  g_autofree char *escaped_subtitle = subtitle ? g_markup_escape_text (subtitle, -1) : NULL;

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), escaped_title);
  if (escaped_subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), escaped_subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
  gtk_widget_set_tooltip_text (row, tooltip);
  adw_expander_row_add_row (self->sound_state_row, row);
  g_ptr_array_add (self->failure_rows, row);
}

/* The files that could not be read, listed when the row is opened (it
 * reads every song's state). */
static void
fill_failures (MtPreferencesWindow *self)
{
  MtSoundAnalysis *analysis = mt_application_get_sound_analysis (self->app);
  g_autoptr(GPtrArray) failures = NULL;
  g_autoptr(GError) error = NULL;

  clear_failure_rows (self);
  if (!adw_expander_row_get_expanded (self->sound_state_row) || analysis == NULL)
    return;
  failures = mt_sound_analysis_list_failures (analysis, &error);
  if (failures == NULL)
    {
      add_failure_row (self, _("The library cannot be read"), error->message, NULL);
      return;
    }
  for (guint i = 0; i < MIN (failures->len, MAX_FAILURE_ROWS); i++)
    {
      const MtImportSkip *skip = g_ptr_array_index (failures, i);
      g_autofree char *name = g_path_get_basename (skip->path);

      add_failure_row (self, name, skip->reason, skip->path);
    }
  if (failures->len > MAX_FAILURE_ROWS)
    {
      g_autofree char *more = g_strdup_printf (ngettext ("And %u more file", "And %u more files",
                                                         failures->len - MAX_FAILURE_ROWS),
                                               failures->len - MAX_FAILURE_ROWS);
      add_failure_row (self, more, NULL, NULL);
    }
}

/* "598 songs analysed, 2 could not be read", with the ones waiting. */
static void
update_sound_state (MtPreferencesWindow *self)
{
  MtSoundAnalysis *analysis = mt_application_get_sound_analysis (self->app);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  gint64 analysed = 0, failed = 0, pending = 0;

  if (analysis == NULL || !mt_sound_analysis_count (analysis, &analysed, &failed, &pending, &error))
    {
      adw_expander_row_set_subtitle (self->sound_state_row,
                                     error != NULL ? error->message : _("No music library"));
      adw_expander_row_set_enable_expansion (self->sound_state_row, FALSE);
      return;
    }
  g_string_append_printf (text, ngettext ("%u song analysed", "%u songs analysed", (gulong) analysed),
                          (guint) analysed);
  if (failed > 0)
    {
      /* Translators: separates the parts of "598 songs analysed, 2 could not be read, 10 waiting" */
      g_string_append (text, C_("list", ", "));
      g_string_append_printf (text, ngettext ("%u could not be read", "%u could not be read", (gulong) failed),
                              (guint) failed);
    }
  if (pending > 0)
    {
      g_string_append (text, C_("list", ", "));
      if (mt_sound_analysis_get_running (analysis))
        g_string_append_printf (text, ngettext ("%u being read now", "%u being read now", (gulong) pending),
                                (guint) pending);
      else
        g_string_append_printf (text, ngettext ("%u waiting for the next import",
                                                "%u waiting for the next import", (gulong) pending),
                                (guint) pending);
    }
  adw_expander_row_set_subtitle (self->sound_state_row, text->str);
  adw_expander_row_set_enable_expansion (self->sound_state_row, failed > 0);
  if (failed == 0)
    adw_expander_row_set_expanded (self->sound_state_row, FALSE);
}

static void
update_server_status (MtPreferencesWindow *self)
{
  g_autofree char *status = mt_application_dup_server_status (self->app);

  adw_action_row_set_subtitle (self->server_status_row, status);
}

static void
settings_changed_cb (MtPreferencesWindow *self,
                     const char          *key)
{
  if (g_str_equal (key, "music-folders"))
    update_folders (self);
  else if (g_str_has_prefix (key, "server-"))
    update_server_status (self);
}

static void
mt_preferences_window_dispose (GObject *object)
{
  MtPreferencesWindow *self = MT_PREFERENCES_WINDOW (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->cameras);
  g_clear_object (&self->expression_models);
  g_clear_pointer (&self->folder_rows, g_ptr_array_unref);
  g_clear_pointer (&self->failure_rows, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), MT_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (mt_preferences_window_parent_class)->dispose (object);
}

/* 0 is the detector's own size or threshold, from the models manifest. */
static gboolean
spin_output_cb (GtkSpinButton *spin)
{
  if (gtk_adjustment_get_value (gtk_spin_button_get_adjustment (spin)) > 0)
    return FALSE;   /* the number, as usual */
  gtk_editable_set_text (GTK_EDITABLE (spin), _("Automatic"));
  return TRUE;
}

/* How much is stored: what the Delete button would delete. */
static void
update_history_row (MtPreferencesWindow *self)
{
  MtLibrary *library = mt_application_get_library (self->app);
  g_autoptr(GArray) minutes = library != NULL ? mt_library_list_mood_minutes (library, 0, NULL) : NULL;
  g_autofree char *text = NULL;

  if (minutes == NULL || minutes->len == 0)
    text = g_strdup (_("Nothing stored"));
  else
    {
      g_autoptr(GDateTime) first = g_date_time_new_from_unix_local (g_array_index (minutes, MtMoodMinute, 0).minute * 60);
      g_autofree char *day = g_date_time_format (first, "%x");

      /* Translators: e.g. "42 minutes since 12/01/2026" */
      text = g_strdup_printf (ngettext ("%u minute since %s", "%u minutes since %s", minutes->len), minutes->len, day);
    }
  adw_action_row_set_subtitle (self->history_row, text);
  gtk_widget_set_sensitive (self->delete_history_button, minutes != NULL && minutes->len > 0);
}

static void
delete_history_response_cb (MtPreferencesWindow *self,
                            const char          *response)
{
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "delete") != 0)
    return;
  if (!mt_session_delete_history (mt_application_get_session (self->app), &error))
    {
      g_autofree char *text = g_strdup_printf (_("The mood history could not be deleted: %s"), error->message);
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (text));
      return;
    }
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (_("Mood history deleted")));
  update_history_row (self);
}

static void
delete_history_clicked_cb (MtPreferencesWindow *self)
{
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("Delete the Mood History?"),
                                                       _("Every stored minute of your mood is removed from the "
                                                         "music library for good. The songs and their ratings "
                                                         "stay.")));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "delete", _("_Delete"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "delete", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (delete_history_response_cb), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
mt_preferences_window_class_init (MtPreferencesWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = mt_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               MT_APP_RESOURCE_PATH "/mt-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, camera_row);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, strategy_row);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, expression_model_row);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, detector_size_spin);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, threshold_spin);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, folders_group);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, import_button);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, sound_switch);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, sound_state_row);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, history_switch);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, history_row);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, delete_history_button);
  gtk_widget_class_bind_template_callback (widget_class, delete_history_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, spin_output_cb);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, server_group);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, server_switch);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, server_token_switch);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, port_spin);
  gtk_widget_class_bind_template_child (widget_class, MtPreferencesWindow, server_status_row);
  gtk_widget_class_bind_template_callback (widget_class, add_folder_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, import_clicked_cb);
}

static void
mt_preferences_window_init (MtPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cameras = gtk_string_list_new (NULL);
  self->expression_models = gtk_string_list_new (NULL);
  self->folder_rows = g_ptr_array_new ();
  self->failure_rows = g_ptr_array_new ();
}

GtkWidget *
mt_preferences_window_new (MtApplication *application,
                           GtkWindow     *parent)
{
  MtPreferencesWindow *self = g_object_new (MT_TYPE_PREFERENCES_WINDOW,
                                            "transient-for", parent,
                                            "application", application,
                                            NULL);

  self->app = application;
  self->settings = g_object_ref (mt_application_get_settings (application));
  g_settings_bind_with_mapping (self->settings, "strategy", self->strategy_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, strategy_get_mapping, strategy_set_mapping, NULL, NULL);
  g_settings_bind (self->settings, "detector-size", gtk_spin_button_get_adjustment (self->detector_size_spin),
                   "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "detector-threshold", gtk_spin_button_get_adjustment (self->threshold_spin),
                   "value", G_SETTINGS_BIND_DEFAULT);
  fill_cameras (self);
  fill_expression_models (self);
  update_folders (self);

  g_settings_bind (self->settings, "audio-analysis", self->sound_switch, "active", G_SETTINGS_BIND_DEFAULT);
  update_sound_state (self);
  g_signal_connect_object (self->sound_state_row, "notify::expanded", G_CALLBACK (fill_failures), self,
                           G_CONNECT_SWAPPED);
  fill_failures (self);
  if (mt_application_get_sound_analysis (application) != NULL)
    {
      GObject *analysis = G_OBJECT (mt_application_get_sound_analysis (application));

      g_signal_connect_object (analysis, "notify::done", G_CALLBACK (update_sound_state), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (analysis, "notify::running", G_CALLBACK (update_sound_state), self,
                               G_CONNECT_SWAPPED);
    }

  g_settings_bind (self->settings, "keep-mood-history", self->history_switch, "active", G_SETTINGS_BIND_DEFAULT);
  update_history_row (self);

  if (mt_application_has_server (application))
    {
      g_settings_bind (self->settings, "server-enabled", self->server_switch, "active", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->settings, "server-require-token", self->server_token_switch, "active",
                       G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->settings, "server-port", gtk_spin_button_get_adjustment (self->port_spin),
                       "value", G_SETTINGS_BIND_DEFAULT);
      update_server_status (self);
    }
  else
    /* Built without the server: no switch that would do nothing. */
    gtk_widget_set_visible (self->server_group, FALSE);
  g_signal_connect_object (self->settings, "changed", G_CALLBACK (settings_changed_cb), self, G_CONNECT_SWAPPED);
  return GTK_WIDGET (self);
}
