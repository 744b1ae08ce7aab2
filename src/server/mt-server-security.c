#define G_LOG_DOMAIN "mt-server"

#include "config.h"

#include <string.h>

#include "mt-server-private.h"

struct _MtServerSecurity {
  MtServer    *server;    /* unowned: the server frees us first */
  gulong       request_started_id;
  SoupServer  *soup;
};

static GQuark body_bytes_quark;
static GQuark query_token_quark;

MtServerSecurity *
_mt_server_security_new (MtServer *server)
{
  MtServerSecurity *self = g_new0 (MtServerSecurity, 1);

  if (body_bytes_quark == 0)
    {
      body_bytes_quark = g_quark_from_static_string ("mt-server-body-bytes");
      query_token_quark = g_quark_from_static_string ("mt-server-query-token");
    }
  self->server = server;
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
  g_free (self);
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
  const char *host = soup_message_headers_get_one (headers, "Host");
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  goffset length;

  if (soup_server_message_get_status (msg) != 0)
    {
      /* libsoup already refused it (a path with ".." once decoded, or an
       * encoded NUL): in the API's error shape too. */
      if (soup_server_message_get_status (msg) == SOUP_STATUS_BAD_REQUEST)
        refuse (msg, SOUP_STATUS_BAD_REQUEST, TRUE,
                "This request's path is not allowed (a “..” segment or a NUL, even percent-encoded)");
      return;
    }

  /* libsoup closes the connection after the response (see
   * mt-server-listener.c): say so, so clients never reuse it.  A WebSocket
   * handshake's answer says "Connection: Upgrade" instead. */
  if (soup_message_headers_get_one (headers, "Upgrade") == NULL)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");

  if (_mt_server_listener_is_refused (self->server->listener, msg))
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

  /* Connections are counted where they are accepted (mt-server-listener.c). */
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
