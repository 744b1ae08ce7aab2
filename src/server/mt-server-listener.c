/* mt-server-listener.c: the server's own listening sockets.
 *
 * libsoup 3.2's listener removes its source for good when accept() fails
 * (EMFILE: the server never accepts again, even once every connection is
 * closed), caps nothing in all and times nothing out.  So connections are
 * accepted here, counted and capped at accept (in all below the descriptor
 * limit, and per client), handed to the SoupServer with
 * soup_server_accept_iostream(), and watched: one that does not send a
 * whole request in time, or does not read its response, is shut down.  An
 * accept error pauses accepting briefly and then tries again.
 *
 * libsoup closes these connections after each response (it keeps them
 * alive only with a listener of its own), and the server says so
 * (Connection: close): libsoup 3.2 never closes a kept-alive connection
 * whose client goes away between requests, and loses its descriptor.
 */
#define G_LOG_DOMAIN "mt-server"

#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "mt-server-private.h"

/* Pauses after a failed accept(): doubling while it keeps failing. */
#define ACCEPT_RETRY_MIN_MS 50
#define ACCEPT_RETRY_MAX_MS 1000
/* Connections taken per wakeup, so a flood cannot starve the rest. */
#define ACCEPT_BATCH 32
/* Descriptors kept for everything else (the library, models, the app):
 * at least this many, or an eighth of the limit. */
#define DESCRIPTOR_RESERVE 32

typedef enum {
  PHASE_REQUEST,    /* accepted: its request, headers and body, is due */
  PHASE_RESPONSE,   /* the request is in: the response is written */
  PHASE_IDLE,       /* the response is out: libsoup closes it */
  PHASE_UPGRADED,   /* a WebSocket stream: its own keepalive watches it */
} Phase;

typedef struct {
  MtServerListener *listener;    /* NULL once the listener is gone */
  GSocket          *socket;
  GSocketAddress   *local;
  GSocketAddress   *remote;      /* also libsoup's: finds us from a message */
  GIOStream        *handshaking; /* the TLS connection until its handshake is done */
  char             *key;         /* remote address, as the per-client cap counts */
  gboolean          refused;     /* opened while its client was over the cap */
  gboolean          shut;        /* timed out: shut down, libsoup closes it */
  Phase             phase;
  gint64            since;       /* monotonic µs the phase began */
} Connection;

typedef struct {
  MtServerListener *listener;
  GSocket          *socket;
  GSource          *source;      /* NULL while paused (an error, or at the cap) */
  GSource          *retry;       /* while paused */
  guint             retry_ms;
  guint             port;
} Listening;

struct _MtServerListener {
  MtServer        *server;       /* unowned: it frees us first */
  SoupServer      *soup;
  GTlsCertificate *certificate;  /* nullable */
  GMainContext    *context;
  GPtrArray       *listening;    /* Listening* */
  GPtrArray       *connections;  /* Connection* */
  GCancellable    *cancellable;  /* TLS handshakes in progress */
  guint            max_connections;
  gboolean         over_cap;     /* said so once, until below it again */
  GSource         *sweep;
  gulong           started_id;
  gulong           read_id;
  gulong           finished_id;
  gulong           aborted_id;
};

static GQuark connection_quark;

static void
connection_clear (Connection *conn)
{
  if (conn->remote != NULL)
    g_object_set_qdata (G_OBJECT (conn->remote), connection_quark, NULL);
  g_clear_object (&conn->handshaking);
  g_clear_object (&conn->socket);
  g_clear_object (&conn->local);
  g_clear_object (&conn->remote);
  g_free (conn->key);
}

static Connection *
connection_ref (Connection *conn)
{
  return g_rc_box_acquire (conn);
}

static void
connection_unref (Connection *conn)
{
  g_rc_box_release_full (conn, (GDestroyNotify) connection_clear);
}

static Connection *
connection_for_message (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote != NULL ? g_object_get_qdata (G_OBJECT (remote), connection_quark) : NULL;
}

static void
set_phase (Connection *conn,
           Phase       phase)
{
  if (conn->phase == PHASE_UPGRADED)
    return;
  conn->phase = phase;
  conn->since = g_get_monotonic_time ();
}

/* libsoup may not have read a departed client's end of file yet: look for
 * it here, so that client's closed connections stop counting against it
 * at once. */
static gboolean
peer_is_gone (GSocket *socket)
{
  GIOCondition condition;
  GInputVector vector;
  char byte;
  int flags = G_SOCKET_MSG_PEEK;

  if (g_socket_is_closed (socket))
    return TRUE;
  condition = g_socket_condition_check (socket, G_IO_IN | G_IO_HUP | G_IO_ERR);
  if (condition & (G_IO_HUP | G_IO_ERR))
    return TRUE;
  if (!(condition & G_IO_IN))
    return FALSE;
  vector.buffer = &byte;
  vector.size = 1;
  return g_socket_receive_message (socket, NULL, &vector, 1, NULL, NULL, &flags, NULL, NULL) == 0;
}

/* Forgets the connections libsoup (or a stream) has closed. */
static void
prune (MtServerListener *self)
{
  for (guint i = self->connections->len; i > 0; i--)
    {
      Connection *conn = g_ptr_array_index (self->connections, i - 1);

      if (g_socket_is_closed (conn->socket))
        g_ptr_array_remove_index_fast (self->connections, i - 1);
    }
}

static guint
count_client (MtServerListener *self,
              const char       *key)
{
  guint count = 0;

  for (guint i = 0; i < self->connections->len; i++)
    {
      Connection *conn = g_ptr_array_index (self->connections, i);

      if (g_str_equal (conn->key, key) && !peer_is_gone (conn->socket))
        count++;
    }
  return count;
}

static guint
count_open_descriptors (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint count = 0;

  if (dir == NULL)
    return 0;
  while (g_dir_read_name (dir) != NULL)
    count++;
  return count > 0 ? count - 1 : 0;   /* less the directory's own */
}

/* The connections this process can hold open: @wanted, lowered to what
 * the descriptor limit leaves beside the descriptors already open and a
 * reserve, so accept() does not run out (one descriptor per connection). */
static guint
connection_cap (guint wanted)
{
  struct rlimit limit;
  guint64 used, reserve;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return wanted;
  used = count_open_descriptors ();
  reserve = MAX (DESCRIPTOR_RESERVE, limit.rlim_cur / 8);
  if (limit.rlim_cur <= used + reserve)
    return 1;
  return (guint) MIN ((guint64) wanted, limit.rlim_cur - used - reserve);
}

static void listening_arm (Listening *listening);

static gboolean
on_retry (gpointer user_data)
{
  Listening *listening = user_data;

  g_clear_pointer (&listening->retry, g_source_unref);
  listening_arm (listening);
  return G_SOURCE_REMOVE;
}

/* Stops accepting for @ms: connections wait in the kernel's backlog,
 * costing this process no descriptor. */
static void
listening_wait (Listening *listening,
                guint      ms)
{
  if (listening->source != NULL)
    {
      g_source_destroy (listening->source);
      g_clear_pointer (&listening->source, g_source_unref);
    }
  listening->retry = g_timeout_source_new (ms);
  g_source_set_callback (listening->retry, on_retry, listening, NULL);
  g_source_attach (listening->retry, listening->listener->context);
}

/* accept() failed (out of descriptors, most likely): the connection waits
 * in the backlog, and the socket stays readable.  Try again a little later
 * rather than spin, or give up as libsoup's listener does. */
static void
listening_pause (Listening    *listening,
                 const GError *error)
{
  if (listening->retry_ms == 0)
    g_message ("Cannot accept connections on port %u (%s): trying again every %d to %d ms",
               listening->port, error->message, ACCEPT_RETRY_MIN_MS, ACCEPT_RETRY_MAX_MS);
  listening->retry_ms = listening->retry_ms == 0 ? ACCEPT_RETRY_MIN_MS
                                                 : MIN (2 * listening->retry_ms, ACCEPT_RETRY_MAX_MS);
  listening_wait (listening, listening->retry_ms);
}

static void
hand_over (MtServerListener *self,
           Connection       *conn,
           GIOStream        *stream)
{
  g_autoptr(GError) error = NULL;

  /* libsoup starts the first request (request-started) in here. */
  g_object_set_qdata (G_OBJECT (conn->remote), connection_quark, conn);
  if (!soup_server_accept_iostream (self->soup, stream, conn->local, conn->remote, &error))
    {
      g_debug ("Cannot serve a connection: %s", error->message);
      g_io_stream_close (stream, NULL, NULL);
    }
}

static void
on_handshake (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Connection *conn = user_data;
  GIOStream *tls = G_IO_STREAM (source);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_tls_connection_handshake_finish (G_TLS_CONNECTION (tls), result, &error);

  g_clear_object (&conn->handshaking);
  if (ok && conn->listener != NULL && !conn->shut)
    hand_over (conn->listener, conn, tls);
  else
    {
      if (!ok)
        g_debug ("TLS handshake failed: %s", error->message);
      g_io_stream_close (tls, NULL, NULL);
    }
  g_object_unref (tls);
  connection_unref (conn);
}

static void
accept_connection (MtServerListener *self,
                   GSocket          *socket)
{
  MtServerOptions *options = self->server->options;
  g_autoptr(GSocketConnection) stream = NULL;
  g_autoptr(GError) error = NULL;
  GInetAddress *address;
  Connection *conn;

  conn = g_rc_box_new0 (Connection);
  conn->listener = self;
  conn->socket = g_object_ref (socket);
  conn->phase = PHASE_REQUEST;
  conn->since = g_get_monotonic_time ();
  conn->remote = g_socket_get_remote_address (socket, &error);
  if (conn->remote != NULL)
    conn->local = g_socket_get_local_address (socket, &error);
  if (conn->remote == NULL || conn->local == NULL || !G_IS_INET_SOCKET_ADDRESS (conn->remote))
    {
      g_debug ("Dropping a connection without addresses: %s", error != NULL ? error->message : "not IP");
      g_socket_close (socket, NULL);
      connection_unref (conn);
      return;
    }
  address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (conn->remote));
  conn->key = g_inet_address_to_string (address);
  conn->refused = count_client (self, conn->key) + 1 > options->max_connections_per_client;
  g_ptr_array_add (self->connections, conn);

  /* Small WebSocket messages and replies must not wait for Nagle. */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  stream = g_socket_connection_factory_create_connection (socket);

  if (self->certificate != NULL)
    {
      const char *protocols[] = { "http/1.1", "http/1.0", NULL };
      GIOStream *tls = g_tls_server_connection_new (G_IO_STREAM (stream), self->certificate, &error);

      if (tls == NULL)
        {
          g_debug ("Cannot start TLS: %s", error->message);
          g_io_stream_close (G_IO_STREAM (stream), NULL, NULL);
          return;
        }
      g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (tls), FALSE);
      g_tls_connection_set_advertised_protocols (G_TLS_CONNECTION (tls), protocols);
      /* The header timeout covers the handshake too. */
      conn->handshaking = g_object_ref (tls);
      g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, self->cancellable,
                                        on_handshake, connection_ref (conn));
      return;
    }
  hand_over (self, conn, G_IO_STREAM (stream));
}

static gboolean
on_incoming (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  Listening *listening = user_data;
  MtServerListener *self = listening->listener;

  for (guint i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) client = NULL;

      prune (self);
      if (self->connections->len >= self->max_connections)
        {
          /* At the cap new connections wait in the backlog (as nginx's do
           * at worker_connections) until some close: the idle ones among
           * them within the timeouts. */
          if (!self->over_cap)
            g_message ("%u connections are open, the most allowed (or that the descriptor limit leaves): "
                       "new ones wait until some close", self->connections->len);
          self->over_cap = TRUE;
          listening_wait (listening, ACCEPT_RETRY_MIN_MS);
          return G_SOURCE_REMOVE;
        }
      self->over_cap = FALSE;

      client = g_socket_accept (socket, NULL, &error);
      if (client == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          listening_pause (listening, error);
          return G_SOURCE_REMOVE;
        }
      if (listening->retry_ms != 0)
        g_message ("Accepting connections on port %u again", listening->port);
      listening->retry_ms = 0;
      accept_connection (listening->listener, client);
    }
  return G_SOURCE_CONTINUE;
}

static void
listening_arm (Listening *listening)
{
  if (listening->source != NULL)
    {
      g_source_destroy (listening->source);
      g_source_unref (listening->source);
    }
  listening->source = g_socket_create_source (listening->socket, G_IO_IN, NULL);
  g_source_set_callback (listening->source, G_SOURCE_FUNC (on_incoming), listening, NULL);
  g_source_attach (listening->source, listening->listener->context);
}

static void
listening_free (Listening *listening)
{
  if (listening->source != NULL)
    {
      g_source_destroy (listening->source);
      g_source_unref (listening->source);
    }
  if (listening->retry != NULL)
    {
      g_source_destroy (listening->retry);
      g_source_unref (listening->retry);
    }
  g_socket_close (listening->socket, NULL);
  g_object_unref (listening->socket);
  g_free (listening);
}

/* Times out slow and idle connections. */
static gboolean
on_sweep (gpointer user_data)
{
  MtServerListener *self = user_data;
  MtServerOptions *options = self->server->options;
  gint64 now = g_get_monotonic_time ();

  prune (self);
  for (guint i = 0; i < self->connections->len; i++)
    {
      Connection *conn = g_ptr_array_index (self->connections, i);
      guint timeout_ms;

      if (conn->shut || conn->phase == PHASE_UPGRADED)
        continue;
      timeout_ms = conn->phase == PHASE_REQUEST ? options->header_timeout_ms : options->response_timeout_ms;
      if (now - conn->since < (gint64) timeout_ms * 1000)
        continue;
      g_debug ("Closing a connection from %s: %s for over %u ms", conn->key,
               conn->phase == PHASE_REQUEST ? "no whole request" : "its response unread", timeout_ms);
      /* libsoup reads the end of file (or fails to write) and closes it;
       * the descriptor stays valid until then. */
      conn->shut = TRUE;
      g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
    }
  return G_SOURCE_CONTINUE;
}

static void
on_request_started (SoupServer        *soup,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  Connection *conn = connection_for_message (msg);

  /* The first request starts at accept (the only one: no keep-alive). */
  if (conn != NULL && conn->phase == PHASE_IDLE)
    set_phase (conn, PHASE_REQUEST);
}

/* A response written in chunks (a song's audio) is timed out when its
 * client stops reading it, not when it takes long: each chunk written
 * starts the response timeout again. */
static void
on_wrote_chunk (SoupServerMessage *msg,
                gpointer           user_data)
{
  Connection *conn = connection_for_message (msg);

  if (conn != NULL && conn->phase == PHASE_RESPONSE)
    set_phase (conn, PHASE_RESPONSE);
}

static void
on_request_read (SoupServer        *soup,
                 SoupServerMessage *msg,
                 gpointer           user_data)
{
  Connection *conn = connection_for_message (msg);

  if (conn != NULL)
    set_phase (conn, PHASE_RESPONSE);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), NULL);
}

static void
on_request_done (SoupServer        *soup,
                 SoupServerMessage *msg,
                 gpointer           user_data)
{
  Connection *conn = connection_for_message (msg);

  if (conn != NULL)
    set_phase (conn, PHASE_IDLE);
}

MtServerListener *
_mt_server_listener_new (MtServer        *server,
                         SoupServer      *soup,
                         GTlsCertificate *certificate)
{
  MtServerListener *self = g_new0 (MtServerListener, 1);
  MtServerOptions *options = server->options;
  g_autoptr(GSource) sweep = NULL;
  guint tick_ms;

  if (connection_quark == 0)
    connection_quark = g_quark_from_static_string ("mt-server-connection");
  self->server = server;
  self->soup = g_object_ref (soup);
  self->certificate = certificate != NULL ? g_object_ref (certificate) : NULL;
  self->context = g_main_context_ref_thread_default ();
  self->listening = g_ptr_array_new_with_free_func ((GDestroyNotify) listening_free);
  self->connections = g_ptr_array_new_with_free_func ((GDestroyNotify) connection_unref);
  self->cancellable = g_cancellable_new ();
  self->max_connections = connection_cap (options->max_connections);
  if (self->max_connections < options->max_connections)
    g_debug ("At most %u connections at once (the descriptor limit leaves no more)", self->max_connections);

  self->started_id = g_signal_connect (soup, "request-started", G_CALLBACK (on_request_started), self);
  self->read_id = g_signal_connect (soup, "request-read", G_CALLBACK (on_request_read), self);
  self->finished_id = g_signal_connect (soup, "request-finished", G_CALLBACK (on_request_done), self);
  self->aborted_id = g_signal_connect (soup, "request-aborted", G_CALLBACK (on_request_done), self);

  tick_ms = CLAMP (MIN (options->header_timeout_ms, options->response_timeout_ms) / 4, 25, 1000);
  sweep = g_timeout_source_new (tick_ms);
  g_source_set_callback (sweep, on_sweep, self, NULL);
  self->sweep = g_source_ref (sweep);
  g_source_attach (sweep, self->context);
  return self;
}

gboolean
_mt_server_listener_add (MtServerListener  *self,
                         GSocketAddress    *address,
                         guint             *port,
                         GError           **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  GSocketFamily family = g_socket_address_get_family (address);
  Listening *listening;

  socket = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  if (socket == NULL)
    return FALSE;
  /* Each family on its own socket (see listen_loopback()). */
  if (family == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, TRUE, NULL);
  g_socket_set_listen_backlog (socket, SOMAXCONN);
  /* accept() in a loop until it would block, never waiting. */
  g_socket_set_blocking (socket, FALSE);
  if (!g_socket_bind (socket, address, TRUE, error) || !g_socket_listen (socket, error))
    return FALSE;
  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return FALSE;

  listening = g_new0 (Listening, 1);
  listening->listener = self;
  listening->socket = g_steal_pointer (&socket);
  listening->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_ptr_array_add (self->listening, listening);
  listening_arm (listening);
  if (port != NULL)
    *port = listening->port;
  return TRUE;
}

void
_mt_server_listener_free (MtServerListener *self)
{
  if (self == NULL)
    return;

  g_cancellable_cancel (self->cancellable);
  g_source_destroy (self->sweep);
  g_clear_pointer (&self->sweep, g_source_unref);
  g_clear_signal_handler (&self->started_id, self->soup);
  g_clear_signal_handler (&self->read_id, self->soup);
  g_clear_signal_handler (&self->finished_id, self->soup);
  g_clear_signal_handler (&self->aborted_id, self->soup);
  g_ptr_array_unref (self->listening);
  for (guint i = 0; i < self->connections->len; i++)
    {
      Connection *conn = g_ptr_array_index (self->connections, i);

      /* A handshake still running finds no listener and closes. */
      conn->listener = NULL;
      if (conn->remote != NULL)
        g_object_set_qdata (G_OBJECT (conn->remote), connection_quark, NULL);
    }
  g_ptr_array_unref (self->connections);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->certificate);
  g_clear_object (&self->soup);
  g_main_context_unref (self->context);
  g_free (self);
}

gboolean
_mt_server_listener_is_refused (MtServerListener  *self,
                                SoupServerMessage *msg)
{
  Connection *conn = connection_for_message (msg);

  return conn != NULL && conn->refused;
}

void
_mt_server_listener_upgraded (MtServerListener  *self,
                              SoupServerMessage *msg)
{
  Connection *conn = connection_for_message (msg);

  if (conn != NULL)
    set_phase (conn, PHASE_UPGRADED);
}

guint
_mt_server_listener_get_n_connections (MtServerListener *self)
{
  if (self == NULL)
    return 0;
  prune (self);
  return self->connections->len;
}
