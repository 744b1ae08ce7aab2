/* mt-window-private.h: the window's state, shared by mt-window.c (camera,
 * mood, playlist, player), mt-window-library.c (the library page) and
 * mt-window-actions.c (what the user can do). */
#pragma once

#include "mt-analysis-worker.h"
#include "mt-camera.h"
#include "mt-camera-view.h"
#include "mt-emotion-bars.h"
#include "mt-mood-timeline.h"
#include "mt-library-importer.h"
#include "mt-mood-strategies.h"
#include "mt-session.h"
#include "mt-song-item.h"
#include "mt-window.h"

G_BEGIN_DECLS

struct _MtWindow
{
  AdwApplicationWindow  parent_instance;

  MtApplication        *app;
  GSettings            *settings;
  MtCamera             *camera;
  MtAnalysisWorker     *worker;
  MtSession            *session;      /* the application's */
  MtLibraryImporter    *importer;
  GCancellable         *import_cancellable;
  char                 *demo_clip;

  gboolean              camera_enabled;
  MtAnalysisResult     *last_result;
  guint                 stats_timeout;

  /* Template children. */
  AdwWindowTitle       *window_title;
  AdwToastOverlay      *toast_overlay;
  GtkStack             *main_stack;
  AdwStatusPage        *library_page;
  GtkWidget            *import_music_button;
  GtkWidget            *import_demo_button;
  GtkWidget            *import_box;
  GtkProgressBar       *import_progress;
  GtkLabel             *import_label;
  GtkStack             *camera_stack;
  MtCameraView         *camera_view;
  AdwStatusPage        *camera_problem_page;
  GtkWidget            *demo_clip_button;
  GtkLabel             *hint_label;
  MtEmotionBars        *emotion_bars;
  MtMoodTimeline       *mood_timeline;
  GtkLabel             *timeline_summary;
  GtkImage             *mood_icon;
  GtkLabel             *mood_label;
  GtkLabel             *mood_detail;
  GtkWidget            *sound_box;
  GtkProgressBar       *sound_progress;
  GtkLabel             *sound_label;
  GtkLabel             *playlist_title;
  GtkListBox           *playlist;
  GtkLabel             *song_title;
  GtkLabel             *song_artist;
  GtkButton            *play_button;
  GtkMenuButton        *info_button;
  GtkLabel             *info_camera;
  GtkLabel             *info_preview_fps;
  GtkLabel             *info_analysis_rate;
  GtkLabel             *info_analysis_ms;
  GtkLabel             *info_dropped;
  GtkLabel             *info_brightness;
};

/* mt-window.c */
void     _mt_window_set_camera_enabled (MtWindow   *self,
                                        gboolean    enabled);
void     _mt_window_use_camera_source  (MtWindow   *self,
                                        const char *source);
void     _mt_window_update_library     (MtWindow   *self);
void     _mt_window_toast              (MtWindow   *self,
                                        const char *text);
void     _mt_window_import             (MtWindow   *self,
                                        const char * const *folders);

/* mt-window-library.c */
void     _mt_window_library_init       (MtWindow   *self);

/* mt-window-actions.c */
void     _mt_window_class_actions_init (GtkWidgetClass *widget_class);
void     _mt_window_actions_init       (MtWindow   *self);
void     _mt_window_actions_update     (MtWindow   *self);

G_END_DECLS
