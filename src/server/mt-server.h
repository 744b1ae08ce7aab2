/* mt-server.h: the local REST + WebSocket server and the companion page.
 *
 * One MtServer serves, on the user's own machine:
 *   GET  /api/v1/status, /api/v1/mood, /api/v1/songs, /api/v1/recommendations
 *   POST /api/v1/feedback
 *   WS   /api/v1/stream  (binary JPEG frames in, JSON analyses out)
 *   GET  /               the companion page (from the app's resources)
 * documented in data/moodtunes-api.json.
 *
 * By default it listens on loopback only (127.0.0.1 and ::1 when the host has
 * it), and every request needs the access token: any local program or
 * account can reach loopback.  Only on loopback can the token be turned off
 * (require_token).
 * REST runs on the main context of the thread that called mt_server_start();
 * the MtSession given to mt_server_new() (the app's own, or a headless
 * server's) is used from that thread only: the page sees the mood and the
 * playlist the desktop sees, and its feedback goes through the session's
 * one path.  Frames are analyzed on worker threads, each with its own
 * MtAnalyzer.
 */
#pragma once

#include <gio/gio.h>

#include "mt-session.h"

G_BEGIN_DECLS

#define MT_SERVER_DEFAULT_PORT 8765

#define MT_SERVER_ERROR (mt_server_error_quark ())

typedef enum {
  MT_SERVER_ERROR_ADDRESS_IN_USE,   /* the port is taken: message names it */
  MT_SERVER_ERROR_INVALID_OPTIONS,  /* bad address, port, TLS pair, token… */
  MT_SERVER_ERROR_TLS,              /* the certificate or key cannot be used */
  MT_SERVER_ERROR_LISTEN,           /* any other failure to listen */
} MtServerError;

/* What a server does; make one with mt_server_options_new() (defaults
 * below), change fields, pass it to mt_server_new() (which copies it). */
typedef struct {
  guint       port;                    /* MT_SERVER_DEFAULT_PORT; 0 = any free port */
  char       *listen;                  /* NULL or "": loopback only */
  char       *token;                   /* access token (letters, digits, -._~, ≥ 16); NULL: one is made */
  gboolean    require_token;           /* on loopback too (TRUE); beyond loopback always */
  char       *tls_cert_file;           /* both set: https and wss */
  char       *tls_key_file;
  char       *models_dir;              /* NULL: mt_analyzer_get_default_models_dir() */
  char       *model;                   /* NULL: the models manifest's default */
  guint       n_workers;               /* analysis threads; 0 = one per processor */
  guint       max_connections;         /* open connections in all (512), lowered to fit the
                                        * descriptor limit (RLIMIT_NOFILE) at start */
  guint       max_connections_per_client; /* open connections per remote address (32) */
  guint       header_timeout_ms;       /* a connection's request, headers and body, must be in
                                        * within this of its accept (10 s); TLS handshake included */
  guint       response_timeout_ms;     /* a response its client does not read is given up
                                        * after this (60 s) */
  guint       max_streams;             /* WebSocket streams in all (64) */
  gsize       max_frame_bytes;         /* larger frames get an error message (2 MiB) */
  guint       max_frames_per_second;   /* a stream sending more is closed (60) */
  gsize       max_body_bytes;          /* larger request bodies get 413 (64 KiB) */
  guint       recommendations_limit;   /* songs per pushed list (10) */
} MtServerOptions;

#define MT_TYPE_SERVER_OPTIONS (mt_server_options_get_type ())

GType            mt_server_options_get_type      (void) G_GNUC_CONST;
MtServerOptions *mt_server_options_new           (void);
MtServerOptions *mt_server_options_copy          (const MtServerOptions *options);
void             mt_server_options_free          (MtServerOptions       *options);
/* Reads server-port, server-listen, server-require-token and server-token
 * from the app's settings.  When a token is needed and none is
 * stored yet, makes one and stores it in server-token. */
void             mt_server_options_load_settings (MtServerOptions       *options,
                                                  GSettings             *settings);
/* TRUE when @address (NULL/"" included) means loopback only. */
gboolean         mt_server_address_is_loopback   (const char            *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtServerOptions, mt_server_options_free)

#define MT_TYPE_SERVER (mt_server_get_type ())
G_DECLARE_FINAL_TYPE (MtServer, mt_server, MT, SERVER, GObject)

GQuark      mt_server_error_quark   (void);

/* Serves @session: its library (without one the song endpoints answer
 * 503), mood, strategy, recommendations and feedback. */
MtServer   *mt_server_new           (MtSession             *session,
                                     const MtServerOptions *options);
MtSession  *mt_server_get_session   (MtServer              *self);
/* Listens; fails with a clear message (MT_SERVER_ERROR_ADDRESS_IN_USE when
 * the port is taken).  Analyzers are loaded lazily, on the first frame. */
gboolean    mt_server_start         (MtServer              *self,
                                     GError               **error);
/* Closes every stream (going-away) and stops listening.  Idempotent.
 * Returns at once: a frame being decoded or analyzed is not waited for. */
void        mt_server_stop          (MtServer              *self);
gboolean    mt_server_is_running    (MtServer              *self);

/* The port listened on (the chosen one when options asked for 0), 0 when stopped. */
guint       mt_server_get_port      (MtServer              *self);
/* The listen address: "127.0.0.1" for loopback, else the option. */
const char *mt_server_get_address   (MtServer              *self);
/* The access token, NULL when none is needed (loopback, require_token off). */
const char *mt_server_get_token     (MtServer              *self);
/* The companion page's address, with ?token= when one is needed; NULL when stopped. */
char       *mt_server_dup_url       (MtServer              *self);
/* Open WebSocket streams. */
guint       mt_server_get_n_streams (MtServer              *self);
/* Open connections (WebSocket streams included), counted from accept. */
guint       mt_server_get_n_connections (MtServer          *self);

/* Properties: "port", "address", "token", "running", "n-streams"
 * (read-only, notified on change). */

G_END_DECLS
