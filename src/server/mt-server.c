#define G_LOG_DOMAIN "mt-server"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "mt-analyzer.h"
#include "mt-server-private.h"

enum {
  PROP_0,
  PROP_PORT,
  PROP_ADDRESS,
  PROP_TOKEN,
  PROP_RUNNING,
  PROP_N_STREAMS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (MtServer, mt_server, G_TYPE_OBJECT)
G_DEFINE_BOXED_TYPE (MtServerOptions, mt_server_options, mt_server_options_copy, mt_server_options_free)
G_DEFINE_QUARK (mt-server-error-quark, mt_server_error)

MtServerOptions *
mt_server_options_new (void)
{
  MtServerOptions *options = g_new0 (MtServerOptions, 1);

  options->port = MT_SERVER_DEFAULT_PORT;
  options->require_token = TRUE;
  options->max_connections = 512;
  options->max_connections_per_client = 32;
  options->header_timeout_ms = 10 * 1000;
  options->response_timeout_ms = 60 * 1000;
  options->max_streams = 64;
  options->max_frame_bytes = 2 * 1024 * 1024;
  options->max_frames_per_second = 60;
  options->max_body_bytes = 64 * 1024;
  options->recommendations_limit = 10;
  return options;
}

MtServerOptions *
mt_server_options_copy (const MtServerOptions *options)
{
  MtServerOptions *copy;

  g_return_val_if_fail (options != NULL, NULL);

  copy = g_memdup2 (options, sizeof *options);
  copy->listen = g_strdup (options->listen);
  copy->token = g_strdup (options->token);
  copy->tls_cert_file = g_strdup (options->tls_cert_file);
  copy->tls_key_file = g_strdup (options->tls_key_file);
  copy->models_dir = g_strdup (options->models_dir);
  copy->model = g_strdup (options->model);
  return copy;
}

void
mt_server_options_free (MtServerOptions *options)
{
  if (options == NULL)
    return;
  g_free (options->listen);
  g_free (options->token);
  g_free (options->tls_cert_file);
  g_free (options->tls_key_file);
  g_free (options->models_dir);
  g_free (options->model);
  g_free (options);
}

/* 24 random bytes from the kernel, as 48 hex digits. */
static char *
make_token (void)
{
  guint8 bytes[24];
  GString *text = g_string_new (NULL);
  gsize got = 0;

  while (got < sizeof bytes)
    {
      ssize_t n = getrandom (bytes + got, sizeof bytes - got, 0);
      if (n < 0 && errno == EINTR)
        continue;
      /* getrandom() cannot fail on Linux ≥ 3.17 once the pool is ready. */
      g_assert (n > 0);
      got += n;
    }
  for (gsize i = 0; i < sizeof bytes; i++)
    g_string_append_printf (text, "%02x", bytes[i]);
  return g_string_free (text, FALSE);
}

gboolean
mt_server_address_is_loopback (const char *address)
{
  g_autoptr(GInetAddress) inet = NULL;

  if (address == NULL || address[0] == '\0' || g_str_equal (address, "localhost"))
    return TRUE;
  inet = g_inet_address_new_from_string (address);
  return inet != NULL && g_inet_address_get_is_loopback (inet);
}

void
mt_server_options_load_settings (MtServerOptions *options,
                                 GSettings       *settings)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autofree char *token = NULL;

  g_return_if_fail (options != NULL);
  g_return_if_fail (G_IS_SETTINGS (settings));

  options->port = (guint) g_settings_get_int (settings, "server-port");
  g_clear_pointer (&options->listen, g_free);
  options->listen = g_settings_get_string (settings, "server-listen");
  /* An older installed schema lacks the key: the token stays required. */
  g_object_get (settings, "settings-schema", &schema, NULL);
  if (g_settings_schema_has_key (schema, "server-require-token"))
    options->require_token = g_settings_get_boolean (settings, "server-require-token");
  /* The expression model picked in Preferences ("": the manifest's). */
  if (g_settings_schema_has_key (schema, "expression-model"))
    {
      g_autofree char *model = g_settings_get_string (settings, "expression-model");

      g_auto(GStrv) models = model[0] != '\0' ? mt_analyzer_list_models (NULL, NULL) : NULL;

      g_clear_pointer (&options->model, g_free);
      /* A model of one's own since removed: the default, not no analysis
       * (said, not warned: it is what the user did). */
      if (models != NULL && g_strv_contains ((const char * const *) models, model))
        options->model = g_steal_pointer (&model);
      else if (model[0] != '\0')
        g_message ("The expression model “%s” of the settings is not there: the default is used", model);
    }

  /* The token is kept, so the address with it stays valid across restarts. */
  token = g_settings_get_string (settings, "server-token");
  if (token[0] == '\0' && (options->require_token || !mt_server_address_is_loopback (options->listen)))
    {
      g_clear_pointer (&token, g_free);
      token = make_token ();
      g_settings_set_string (settings, "server-token", token);
    }
  g_clear_pointer (&options->token, g_free);
  if (token[0] != '\0')
    options->token = g_steal_pointer (&token);
}

static void
mt_server_finalize (GObject *object)
{
  MtServer *self = MT_SERVER (object);

  mt_server_stop (self);
  g_clear_object (&self->library);
  g_clear_object (&self->session);
  g_clear_pointer (&self->options, mt_server_options_free);
  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->address, g_free);

  G_OBJECT_CLASS (mt_server_parent_class)->finalize (object);
}

static void
mt_server_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  MtServer *self = MT_SERVER (object);

  switch (prop_id)
    {
    case PROP_PORT:
      g_value_set_uint (value, mt_server_get_port (self));
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, mt_server_get_address (self));
      break;
    case PROP_TOKEN:
      g_value_set_string (value, mt_server_get_token (self));
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, mt_server_is_running (self));
      break;
    case PROP_N_STREAMS:
      g_value_set_uint (value, mt_server_get_n_streams (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mt_server_class_init (MtServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mt_server_finalize;
  object_class->get_property = mt_server_get_property;

  /** MtServer:port: the port listened on, 0 when stopped. */
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, 65535, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /** MtServer:address: the listen address ("127.0.0.1" for loopback). */
  properties[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /** MtServer:token: the access token clients must send, NULL when none. */
  properties[PROP_TOKEN] =
    g_param_spec_string ("token", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /** MtServer:running: whether the server is listening. */
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /** MtServer:n-streams: open WebSocket streams. */
  properties[PROP_N_STREAMS] =
    g_param_spec_uint ("n-streams", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mt_server_init (MtServer *self)
{
  self->stream_mood.mood = MT_MOOD_NONE;
}

MtServer *
mt_server_new (MtSession             *session,
               const MtServerOptions *options)
{
  MtLibrary *library;
  MtServer *self;

  g_return_val_if_fail (MT_IS_SESSION (session), NULL);

  self = g_object_new (MT_TYPE_SERVER, NULL);
  self->options = options != NULL ? mt_server_options_copy (options) : mt_server_options_new ();
  self->session = g_object_ref (session);
  library = mt_session_get_library (session);
  if (library != NULL)
    self->library = g_object_ref (library);
  return self;
}

static gboolean
check_options (MtServerOptions  *options,
               GError          **error)
{
  if (options->port > 65535)
    {
      g_set_error (error, MT_SERVER_ERROR, MT_SERVER_ERROR_INVALID_OPTIONS,
                   "Port %u is out of range (1–65535, or 0 for any free port)", options->port);
      return FALSE;
    }
  if ((options->tls_cert_file == NULL) != (options->tls_key_file == NULL))
    {
      g_set_error_literal (error, MT_SERVER_ERROR, MT_SERVER_ERROR_INVALID_OPTIONS,
                           "TLS needs both a certificate and a key file");
      return FALSE;
    }
  if (options->token != NULL && options->token[0] != '\0' && strlen (options->token) < 16)
    {
      g_set_error_literal (error, MT_SERVER_ERROR, MT_SERVER_ERROR_INVALID_OPTIONS,
                           "The access token is too short (at least 16 characters)");
      return FALSE;
    }
  /* It goes into the printed address and the page's cookie as it is. */
  if (options->token != NULL &&
      strspn (options->token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
      != strlen (options->token))
    {
      g_set_error_literal (error, MT_SERVER_ERROR, MT_SERVER_ERROR_INVALID_OPTIONS,
                           "The access token may hold only letters, digits and - . _ ~");
      return FALSE;
    }
  if (options->max_frame_bytes == 0 || options->max_body_bytes == 0 ||
      options->max_streams == 0 || options->max_connections_per_client == 0 ||
      options->max_connections == 0 || options->max_frames_per_second == 0 ||
      options->header_timeout_ms == 0 || options->response_timeout_ms == 0)
    {
      g_set_error_literal (error, MT_SERVER_ERROR, MT_SERVER_ERROR_INVALID_OPTIONS,
                           "Server limits must be larger than 0");
      return FALSE;
    }
  return TRUE;
}

static gboolean
set_listen_error (GError     **error,
                  GError      *listen_error,
                  const char  *address,
                  guint        port)
{
  if (g_error_matches (listen_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    g_set_error (error, MT_SERVER_ERROR, MT_SERVER_ERROR_ADDRESS_IN_USE,
                 "Port %u on %s is already in use (is another Moodtunes server running?); "
                 "choose another port", port, address);
  else
    g_set_error (error, MT_SERVER_ERROR, MT_SERVER_ERROR_LISTEN,
                 "Cannot listen on %s port %u: %s", address, port, listen_error->message);
  return FALSE;
}

static gboolean
listen_loopback (MtServer  *self,
                 GError   **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GInetAddress) v4 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GInetAddress) v6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) v4_address = g_inet_socket_address_new (v4, self->options->port);
  g_autoptr(GSocketAddress) v6_address = NULL;
  guint port = self->options->port;

  /* Both families, each on its own socket: hosts without an IPv6
   * loopback still serve IPv4. */
  if (!_mt_server_listener_add (self->listener, v4_address, &port, &local_error))
    return set_listen_error (error, local_error, "127.0.0.1", port);

  v6_address = g_inet_socket_address_new (v6, port);
  if (!_mt_server_listener_add (self->listener, v6_address, NULL, &local_error))
    {
      /* IPv4 works: a missing or taken ::1 only costs the IPv6 clients. */
      g_debug ("Not listening on [::1]:%u: %s", port, local_error->message);
      g_clear_error (&local_error);
    }
  self->port = port;
  return TRUE;
}

static gboolean
listen_address (MtServer  *self,
                GError   **error)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (self->options->listen);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) local_error = NULL;

  if (inet == NULL)
    {
      g_set_error (error, MT_SERVER_ERROR, MT_SERVER_ERROR_INVALID_OPTIONS,
                   "“%s” is not an IP address to listen on (for example 192.168.1.10, 0.0.0.0 or ::)",
                   self->options->listen);
      return FALSE;
    }
  address = g_inet_socket_address_new (inet, self->options->port);
  if (!_mt_server_listener_add (self->listener, address, &self->port, &local_error))
    return set_listen_error (error, local_error, self->options->listen, self->options->port);
  return TRUE;
}

gboolean
mt_server_start (MtServer  *self,
                 GError   **error)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) local_error = NULL;
  MtServerOptions *options;
  gboolean loopback;
  gboolean ok;

  g_return_val_if_fail (MT_IS_SERVER (self), FALSE);

  if (self->soup != NULL)
    return TRUE;

  options = self->options;
  if (!check_options (options, error))
    return FALSE;

  if (options->tls_cert_file != NULL)
    {
      certificate = g_tls_certificate_new_from_files (options->tls_cert_file,
                                                      options->tls_key_file, &local_error);
      if (certificate == NULL)
        {
          g_set_error (error, MT_SERVER_ERROR, MT_SERVER_ERROR_TLS,
                       "Cannot use the TLS certificate %s with key %s: %s",
                       options->tls_cert_file, options->tls_key_file, local_error->message);
          return FALSE;
        }
    }

  loopback = mt_server_address_is_loopback (options->listen);
  g_clear_pointer (&self->token, g_free);
  /* Any local program or account, sandboxed apps included, can reach
   * loopback: the token is needed there too unless turned off. */
  if (!loopback || options->require_token)
    self->token = options->token != NULL && options->token[0] != '\0'
                  ? g_strdup (options->token) : make_token ();
  g_clear_pointer (&self->address, g_free);
  self->address = g_strdup (loopback ? "127.0.0.1" : options->listen);
  self->tls = certificate != NULL;

  /* TLS is the listener's: it hands libsoup connections already secured. */
  self->soup = g_object_new (SOUP_TYPE_SERVER,
                             "server-header", "Moodtunes/" PACKAGE_VERSION " ",
                             NULL);
  self->context = g_main_context_ref_thread_default ();
  self->listener = _mt_server_listener_new (self, self->soup, certificate);
  self->security = _mt_server_security_new (self);
  _mt_server_security_attach (self->security, self->soup);
  self->streams = _mt_server_streams_new (self);
  _mt_server_streams_register (self->streams, self->soup);
  _mt_server_rest_register (self, self->soup);
  _mt_server_static_register (self, self->soup);

  if (loopback)
    ok = listen_loopback (self, error);
  else
    ok = listen_address (self, error);
  if (!ok)
    {
      mt_server_stop (self);
      return FALSE;
    }

  self->started_at = g_get_monotonic_time ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  return TRUE;
}

void
mt_server_stop (MtServer *self)
{
  gboolean was_running;

  g_return_if_fail (MT_IS_SERVER (self));

  if (self->soup == NULL)
    return;

  was_running = self->port != 0;
  /* Streams first: they say goodbye over connections that still exist. */
  g_clear_pointer (&self->streams, _mt_server_streams_free);
  soup_server_disconnect (self->soup);
  g_clear_pointer (&self->listener, _mt_server_listener_free);
  g_clear_pointer (&self->security, _mt_server_security_free);
  g_clear_object (&self->soup);
  g_clear_pointer (&self->context, g_main_context_unref);
  self->port = 0;

  if (was_running)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_STREAMS]);
    }
}

gboolean
mt_server_is_running (MtServer *self)
{
  g_return_val_if_fail (MT_IS_SERVER (self), FALSE);
  return self->soup != NULL && self->port != 0;
}

guint
mt_server_get_port (MtServer *self)
{
  g_return_val_if_fail (MT_IS_SERVER (self), 0);
  return self->port;
}

const char *
mt_server_get_address (MtServer *self)
{
  g_return_val_if_fail (MT_IS_SERVER (self), NULL);
  if (self->address != NULL)
    return self->address;
  return mt_server_address_is_loopback (self->options->listen) ? "127.0.0.1" : self->options->listen;
}

const char *
mt_server_get_token (MtServer *self)
{
  g_return_val_if_fail (MT_IS_SERVER (self), NULL);
  return self->token;
}

char *
mt_server_dup_url (MtServer *self)
{
  const char *address;
  g_autofree char *host = NULL;

  g_return_val_if_fail (MT_IS_SERVER (self), NULL);

  if (!mt_server_is_running (self))
    return NULL;

  address = mt_server_get_address (self);
  /* A wildcard address is not somewhere a browser can go: show loopback. */
  if (g_str_equal (address, "0.0.0.0") || g_str_equal (address, "::"))
    address = "127.0.0.1";
  host = strchr (address, ':') != NULL ? g_strdup_printf ("[%s]", address) : g_strdup (address);
  return g_strdup_printf ("%s://%s:%u/%s%s", self->tls ? "https" : "http", host, self->port,
                          self->token != NULL ? "?token=" : "",
                          self->token != NULL ? self->token : "");
}

guint
mt_server_get_n_streams (MtServer *self)
{
  g_return_val_if_fail (MT_IS_SERVER (self), 0);
  return self->streams != NULL ? _mt_server_streams_get_n (self->streams) : 0;
}

guint
mt_server_get_n_connections (MtServer *self)
{
  g_return_val_if_fail (MT_IS_SERVER (self), 0);
  return _mt_server_listener_get_n_connections (self->listener);
}

MtSession *
mt_server_get_session (MtServer *self)
{
  g_return_val_if_fail (MT_IS_SERVER (self), NULL);
  return self->session;
}

void
_mt_server_notify_n_streams (MtServer *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_STREAMS]);
}
