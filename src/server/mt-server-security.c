#define G_LOG_DOMAIN "mt-server"

#include "config.h"

#include <string.h>

#include "mt-server-private.h"

/* One open connection.  libsoup says nothing when a connection ends, but it
 * closes the socket then (also a WebSocket's, which took the stream over):
 * a closed socket no longer counts. */
typedef struct {
  GSocket  *socket;
  char     *key;       /* remote address */
  gboolean  refused;   /* opened while its client was over the cap */
} ClientEntry;

struct _MtServerSecurity {
  MtServer    *server;    /* unowned: the server frees us first */
  GPtrArray   *clients;   /* ClientEntry* */
  gulong       request_started_id;
  SoupServer  *soup;
};

static GQuark client_quark;
static GQuark body_bytes_quark;
static GQuark query_token_quark;

static void
client_entry_free (gpointer data)
{
  ClientEntry *entry = data;

  g_object_set_qdata (G_OBJECT (entry->socket), client_quark, NULL);
  g_object_unref (entry->socket);
  g_free (entry->key);
  g_free (entry);
}

MtServerSecurity *
_mt_server_security_new (MtServer *server)
{
  MtServerSecurity *self = g_new0 (MtServerSecurity, 1);

  if (client_quark == 0)
    {
      client_quark = g_quark_from_static_string ("mt-server-client");
      body_bytes_quark = g_quark_from_static_string ("mt-server-body-bytes");
      query_token_quark = g_quark_from_static_string ("mt-server-query-token");
    }
  self->server = server;
  self->clients = g_ptr_array_new_with_free_func (client_entry_free);
  return self;
}

void
_mt_server_security_free (MtServerSecurity *self)
{
  if (self == NULL)
    return;
  if (self->soup != NULL)
    g_clear_signal_handler (&self->request_started_id, self->soup);
  g_clear_object (&self->soup);
  g_ptr_array_unref (self->clients);
  g_free (self);
}

/* libsoup does not notice an idle keep-alive connection that the client
 * closed until it reads from it again: look for the end of file ourselves. */
static gboolean
socket_is_gone (GSocket *socket)
{
  GIOCondition condition;
  GInputVector vector;
  char byte;
  int flags = G_SOCKET_MSG_PEEK;
  gssize n;

  if (g_socket_is_closed (socket))
    return TRUE;
  condition = g_socket_condition_check (socket, G_IO_IN | G_IO_HUP | G_IO_ERR);
  if (condition & (G_IO_HUP | G_IO_ERR))
    return TRUE;
  if (!(condition & G_IO_IN))
    return FALSE;
  vector.buffer = &byte;
  vector.size = 1;
  n = g_socket_receive_message (socket, NULL, &vector, 1, NULL, NULL, &flags, NULL, NULL);
  return n == 0;
}

/* Forgets closed connections; returns how many of @key's are open. */
static guint
count_open (MtServerSecurity *self,
            const char       *key)
{
  guint count = 0;

  for (guint i = self->clients->len; i > 0; i--)
    {
      ClientEntry *entry = g_ptr_array_index (self->clients, i - 1);

      if (socket_is_gone (entry->socket))
        g_ptr_array_remove_index_fast (self->clients, i - 1);
      else if (g_str_equal (entry->key, key))
        count++;
    }
  return count;
}

char *
_mt_server_security_client_key (SoupServerMessage *msg)
{
  const char *host = soup_server_message_get_remote_host (msg);

  return g_strdup (host != NULL ? host : "unknown");
}

gboolean
_mt_server_security_token_equal (MtServerSecurity *self,
                                 const char       *token)
{
  const char *expected = self->server->token;
  gsize n, m;
  guint8 diff;

  if (expected == NULL)
    return TRUE;
  if (token == NULL)
    return FALSE;

  /* Constant time in the token's content: no early exit on a mismatch. */
  n = strlen (expected);
  m = strlen (token);
  diff = n != m;
  for (gsize i = 0; i < n; i++)
    diff |= (guint8) expected[i] ^ (guint8) (i < m ? token[i] : 0);
  return diff == 0;
}

/* Whether the request carries this server's token: in "Authorization:
 * Bearer", in ?token= or in the page's cookie.  Each one given is compared,
 * and any that matches lets the request in, so a fresh ?token= link wins
 * over the cookie an earlier server (with another token) left behind.
 * @given says whether any was sent. */
static gboolean
request_has_token (MtServerSecurity  *self,
                   SoupServerMessage *msg,
                   gboolean          *given)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  const char *cookie = soup_message_headers_get_list (headers, "Cookie");
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  gboolean ok = FALSE;

  *given = FALSE;
  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    {
      g_autofree char *bearer = g_strstrip (g_strdup (authorization + 7));

      *given = TRUE;
      ok |= _mt_server_security_token_equal (self, bearer);
    }

  if (query != NULL)
    {
      g_autoptr(GHashTable) form = soup_form_decode (query);
      const char *value = g_hash_table_lookup (form, "token");

      if (value != NULL)
        {
          *given = TRUE;
          if (_mt_server_security_token_equal (self, value))
            {
              ok = TRUE;
              /* The page may keep this one in its cookie. */
              g_object_set_qdata (G_OBJECT (msg), query_token_quark, GINT_TO_POINTER (TRUE));
            }
        }
    }

  if (cookie != NULL)
    {
      g_autoptr(GHashTable) cookies = soup_header_parse_semi_param_list (cookie);
      const char *value = g_hash_table_lookup (cookies, MT_SERVER_TOKEN_COOKIE);

      if (value != NULL)
        {
          *given = TRUE;
          ok |= _mt_server_security_token_equal (self, value);
        }
    }
  return ok;
}

gboolean
_mt_server_security_query_token_matched (SoupServerMessage *msg)
{
  return query_token_quark != 0 &&
         g_object_get_qdata (G_OBJECT (msg), query_token_quark) != NULL;
}

/* Splits "name:port" / "[v6]:port"; @port is -1 when absent. */
static gboolean
split_host (const char  *host,
            char       **name,
            int         *port)
{
  const char *colon;

  *port = -1;
  if (host[0] == '[')
    {
      const char *end = strchr (host, ']');
      if (end == NULL)
        return FALSE;
      *name = g_ascii_strdown (host, end + 1 - host);
      colon = end[1] == ':' ? end + 1 : NULL;
      if (end[1] != '\0' && colon == NULL)
        {
          g_clear_pointer (name, g_free);
          return FALSE;
        }
    }
  else
    {
      colon = strrchr (host, ':');
      *name = g_ascii_strdown (host, colon != NULL ? colon - host : -1);
    }

  if (colon != NULL)
    {
      guint64 value;

      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &value, NULL))
        {
          g_clear_pointer (name, g_free);
          return FALSE;
        }
      *port = (int) value;
    }
  return TRUE;
}

/* Against DNS rebinding: a page on evil.example that resolves to 127.0.0.1
 * still sends "Host: evil.example", which loopback mode refuses. */
static gboolean
host_is_allowed (MtServerSecurity *self,
                 const char       *host)
{
  g_autofree char *name = NULL;
  int port;

  if (host == NULL || !split_host (host, &name, &port))
    return FALSE;
  if (port != -1 && (guint) port != self->server->port)
    return FALSE;
  if (g_str_equal (name, "localhost") || g_str_equal (name, "127.0.0.1") ||
      g_str_equal (name, "[::1]"))
    return TRUE;
  /* Beyond loopback every request carries the token; any name that reaches
   * the listen address is fine then. */
  return !mt_server_address_is_loopback (self->server->address);
}

/* Browsers send Origin on WebSocket upgrades and cross-site POSTs: only the
 * page this server serves may talk to it. */
static gboolean
origin_is_allowed (MtServerSecurity *self,
                   const char       *origin,
                   const char       *host)
{
  g_autofree char *expected = NULL;

  if (origin == NULL)
    return TRUE;   /* not a browser, or a same-origin GET */
  if (host == NULL)
    return FALSE;
  expected = g_strdup_printf ("%s://%s", self->server->tls ? "https" : "http", host);
  return g_ascii_strcasecmp (origin, expected) == 0;
}

static void
refuse (SoupServerMessage *msg,
        guint              status,
        gboolean           close_connection,
        const char        *message)
{
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);

  _mt_server_reply_error (msg, status, "%s", message);
  if (close_connection)
    soup_message_headers_replace (response, "Connection", "close");
}

static void
on_got_headers (SoupServerMessage *msg,
                gpointer           user_data)
{
  MtServerSecurity *self = user_data;
  MtServerOptions *options = self->server->options;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  GSocket *socket = soup_server_message_get_socket (msg);
  ClientEntry *entry = socket != NULL ? g_object_get_qdata (G_OBJECT (socket), client_quark) : NULL;
  const char *host = soup_message_headers_get_one (headers, "Host");
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  goffset length;

  if (soup_server_message_get_status (msg) != 0)
    return;   /* libsoup already refused it */

  if (entry != NULL && entry->refused)
    {
      g_autofree char *message =
        g_strdup_printf ("Too many connections from this client (at most %u)",
                         options->max_connections_per_client);
      refuse (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, TRUE, message);
      return;
    }

  if (!host_is_allowed (self, host))
    {
      refuse (msg, SOUP_STATUS_BAD_REQUEST, TRUE,
              "Host header not allowed: use localhost, 127.0.0.1 or [::1] with this server's port");
      return;
    }

  if (self->server->token != NULL)
    {
      gboolean given;

      if (!request_has_token (self, msg, &given))
        {
          refuse (msg, SOUP_STATUS_UNAUTHORIZED, FALSE,
                  !given ? "This server needs its access token (Authorization: Bearer, or ?token=)"
                         : "Wrong access token");
          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "WWW-Authenticate", "Bearer realm=\"moodtunes\"");
          return;
        }
    }

  if (!origin_is_allowed (self, origin, host))
    {
      refuse (msg, SOUP_STATUS_FORBIDDEN, FALSE,
              "Cross-origin requests are not allowed: only the page this server serves may call it");
      return;
    }

  length = soup_message_headers_get_content_length (headers);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      length > (goffset) options->max_body_bytes)
    {
      g_autofree char *message =
        g_strdup_printf ("Request body too large (%" G_GOFFSET_FORMAT " bytes, at most %" G_GSIZE_FORMAT ")",
                         length, options->max_body_bytes);
      /* libsoup still reads the body it was promised: drop it unkept. */
      soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
      refuse (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, TRUE, message);
    }
}

/* Chunked bodies announce no size: count as they come. */
static void
on_got_chunk (SoupServerMessage *msg,
              GBytes            *chunk,
              gpointer           user_data)
{
  MtServerSecurity *self = user_data;
  gsize total = GPOINTER_TO_SIZE (g_object_get_qdata (G_OBJECT (msg), body_bytes_quark));
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  total += g_bytes_get_size (chunk);
  g_object_set_qdata (G_OBJECT (msg), body_bytes_quark, GSIZE_TO_POINTER (total));
  if (total <= self->server->options->max_body_bytes)
    return;

  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_truncate (body);
  if (soup_server_message_get_status (msg) == 0)
    {
      g_autofree char *message =
        g_strdup_printf ("Request body too large (at most %" G_GSIZE_FORMAT " bytes)",
                         self->server->options->max_body_bytes);
      refuse (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, TRUE, message);
    }
}

static void
on_request_started (SoupServer        *soup,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  MtServerSecurity *self = user_data;
  GSocket *socket = soup_server_message_get_socket (msg);

  /* A connection is counted on its first request. */
  if (socket != NULL && g_object_get_qdata (G_OBJECT (socket), client_quark) == NULL)
    {
      ClientEntry *entry = g_new0 (ClientEntry, 1);

      entry->socket = g_object_ref (socket);
      entry->key = _mt_server_security_client_key (msg);
      entry->refused = count_open (self, entry->key) + 1 > self->server->options->max_connections_per_client;
      g_object_set_qdata (G_OBJECT (socket), client_quark, entry);
      g_ptr_array_add (self->clients, entry);
    }

  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), self);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), self);
}

void
_mt_server_security_attach (MtServerSecurity *self,
                            SoupServer       *soup)
{
  g_return_if_fail (self->soup == NULL);

  self->soup = g_object_ref (soup);
  self->request_started_id = g_signal_connect (soup, "request-started",
                                               G_CALLBACK (on_request_started), self);
}
