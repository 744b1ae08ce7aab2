#define G_LOG_DOMAIN "mt-server"

#include "config.h"

#include <string.h>

#include "mt-analyzer.h"
#include "mt-model-manifest.h"
#include "mt-audio-features.h"
#include "mt-server-private.h"
#include "mt-server-input.h"

#define DEFAULT_LIMIT 20
#define MAX_LIMIT     500

typedef void (*RouteFunc) (MtServer          *self,
                           SoupServerMessage *msg,
                           GHashTable        *query);

typedef struct {
  const char *path;
  const char *method;   /* GET routes also answer HEAD */
  RouteFunc   func;
} Route;

static gboolean
parse_limit (SoupServerMessage *msg,
             GHashTable        *query,
             guint             *limit)
{
  const char *text = query != NULL ? g_hash_table_lookup (query, "limit") : NULL;
  guint64 value;

  *limit = DEFAULT_LIMIT;
  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 1, MAX_LIMIT, &value, NULL))
    {
      _mt_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                              "limit must be a whole number from 1 to %d", MAX_LIMIT);
      return FALSE;
    }
  *limit = (guint) value;
  return TRUE;
}

/* ?mood=: -1 when absent. */
static gboolean
parse_mood (SoupServerMessage *msg,
            GHashTable        *query,
            int               *mood)
{
  const char *text = query != NULL ? g_hash_table_lookup (query, "mood") : NULL;
  MtMood value;

  *mood = -1;
  if (text == NULL)
    return TRUE;
  if (!mt_mood_from_string (text, &value))
    {
      _mt_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                              "Unknown mood “%.40s” (one of: %s)", text, mt_mood_list_names ());
      return FALSE;
    }
  *mood = value;
  return TRUE;
}

static gboolean
require_library (MtServer          *self,
                 SoupServerMessage *msg)
{
  if (self->library != NULL)
    return TRUE;
  _mt_server_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "No music library is open");
  return FALSE;
}

/* The session's mood while a camera feeds it (the app's) or a mood is
 * picked there, else the latest companion stream's. */
static const char *
current_mood (MtServer     *self,
              MtServerMood *mood)
{
  MtSession *session = self->session;

  if (mt_session_has_readings (session) || mt_session_get_locked (session))
    {
      mood->set = TRUE;
      mood->mood = mt_session_get_mood (session);
      mood->confidence = mt_session_get_locked (session) ? 1.0f : mt_session_get_confidence (session);
      mood->have_probabilities = mt_session_get_face_mood (session) != MT_MOOD_NONE;
      mt_session_get_probabilities (session, mood->probabilities);
      mood->time = g_get_real_time ();
      return "desktop";
    }
  *mood = self->stream_mood;
  return mood->set ? "companion" : NULL;
}

/* The library's songs, the missing ones, and where the analysis of their
 * sound stands (the pending ones are read after the next import). */
static gboolean
add_library_counts (MtServer    *self,
                    JsonBuilder *builder,
                    GError     **error)
{
  gint64 songs, missing, analysed, failed, pending;

  if ((songs = mt_library_count_songs (self->library, error)) < 0 ||
      (missing = mt_library_count_missing (self->library, error)) < 0 ||
      !mt_library_count_audio (self->library, MT_AUDIO_FEATURES_VERSION,
                               &analysed, &failed, &pending, error))
    return FALSE;

  json_builder_set_member_name (builder, "songs");
  json_builder_add_int_value (builder, songs);
  json_builder_set_member_name (builder, "missing");
  json_builder_add_int_value (builder, missing);
  json_builder_set_member_name (builder, "audio");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "analysed");
  json_builder_add_int_value (builder, analysed);
  json_builder_set_member_name (builder, "failed");
  json_builder_add_int_value (builder, failed);
  json_builder_set_member_name (builder, "pending");
  json_builder_add_int_value (builder, pending);
  json_builder_end_object (builder);
  return TRUE;
}

static void
get_status (MtServer          *self,
            SoupServerMessage *msg,
            GHashTable        *query)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  const char *models_dir = self->options->models_dir != NULL ? self->options->models_dir
                                                              : mt_analyzer_get_default_models_dir ();
  /* A broken manifest shows as no models here; analysing then says why. */
  g_autoptr(MtModelManifest) manifest = mt_model_manifest_open (self->options->models_dir, NULL);
  const char * const *models = manifest != NULL ? mt_model_manifest_list_models (manifest) : NULL;
  const char *model = self->options->model != NULL ? self->options->model
                      : manifest != NULL ? mt_model_manifest_get_default_model (manifest) : "";

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, "Moodtunes");
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, PACKAGE_VERSION);
  json_builder_set_member_name (builder, "api");
  json_builder_add_string_value (builder, "v1");

  json_builder_set_member_name (builder, "models");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "dir");
  json_builder_add_string_value (builder, models_dir);
  json_builder_set_member_name (builder, "expression");
  json_builder_add_string_value (builder, model);
  json_builder_set_member_name (builder, "available");
  json_builder_begin_array (builder);
  for (guint i = 0; models != NULL && models[i] != NULL; i++)
    json_builder_add_string_value (builder, models[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "library");
  json_builder_begin_object (builder);
  if (self->library != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!add_library_counts (self, builder, &error))
        {
          _mt_server_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                                  "Cannot read the music library: %s", error->message);
          return;
        }
    }
  else
    {
      json_builder_set_member_name (builder, "songs");
      json_builder_add_null_value (builder);
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "streams");
  json_builder_add_int_value (builder, _mt_server_streams_get_n (self->streams));
  json_builder_set_member_name (builder, "workers");
  json_builder_add_int_value (builder, _mt_server_streams_get_n_workers (self->streams));
  json_builder_set_member_name (builder, "tls");
  json_builder_add_boolean_value (builder, self->tls);
  json_builder_set_member_name (builder, "token_required");
  json_builder_add_boolean_value (builder, self->token != NULL);
  json_builder_set_member_name (builder, "uptime_s");
  json_builder_add_double_value (builder, (g_get_monotonic_time () - self->started_at) / 1e6);
  json_builder_end_object (builder);

  node = json_builder_get_root (builder);
  _mt_server_reply_json (msg, SOUP_STATUS_OK, node);
}

static void
get_mood (MtServer          *self,
          SoupServerMessage *msg,
          GHashTable        *query)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  MtServerMood mood = { .mood = MT_MOOD_NONE };
  const char *source = current_mood (self, &mood);

  _mt_server_add_mood (builder, &mood, source);
  node = json_builder_get_root (builder);
  _mt_server_reply_json (msg, SOUP_STATUS_OK, node);
}

static void
reply_songs (SoupServerMessage *msg,
             int                mood,
             const char        *strategy,
             GPtrArray         *songs)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "mood");
  if (mood >= 0)
    json_builder_add_string_value (builder, mt_mood_to_string (mood));
  else
    json_builder_add_null_value (builder);
  if (strategy != NULL)
    {
      json_builder_set_member_name (builder, "strategy");
      json_builder_add_string_value (builder, strategy);
    }
  json_builder_set_member_name (builder, "songs");
  _mt_server_add_songs (builder, songs);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  _mt_server_reply_json (msg, SOUP_STATUS_OK, node);
}

static void
get_songs (MtServer          *self,
           SoupServerMessage *msg,
           GHashTable        *query)
{
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(GError) error = NULL;
  guint limit;
  int mood;

  if (!parse_mood (msg, query, &mood) || !parse_limit (msg, query, &limit) ||
      !require_library (self, msg))
    return;

  if (mood >= 0)
    songs = mt_library_top_for_mood (self->library, mood, limit, &error);
  else
    songs = mt_library_list_songs (self->library, &error);
  if (songs == NULL)
    {
      _mt_server_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                              "Cannot read the music library: %s", error->message);
      return;
    }
  if (songs->len > limit)
    g_ptr_array_set_size (songs, limit);
  reply_songs (msg, mood, NULL, songs);
}

typedef struct {
  SoupServerMessage *msg;
  MtMood             mood;
  MtStrategy         strategy;
} Pending;

/* The session ranked the songs on its thread: the paused reply goes out. */
static void
recommendations_ranked_cb (GObject      *source,
                           GAsyncResult *result,
                           gpointer      data)
{
  Pending *pending = data;
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(GError) error = NULL;

  songs = mt_session_recommend_finish (MT_SESSION (source), result, &error);
  if (songs == NULL)
    _mt_server_reply_error (pending->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                            "Recommendations are unavailable: %s", error->message);
  else
    reply_songs (pending->msg, pending->mood, mt_strategy_to_string (pending->strategy), songs);
  soup_server_message_unpause (pending->msg);
  g_object_unref (pending->msg);
  g_free (pending);
}

static void
get_recommendations (MtServer          *self,
                     SoupServerMessage *msg,
                     GHashTable        *query)
{
  const char *strategy_text = query != NULL ? g_hash_table_lookup (query, "strategy") : NULL;
  MtStrategy strategy = mt_session_get_strategy (self->session);
  Pending *pending;
  guint limit;
  int mood;

  if (!parse_mood (msg, query, &mood) || !parse_limit (msg, query, &limit))
    return;
  if (strategy_text != NULL && !mt_strategy_from_string (strategy_text, &strategy))
    {
      _mt_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                              "Unknown strategy “%.40s” (match or lift)", strategy_text);
      return;
    }
  if (!require_library (self, msg))
    return;
  if (mood < 0)
    {
      MtServerMood current = { .mood = MT_MOOD_NONE };

      current_mood (self, &current);
      mood = current.mood;
      if (mood < 0)
        {
          _mt_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                  "No mood given (?mood=) and none detected yet");
          return;
        }
    }

  /* Ranked off this thread, as the desktop's playlist is (the same list
   * when it is for the same mood and strategy). */
  pending = g_new0 (Pending, 1);
  pending->msg = g_object_ref (msg);
  pending->mood = mood;
  pending->strategy = strategy;
  soup_server_message_pause (msg);
  mt_session_recommend_async (self->session, mood, strategy, limit, NULL, recommendations_ranked_cb, pending);
}

MtSong *
_mt_server_find_song (MtServer          *self,
                      SoupServerMessage *msg,
                      gint64             id)
{
  g_autoptr(GError) error = NULL;
  MtSong *song;

  if (!require_library (self, msg))
    return NULL;
  song = mt_library_get_song (self->library, id, &error);
  if (song == NULL)
    {
      if (g_error_matches (error, MT_LIBRARY_ERROR, MT_LIBRARY_ERROR_NOT_FOUND))
        _mt_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "No song with id %" G_GINT64_FORMAT, id);
      else
        _mt_server_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                                "Cannot read the music library: %s", error->message);
    }
  return song;
}

static gboolean
is_json_content_type (SoupServerMessage *msg)
{
  const char *type = soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL);

  return type != NULL && g_ascii_strcasecmp (type, "application/json") == 0;
}

static void
post_feedback (MtServer          *self,
               SoupServerMessage *msg,
               GHashTable        *query)
{
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MtSong) song = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) reply = NULL;
  MtServerFeedbackInput input;
  MtFeedback feedback;
  MtMood mood;
  gint64 song_id;
  gint64 count;

  if (!is_json_content_type (msg))
    {
      _mt_server_reply_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                              "Send the feedback as application/json");
      return;
    }
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  if (!_mt_server_parse_feedback (g_bytes_get_data (body, NULL), g_bytes_get_size (body), &input, &error))
    {
      _mt_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
      return;
    }
  song_id = input.song_id;
  feedback = input.feedback;
  mood = input.mood;

  song = _mt_server_find_song (self, msg, song_id);
  if (song == NULL)
    return;
  if (!mt_session_record_feedback (self->session, song_id, feedback, mood, MT_FEEDBACK_ORIGIN_COMPANION, &error) ||
      (count = mt_library_count_feedback (self->library, song_id, feedback, &error)) < 0)
    {
      _mt_server_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                              "Cannot record the feedback: %s", error->message);
      return;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "song");
  json_builder_add_int_value (builder, song_id);
  json_builder_set_member_name (builder, "feedback");
  json_builder_add_string_value (builder, mt_feedback_to_string (feedback));
  json_builder_set_member_name (builder, "mood");
  if (mood != MT_MOOD_NONE)
    json_builder_add_string_value (builder, mt_mood_to_string (mood));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "count");
  json_builder_add_int_value (builder, count);
  json_builder_end_object (builder);
  reply = json_builder_get_root (builder);
  _mt_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static const Route routes[] = {
  { MT_SERVER_API_PREFIX "/status",          "GET",  get_status },
  { MT_SERVER_API_PREFIX "/mood",            "GET",  get_mood },
  { MT_SERVER_API_PREFIX "/songs",           "GET",  get_songs },
  { MT_SERVER_API_PREFIX "/recommendations", "GET",  get_recommendations },
  { MT_SERVER_API_PREFIX "/feedback",        "POST", post_feedback },
};

static void
on_api_request (SoupServer        *soup,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  MtServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      gboolean is_get = g_str_equal (routes[i].method, "GET");

      if (!g_str_equal (path, routes[i].path))
        continue;
      if (g_str_equal (method, routes[i].method) || (is_get && method == SOUP_METHOD_HEAD))
        {
          routes[i].func (self, msg, query);
          return;
        }
      _mt_server_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
                              "%s is not allowed here (use %s)", method, routes[i].method);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    is_get ? "GET, HEAD" : routes[i].method);
      return;
    }
  if (_mt_server_audio_route (self, msg, path))
    return;
  _mt_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "No such endpoint");
}

void
_mt_server_rest_register (MtServer   *self,
                          SoupServer *soup)
{
  soup_server_add_handler (soup, "/api", on_api_request, self, NULL);
}
