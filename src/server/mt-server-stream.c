#define G_LOG_DOMAIN "mt-server"

#include "config.h"

#include <string.h>

#include "mt-server-private.h"
#include "mt-server-frame.h"
#include "mt-server-input.h"
#include "mt-analysis-pump.h"
#include "mt-analysis-stream.h"
#include "mt-ws-guard-stream.h"

struct _MtServerStreams {
  MtServer       *server;    /* unowned: it frees us */
  /* The analysis threads, shared by every stream; each stream's face
   * followed, mood and hint are its own (MtAnalysisStream), so any thread
   * serves any stream's newest frame with region passes, as the app's
   * camera is served. */
  MtAnalysisPump *pump;
  GHashTable     *clients;   /* Client* set, main thread only */
};

/* One WebSocket stream.  Reference counted: a frame of it waiting in the
 * pump holds the MtAnalysisStream, not the client. */
typedef struct {
  MtServerStreams         *streams;   /* NULL once the server has let go */
  SoupWebsocketConnection *conn;
  MtAnalysisStream        *analysis;
  gulong                   result_id;
  gulong                   error_id;
  MtMood                   mood;      /* the last steady mood sent */
  MtStrategy               strategy;
  guint                    limit;
  double                   tokens;    /* flood control: a token bucket */
  gint64                   tokens_time;
  gulong                   message_id;
  gulong                   closed_id;
  MtWsGuardInput          *guard;     /* owned by conn's stream */
  gulong                   limit_id;
} Client;

/* A received JPEG while it waits for and goes through the analysis. */
typedef struct {
  GBytes        *jpeg;
  MtServerFrame *frame;
} Jpeg;

static void
client_clear (Client *client)
{
  g_clear_object (&client->analysis);
  g_clear_object (&client->conn);
}

static Client *
client_ref (Client *client)
{
  return g_atomic_rc_box_acquire (client);
}

static void
client_unref (Client *client)
{
  g_atomic_rc_box_release_full (client, (GDestroyNotify) client_clear);
}

static void
jpeg_free (gpointer data)
{
  Jpeg *jpeg = data;

  /* Frames are never kept beyond their analysis. */
  g_clear_pointer (&jpeg->frame, mt_server_frame_free);
  g_bytes_unref (jpeg->jpeg);
  g_free (jpeg);
}

/* In an analysis thread: decoding is part of the frame's work. */
static gboolean
jpeg_get_frame (gpointer   data,
                MtFrame   *frame,
                GError   **error)
{
  Jpeg *jpeg = data;

  jpeg->frame = mt_server_frame_decode (jpeg->jpeg, error);
  if (jpeg->frame == NULL)
    return FALSE;
  *frame = *mt_server_frame_get_frame (jpeg->frame);
  return TRUE;
}

static void
send_json (Client      *client,
           JsonBuilder *builder)
{
  g_autoptr(JsonNode) node = json_builder_get_root (builder);
  g_autofree char *text = _mt_server_node_to_string (node);

  if (client->conn != NULL &&
      soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (client->conn, text);
}

static void
send_error (Client     *client,
            const char *code,
            const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "error");
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  send_json (client, builder);
}

static const char *
frame_error_code (const GError *error)
{
  if (error->domain == MT_SERVER_FRAME_ERROR)
    {
      switch ((MtServerFrameError) error->code)
        {
        case MT_SERVER_FRAME_ERROR_NOT_JPEG:
          return "not-a-jpeg";
        case MT_SERVER_FRAME_ERROR_TOO_LARGE:
        case MT_SERVER_FRAME_ERROR_TOO_COMPLEX:   /* too much to decode */
          return "frame-too-large";
        case MT_SERVER_FRAME_ERROR_DECODE:
        default:
          return "decode-failed";
        }
    }
  if (g_error_matches (error, MT_ANALYSIS_PUMP_ERROR, MT_ANALYSIS_PUMP_ERROR_MODELS))
    return "models-unavailable";
  return "analysis-failed";
}

typedef struct {
  Client     *client;
  MtMood      mood;
  MtStrategy  strategy;
} Ranking;

/* The session ranked the list on its thread: sent unless the stream closed
 * or its mood moved on meanwhile (a newer list is on its way). */
static void
recommendations_ranked_cb (GObject      *source,
                           GAsyncResult *result,
                           gpointer      data)
{
  Ranking *ranking = data;
  Client *client = ranking->client;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(GError) error = NULL;

  songs = mt_session_recommend_finish (MT_SESSION (source), result, &error);
  if (client->streams == NULL || ranking->mood != client->mood || ranking->strategy != client->strategy)
    goto out;
  if (songs == NULL)
    {
      send_error (client, "recommendations-unavailable", error->message);
      goto out;
    }
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "recommendations");
  json_builder_set_member_name (builder, "mood");
  json_builder_add_string_value (builder, mt_mood_to_string (ranking->mood));
  json_builder_set_member_name (builder, "strategy");
  json_builder_add_string_value (builder, mt_strategy_to_string (ranking->strategy));
  json_builder_set_member_name (builder, "songs");
  _mt_server_add_songs (builder, songs);
  json_builder_end_object (builder);
  send_json (client, builder);
out:
  client_unref (client);
  g_free (ranking);
}

/* The list for the stream's steady mood, ranked by the session as the
 * desktop's playlist is (never on this thread). */
static void
send_recommendations (Client *client)
{
  Ranking *ranking;

  if (!mt_mood_is_valid (client->mood))
    return;
  ranking = g_new0 (Ranking, 1);
  ranking->client = client_ref (client);
  ranking->mood = client->mood;
  ranking->strategy = client->strategy;
  mt_session_recommend_async (client->streams->server->session, client->mood, client->strategy, client->limit,
                              NULL, recommendations_ranked_cb, ranking);
}

static void
add_faces (JsonBuilder *builder,
           GArray      *faces)
{
  json_builder_begin_array (builder);
  for (guint i = 0; faces != NULL && i < faces->len; i++)
    {
      const MtFace *face = &g_array_index (faces, MtFace, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "box");
      json_builder_begin_array (builder);
      json_builder_add_double_value (builder, face->x);
      json_builder_add_double_value (builder, face->y);
      json_builder_add_double_value (builder, face->width);
      json_builder_add_double_value (builder, face->height);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "score");
      json_builder_add_double_value (builder, face->score);
      json_builder_set_member_name (builder, "emotion");
      json_builder_add_string_value (builder, mt_mood_to_string (face->emotion));
      json_builder_set_member_name (builder, "emotions");
      _mt_server_add_probabilities (builder, face->emotions);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* Back on the server's thread with a frame's analysis; the stream's mood
 * tracker has just taken its largest face. */
static void
on_result (MtAnalysisStream *analysis,
           MtAnalysisResult *result,
           gpointer          user_data)
{
  Client *client = user_data;
  MtServer *server = client->streams->server;
  MtMoodTracker *tracker = mt_analysis_stream_get_mood_tracker (analysis);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  MtServerMood mood = { 0 };
  gint64 now = g_get_monotonic_time ();
  int steady;

  mood.set = TRUE;
  mood.mood = mt_mood_tracker_get_mood (tracker);
  mood.confidence = mt_mood_tracker_get_confidence (tracker);
  mood.have_probabilities = TRUE;
  mt_mood_tracker_get_smoothed (tracker, mood.probabilities);
  mood.time = g_get_real_time ();
  server->stream_mood = mood;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "analysis");
  json_builder_set_member_name (builder, "frame");
  json_builder_add_int_value (builder, mt_analysis_stream_get_analyzed (analysis));
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, result->frame_width);
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, result->frame_height);
  json_builder_set_member_name (builder, "faces");
  add_faces (builder, result->faces);
  json_builder_set_member_name (builder, "hint");
  json_builder_add_string_value (builder, mt_frame_hint_to_string (result->hint));
  json_builder_set_member_name (builder, "mood");
  _mt_server_add_mood (builder, &mood, "companion");
  json_builder_set_member_name (builder, "ms");
  json_builder_add_double_value (builder, result->analyze_ms);
  json_builder_set_member_name (builder, "latency_ms");
  json_builder_add_double_value (builder, (now - result->arrival_us) / 1000.0);
  json_builder_set_member_name (builder, "dropped");
  json_builder_add_int_value (builder, mt_analysis_stream_get_dropped (analysis));
  json_builder_end_object (builder);
  send_json (client, builder);

  steady = mood.mood;
  if (steady != client->mood)
    {
      client->mood = steady;
      send_recommendations (client);
    }
}

static void
on_error (MtAnalysisStream *analysis,
          const GError     *error,
          gpointer          user_data)
{
  send_error (user_data, frame_error_code (error), error->message);
}

/* A token bucket: bursts up to one second's worth, then the steady rate. */
static gboolean
client_take_token (Client *client,
                   guint   rate)
{
  gint64 now = g_get_monotonic_time ();

  client->tokens = MIN ((double) rate, client->tokens + (now - client->tokens_time) * rate / 1e6);
  client->tokens_time = now;
  if (client->tokens < 1.0)
    return FALSE;
  client->tokens -= 1.0;
  return TRUE;
}

static void
handle_control (Client *client,
                GBytes *message)
{
  g_autoptr(GError) error = NULL;
  MtServerControlInput input;
  gsize length;
  const char *text = g_bytes_get_data (message, &length);

  if (!_mt_server_parse_control (text, length, &input, &error))
    {
      send_error (client, "bad-message", error->message);
      return;
    }
  if (input.has_strategy)
    client->strategy = input.strategy;
  if (input.has_limit)
    client->limit = input.limit;
  send_recommendations (client);
}

static void
on_message (SoupWebsocketConnection *conn,
            SoupWebsocketDataType    type,
            GBytes                  *message,
            gpointer                 user_data)
{
  Client *client = user_data;
  MtServerOptions *options;
  Jpeg *jpeg;

  /* Messages already read still arrive after we started closing. */
  if (client->streams == NULL || soup_websocket_connection_get_state (conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  options = client->streams->server->options;

  if (!client_take_token (client, options->max_frames_per_second))
    {
      g_autofree char *reason = g_strdup_printf ("Too many messages: at most %u per second",
                                                 options->max_frames_per_second);
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, reason);
      return;
    }

  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    {
      handle_control (client, message);
      return;
    }

  if (g_bytes_get_size (message) > options->max_frame_bytes)
    {
      g_autofree char *text =
        g_strdup_printf ("The frame is too large (%" G_GSIZE_FORMAT " bytes, at most %" G_GSIZE_FORMAT ")",
                         g_bytes_get_size (message), options->max_frame_bytes);
      send_error (client, "frame-too-large", text);
      return;
    }

  /* Latest wins: a frame that comes while one of ours is analyzed replaces
   * the one waiting. */
  jpeg = g_new0 (Jpeg, 1);
  jpeg->jpeg = g_bytes_ref (message);
  mt_analysis_stream_push (client->analysis, jpeg_get_frame, jpeg, jpeg_free, g_get_monotonic_time (), -1);
}

static void
client_detach (Client *client)
{
  MtServerStreams *streams = client->streams;

  g_clear_signal_handler (&client->message_id, client->conn);
  g_clear_signal_handler (&client->closed_id, client->conn);
  g_clear_signal_handler (&client->limit_id, client->guard);
  g_clear_signal_handler (&client->result_id, client->analysis);
  g_clear_signal_handler (&client->error_id, client->analysis);
  /* The frame waiting is dropped; one being analyzed finishes in its thread
   * and is never delivered. */
  mt_analysis_stream_close (client->analysis);
  client->streams = NULL;
  g_hash_table_remove (streams->clients, client);
}

static void
on_closed (SoupWebsocketConnection *conn,
           gpointer                 user_data)
{
  Client *client = user_data;
  MtServer *server = client->streams->server;

  client_detach (client);   /* drops the set's reference */
  _mt_server_notify_n_streams (server);
}

static void
send_hello (Client *client)
{
  MtServerOptions *options = client->streams->server->options;
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "hello");
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, PACKAGE_VERSION);
  json_builder_set_member_name (builder, "max_frame_bytes");
  json_builder_add_int_value (builder, options->max_frame_bytes);
  json_builder_set_member_name (builder, "max_frames_per_second");
  json_builder_add_int_value (builder, options->max_frames_per_second);
  json_builder_set_member_name (builder, "strategy");
  json_builder_add_string_value (builder, mt_strategy_to_string (client->strategy));
  json_builder_end_object (builder);
  send_json (client, builder);
}

static void
on_limit_exceeded (MtWsGuardInput *guard,
                   gpointer        user_data)
{
  Client *client = user_data;
  g_autofree char *reason = NULL;

  if (client->streams == NULL || soup_websocket_connection_get_state (client->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  reason = g_strdup_printf ("Message too large (at most %" G_GUINT64_FORMAT " bytes)",
                            mt_ws_guard_input_get_max_message_bytes (guard));
  /* Nothing more is read from the client, so this closes after libsoup's
   * close timeout at the latest. */
  soup_websocket_connection_close (client->conn, SOUP_WEBSOCKET_CLOSE_TOO_BIG, reason);
}

/* A stream is open: @stream is the connection taken over from the HTTP server. */
static void
stream_accept (MtServerStreams   *streams,
               SoupServerMessage *msg,
               GIOStream         *stream)
{
  MtServerOptions *options = streams->server->options;
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  /* libsoup 3.2 limits each frame, not a fragmented message's sum: the guard
   * limits whole messages.  Twice our frame limit, so a frame over it gets
   * an error message, not a closed stream. */
  g_autoptr(GIOStream) guarded = mt_ws_guard_stream_new (stream, 2 * options->max_frame_bytes);
  MtWsGuardInput *guard = mt_ws_guard_stream_get_guard (MT_WS_GUARD_STREAM (guarded));
  Client *client = g_atomic_rc_box_new0 (Client);

  client->streams = streams;
  client->conn = soup_websocket_connection_new (guarded, soup_server_message_get_uri (msg),
                                                SOUP_WEBSOCKET_CONNECTION_SERVER,
                                                soup_message_headers_get_one (request, "Origin"),
                                                NULL, NULL);
  /* Results come back where REST runs (this callback runs there). */
  g_main_context_push_thread_default (streams->server->context);
  client->analysis = mt_analysis_stream_new (streams->pump);
  g_main_context_pop_thread_default (streams->server->context);
  client->result_id = g_signal_connect (client->analysis, "result", G_CALLBACK (on_result), client);
  client->error_id = g_signal_connect (client->analysis, "error", G_CALLBACK (on_error), client);
  client->mood = MT_MOOD_NONE;
  client->strategy = mt_session_get_strategy (streams->server->session);
  client->limit = options->recommendations_limit;
  client->tokens = options->max_frames_per_second;
  client->tokens_time = g_get_monotonic_time ();

  /* libsoup's default (128 KiB) is below a camera JPEG. */
  soup_websocket_connection_set_max_incoming_payload_size (client->conn, 2 * options->max_frame_bytes);
  soup_websocket_connection_set_keepalive_interval (client->conn, 30);
  client->message_id = g_signal_connect (client->conn, "message", G_CALLBACK (on_message), client);
  client->closed_id = g_signal_connect (client->conn, "closed", G_CALLBACK (on_closed), client);
  client->guard = guard;
  client->limit_id = g_signal_connect (guard, "limit-exceeded", G_CALLBACK (on_limit_exceeded), client);
  g_hash_table_add (streams->clients, client);

  send_hello (client);
  _mt_server_notify_n_streams (streams->server);
}

typedef struct {
  MtServerStreams *streams;
  gulong           handler_id;
} Upgrade;

/* The 101 response is out: the connection is ours from here. */
static void
on_upgrade_written (SoupServerMessage *msg,
                    gpointer           user_data)
{
  Upgrade *upgrade = user_data;
  MtServerStreams *streams = upgrade->streams;
  g_autoptr(GIOStream) stream = NULL;

  g_object_ref (msg);   /* stealing may free it */
  g_signal_handler_disconnect (msg, upgrade->handler_id);
  stream = soup_server_message_steal_connection (msg);
  if (stream != NULL)
    {
      _mt_server_listener_upgraded (streams->server->listener, msg);
      stream_accept (streams, msg, stream);
    }
  g_object_unref (msg);
}

/* Runs before the handshake: a status set here refuses the upgrade. */
static void
on_stream_request (SoupServer        *soup,
                   SoupServerMessage *msg,
                   const char        *path,
                   GHashTable        *query,
                   gpointer           user_data)
{
  MtServerStreams *streams = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr(GError) error = NULL;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET)
    {
      _mt_server_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
                              "The stream is a WebSocket: open it with GET and Upgrade: websocket");
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET");
      return;
    }
  if (!soup_message_headers_header_contains (headers, "Upgrade", "websocket"))
    {
      _mt_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                              "The stream is a WebSocket: send Upgrade: websocket");
      return;
    }
  if (g_hash_table_size (streams->clients) >= streams->server->options->max_streams)
    {
      _mt_server_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                              "Too many streams (at most %u)", streams->server->options->max_streams);
      return;
    }

  /* The handshake is ours rather than soup_server_add_websocket_handler()'s,
   * so the connection can be wrapped in the message-size guard.  No
   * extensions are offered: JPEGs do not deflate, and inflating is a
   * memory risk.  The Origin was checked with every request. */
  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &error))
    {
      _mt_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "Not a valid WebSocket handshake: %s",
                              error->message);
      return;
    }
  if (soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    {
      Upgrade *upgrade = g_new0 (Upgrade, 1);

      upgrade->streams = streams;
      upgrade->handler_id = g_signal_connect_data (msg, "wrote-informational", G_CALLBACK (on_upgrade_written),
                                                   upgrade, (GClosureNotify) G_CALLBACK (g_free), 0);
    }
}

MtServerStreams *
_mt_server_streams_new (MtServer *server)
{
  MtServerStreams *self = g_new0 (MtServerStreams, 1);
  MtServerOptions *options = server->options;

  self->server = server;
  self->clients = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) client_unref, NULL);
  /* Each thread loads its networks at its first frame: a server nobody
   * streams to costs no model memory.  Only each stream's own signals are
   * listened to, not the pump's. */
  self->pump = mt_analysis_pump_new (options->models_dir, options->model, options->n_workers);
  return self;
}

void
_mt_server_streams_register (MtServerStreams *self,
                             SoupServer      *soup)
{
  soup_server_add_handler (soup, MT_SERVER_STREAM_PATH, on_stream_request, self, NULL);
}

void
_mt_server_streams_free (MtServerStreams *self)
{
  GHashTableIter iter;
  Client *client;
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_unref);

  if (self == NULL)
    return;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, (gpointer *) &client, NULL))
    g_ptr_array_add (clients, client_ref (client));
  for (guint i = 0; i < clients->len; i++)
    {
      client = g_ptr_array_index (clients, i);
      client_detach (client);
      if (soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (client->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "Server stopping");
    }

  /* Returns at once: every stream is closed, so a frame being decoded or
   * analyzed finishes in its thread (bounded by the frame limits) and is
   * dropped, and the threads quit when the last stream is gone.  Waiting
   * here would block the app's main loop for as long as a decode takes. */
  g_hash_table_unref (self->clients);
  g_clear_object (&self->pump);
  g_free (self);
}

guint
_mt_server_streams_get_n (MtServerStreams *self)
{
  return self != NULL ? g_hash_table_size (self->clients) : 0;
}

guint
_mt_server_streams_get_n_workers (MtServerStreams *self)
{
  return self != NULL ? mt_analysis_pump_get_n_threads (self->pump) : 0;
}
