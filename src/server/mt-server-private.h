/* mt-server-private.h: what the server's parts share; not for the app. */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "mt-json-limits.h"

#include "mt-server.h"
#include "mt-session.h"
#include "mt-song.h"

G_BEGIN_DECLS

#define MT_SERVER_API_PREFIX   "/api/v1"
#define MT_SERVER_STREAM_PATH  "/api/v1/stream"
#define MT_SERVER_TOKEN_COOKIE "moodtunes_token"
/* The longest text (control) message a stream accepts: a config message is
 * a few dozen bytes; frames come as binary messages. */
#define MT_SERVER_MAX_CONTROL_BYTES 4096

typedef struct _MtServerSecurity MtServerSecurity;
typedef struct _MtServerStreams  MtServerStreams;
typedef struct _MtServerListener MtServerListener;

/* A steady mood as GET /api/v1/mood reports it. */
typedef struct {
  gboolean set;                 /* ever published */
  int      mood;                /* MtMood, MT_MOOD_NONE for none */
  float    confidence;
  float    probabilities[MT_N_MOODS];
  gboolean have_probabilities;
  gint64   time;                /* g_get_real_time() */
} MtServerMood;

struct _MtServer {
  GObject           parent_instance;

  MtServerOptions  *options;
  MtSession        *session;      /* mood, recommendations, feedback */
  MtLibrary        *library;      /* the session's; nullable */

  SoupServer       *soup;
  GMainContext     *context;      /* where REST runs and results come back */
  MtServerListener *listener;     /* accepts connections and hands them to soup */
  MtServerSecurity *security;
  MtServerStreams  *streams;

  char             *token;        /* NULL when not needed */
  char             *address;
  guint             port;
  gboolean          tls;
  gint64            started_at;   /* monotonic µs */

  MtServerMood      stream_mood;  /* the latest steady mood of any stream */
};

/* mt-server.c */
void              _mt_server_notify_n_streams     (MtServer          *self);

/* mt-server-json.c: replies and the JSON shapes shared by REST and streams. */
void              _mt_server_reply_json           (SoupServerMessage *msg,
                                                   guint              status,
                                                   JsonNode          *node);
void              _mt_server_reply_error          (SoupServerMessage *msg,
                                                   guint              status,
                                                   const char        *format,
                                                   ...) G_GNUC_PRINTF (3, 4);
char             *_mt_server_error_json           (guint              status,
                                                   const char        *message);
void              _mt_server_add_security_headers (SoupServerMessage *msg);
void              _mt_server_add_song             (JsonBuilder       *builder,
                                                   const MtSong      *song);
void              _mt_server_add_songs            (JsonBuilder       *builder,
                                                   GPtrArray         *songs);
void              _mt_server_add_probabilities    (JsonBuilder       *builder,
                                                   const float       *probabilities);
void              _mt_server_add_mood             (JsonBuilder       *builder,
                                                   const MtServerMood *mood,
                                                   const char        *source);
char             *_mt_server_node_to_string       (JsonNode          *node);

/* mt-server-listener.c: listening and accepting; connections counted and
 * capped at accept (in all, below the descriptor limit, and per client),
 * slow and idle ones timed out, accept errors survived. */
MtServerListener *_mt_server_listener_new         (MtServer          *server,
                                                   SoupServer        *soup,
                                                   GTlsCertificate   *certificate);
void              _mt_server_listener_free        (MtServerListener  *listener);
/* Binds @address and listens (port 0: any free one, returned in @port). */
gboolean          _mt_server_listener_add         (MtServerListener  *listener,
                                                   GSocketAddress    *address,
                                                   guint             *port,
                                                   GError           **error);
/* TRUE when @msg came on a connection opened while its client already had
 * max_connections_per_client open (it gets a 503). */
gboolean          _mt_server_listener_is_refused  (MtServerListener  *listener,
                                                   SoupServerMessage *msg);
/* @msg's connection now carries a WebSocket stream: no HTTP timeouts. */
void              _mt_server_listener_upgraded    (MtServerListener  *listener,
                                                   SoupServerMessage *msg);
guint             _mt_server_listener_get_n_connections (MtServerListener *listener);

/* mt-server-security.c: Host, token, Origin and body size checks. */
MtServerSecurity *_mt_server_security_new         (MtServer          *server);
void              _mt_server_security_free        (MtServerSecurity  *security);
void              _mt_server_security_attach      (MtServerSecurity  *security,
                                                   SoupServer        *soup);
/* TRUE when @token matches (constant time). */
gboolean          _mt_server_security_token_equal (MtServerSecurity  *security,
                                                   const char        *token);
/* TRUE when @msg's ?token= is the server's token (checked with its headers):
 * only then may the page's cookie be set from it. */
gboolean          _mt_server_security_query_token_matched (SoupServerMessage *msg);

/* mt-server-rest.c */
void              _mt_server_rest_register        (MtServer          *self,
                                                   SoupServer        *soup);
/* The library's song @id, or NULL once @msg is answered why not (503 no
 * library, 404 no such song, 500). */
MtSong           *_mt_server_find_song            (MtServer          *self,
                                                   SoupServerMessage *msg,
                                                   gint64             id);

/* mt-server-audio.c: answers @msg when @path is a song's audio
 * (/api/v1/songs/{id}/audio) and returns TRUE; FALSE for any other path. */
gboolean          _mt_server_audio_route          (MtServer          *self,
                                                   SoupServerMessage *msg,
                                                   const char        *path);

/* mt-server-stream.c */
MtServerStreams  *_mt_server_streams_new          (MtServer          *server);
void              _mt_server_streams_register     (MtServerStreams   *streams,
                                                   SoupServer        *soup);
/* Closes every stream with "going away" and lets the workers go: a frame
 * being analyzed finishes in its worker, unwaited for, and is dropped. */
void              _mt_server_streams_free         (MtServerStreams   *streams);
guint             _mt_server_streams_get_n        (MtServerStreams   *streams);
guint             _mt_server_streams_get_n_workers (MtServerStreams  *streams);

/* mt-server-static.c */
void              _mt_server_static_register      (MtServer          *self,
                                                   SoupServer        *soup);

G_END_DECLS
