#define G_LOG_DOMAIN "mt-server"

#include "config.h"

#include <string.h>

#include "mt-server-private.h"
#include "mt-server-resources.h"

#define RESOURCE_PREFIX MT_APP_RESOURCE_PATH "/companion/"

/* The only files served: a request path is looked up here, never joined to
 * a folder or a resource path, so nothing else can be reached. */
static const struct {
  const char *path;
  const char *resource;
  const char *content_type;
} files[] = {
  { "/",            "index.html",  "text/html; charset=utf-8" },
  { "/index.html",  "index.html",  "text/html; charset=utf-8" },
  { "/app.js",      "app.js",      "text/javascript; charset=utf-8" },
  { "/rest.js",     "rest.js",     "text/javascript; charset=utf-8" },
  { "/player.js",   "player.js",   "text/javascript; charset=utf-8" },
  { "/timeline.js", "timeline.js", "text/javascript; charset=utf-8" },
  { "/style.css",   "style.css",   "text/css; charset=utf-8" },
};

/* The page may talk only to this server, load only its own files and show
 * the camera from a local stream. */
#define PAGE_CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " \
                 "media-src 'self' blob: mediastream:; connect-src 'self'; base-uri 'none'; " \
                 "form-action 'none'; frame-ancestors 'none'"

/* /?token=… from the printed address: keep the token in a same-site cookie
 * (sent with every later request, WebSocket included) and drop it from
 * the address bar. */
static gboolean
redirect_with_cookie (MtServer          *self,
                      SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree char *cookie = NULL;

  /* Only a ?token= that matched, and the cookie holds the server's own
   * token (checked to be URL- and cookie-safe at start), never the text
   * the client sent. */
  if (self->token == NULL || !_mt_server_security_query_token_matched (msg))
    return FALSE;
  cookie = g_strdup_printf ("%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
                            MT_SERVER_TOKEN_COOKIE, self->token, self->tls ? "; Secure" : "");
  _mt_server_add_security_headers (msg);
  soup_message_headers_append (headers, "Set-Cookie", cookie);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_server_message_set_redirect (msg, SOUP_STATUS_SEE_OTHER, "/");
  return TRUE;
}

static void
on_static_request (SoupServer        *soup,
                   SoupServerMessage *msg,
                   const char        *path,
                   GHashTable        *query,
                   gpointer           user_data)
{
  MtServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree char *resource = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (files); i++)
    if (g_str_equal (path, files[i].path))
      break;
  if (i == G_N_ELEMENTS (files))
    {
      _mt_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "No such page");
      return;
    }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      _mt_server_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "%s is not allowed here (use GET)", method);
      soup_message_headers_replace (headers, "Allow", "GET, HEAD");
      return;
    }
  if (i == 0 && redirect_with_cookie (self, msg))
    return;

  resource = g_strconcat (RESOURCE_PREFIX, files[i].resource, NULL);
  bytes = g_resources_lookup_data (resource, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  if (bytes == NULL)
    {
      _mt_server_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                              "The companion page is missing from this build: %s", error->message);
      return;
    }

  _mt_server_add_security_headers (msg);
  soup_message_headers_replace (headers, "Content-Security-Policy", PAGE_CSP);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  if (method == SOUP_METHOD_HEAD)
    {
      soup_message_headers_set_content_type (headers, files[i].content_type, NULL);
      soup_message_headers_set_content_length (headers, g_bytes_get_size (bytes));
      return;
    }
  soup_message_headers_set_content_type (headers, files[i].content_type, NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), bytes);
}

void
_mt_server_static_register (MtServer   *self,
                            SoupServer *soup)
{
  /* Referencing the resource links its object file in (its constructor
   * registers it) even from a static library. */
  (void) mt_server_get_resource ();
  soup_server_add_handler (soup, NULL, on_static_request, self, NULL);
}
