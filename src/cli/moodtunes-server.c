/* moodtunes-server: the local REST + WebSocket server without the desktop app.
 *
 *   moodtunes-server [--port N] [--db FILE] [--listen ADDRESS]
 *                    [--tls-cert FILE --tls-key FILE] [--token TOKEN] …
 *
 * Prints the companion page's address (with the access token when one is
 * needed) and serves until SIGINT or SIGTERM.  Needs no display.
 * Exit status: 0 stopped by a signal, 1 could not start, 2 bad usage.
 */
#define G_LOG_DOMAIN "moodtunes-server"

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <glib-unix.h>

#include "mt-library.h"
#include "mt-model-manifest.h"
#include "mt-server.h"

#define EXIT_USAGE 2
#define SCHEMA_ID MT_APP_ID

static int port = -1;
static char *db_path;
static char *listen_address;
static char *tls_cert;
static char *tls_key;
static char *token;
static gboolean require_token;
static gboolean no_require_token;
static char *models_dir;
static char *model;
static int workers;
static int max_streams;
static int max_connections;
static int max_connections_total;
static int max_fps;
static char *strategy;
static gboolean no_settings;
static gboolean version;

/* Not const: the --model text lists the manifest's models (main()). */
static GOptionEntry option_entries[] = {
  { "port", 'p', 0, G_OPTION_ARG_INT, &port, "TCP port (default 8765, or the app's setting; 0: any free port)", "N" },
  { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path, "Music library database (default: the app's)", "FILE" },
  { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen_address, "Listen on ADDRESS instead of loopback (the access token is then always needed)", "ADDRESS" },
  { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "Serve https/wss with this PEM certificate", "FILE" },
  { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "The certificate's PEM private key", "FILE" },
  { "token", 0, 0, G_OPTION_ARG_STRING, &token, "Access token (default: the stored one, or a new one)", "TOKEN" },
  { "require-token", 0, 0, G_OPTION_ARG_NONE, &require_token, "Require the access token on loopback too (the default, unless the app's settings turn it off)", NULL },
  { "no-require-token", 0, 0, G_OPTION_ARG_NONE, &no_require_token, "Loopback only: serve without the access token (any program or account on this computer can then use the server)", NULL },
  { "models-dir", 0, 0, G_OPTION_ARG_FILENAME, &models_dir, "Folder of the face and expression models", "DIR" },
  { "model", 'm', 0, G_OPTION_ARG_STRING, &model, "Expression model, one of the models manifest's", "NAME" },
  { "workers", 'w', 0, G_OPTION_ARG_INT, &workers, "Analysis threads (default: one per processor)", "N" },
  { "max-streams", 0, 0, G_OPTION_ARG_INT, &max_streams, "WebSocket streams at once (default 64)", "N" },
  { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections_total, "Open connections in all (default 512, fewer when the descriptor limit leaves fewer)", "N" },
  { "max-connections-per-client", 0, 0, G_OPTION_ARG_INT, &max_connections, "Open connections per client address (default 32)", "N" },
  { "max-frames-per-second", 0, 0, G_OPTION_ARG_INT, &max_fps, "A stream sending more is closed (default 60)", "N" },
  { "strategy", 's', 0, G_OPTION_ARG_STRING, &strategy, "Recommendations: match or lift", "NAME" },
  { "no-settings", 0, 0, G_OPTION_ARG_NONE, &no_settings, "Ignore the desktop app's settings", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
  { NULL }
};

static GSettings *
open_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (no_settings || source == NULL)
    return NULL;
  schema = g_settings_schema_source_lookup (source, SCHEMA_ID, TRUE);
  return schema != NULL ? g_settings_new (SCHEMA_ID) : NULL;
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static int
usage_error (const char *message)
{
  g_printerr ("moodtunes-server: %s (see --help)\n", message);
  return EXIT_USAGE;
}

/* The models of the default folders (installed and the user's, or
 * $MT_MODELS_DIR's), so --help shows what this installation offers. */
static char *
describe_model_option (void)
{
  g_autoptr(MtModelManifest) manifest = mt_model_manifest_open (NULL, NULL);
  g_autofree char *models = manifest != NULL ? mt_model_manifest_describe_models (manifest) : NULL;

  if (models == NULL)
    return g_strdup ("Expression model, one of the models manifest's (" MT_MODEL_MANIFEST_FILE ")");
  return g_strdup_printf ("Expression model (the app's setting, else the default): %s", models);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(MtServerOptions) options = NULL;
  g_autoptr(MtLibrary) library = NULL;
  g_autoptr(MtSession) session = NULL;
  g_autoptr(MtServer) server = NULL;
  MtStrategy chosen_strategy = MT_STRATEGY_MATCH;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *default_db = NULL;
  g_autofree char *url = NULL;
  g_autofree char *model_help = NULL;

  setlocale (LC_ALL, "");

  model_help = describe_model_option ();
  for (guint i = 0; option_entries[i].long_name != NULL; i++)
    if (g_str_equal (option_entries[i].long_name, "model"))
      option_entries[i].description = model_help;

  context = g_option_context_new ("- serve the Moodtunes REST and WebSocket API and the companion page");
  g_option_context_add_main_entries (context, option_entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);
  if (version)
    {
      g_print ("moodtunes-server %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  if (argc > 1)
    return usage_error ("unexpected arguments");
  if (port > 65535 || port < -1)
    return usage_error ("--port must be from 0 to 65535");
  if (workers < 0 || workers > 256 || max_streams < 0 || max_connections < 0 || max_connections_total < 0 ||
      max_fps < 0)
    return usage_error ("limits must be positive numbers");
  if (require_token && no_require_token)
    return usage_error ("--require-token and --no-require-token contradict each other");

  options = mt_server_options_new ();
  settings = open_settings ();
  if (settings != NULL)
    mt_server_options_load_settings (options, settings);

  if (port >= 0)
    options->port = (guint) port;
  if (listen_address != NULL)
    {
      g_free (options->listen);
      options->listen = g_strdup (listen_address);
    }
  if (token != NULL)
    {
      g_free (options->token);
      options->token = g_strdup (token);
    }
  /* The command line over the settings over the default (required). */
  if (require_token)
    options->require_token = TRUE;
  else if (no_require_token)
    options->require_token = FALSE;
  options->tls_cert_file = g_strdup (tls_cert);
  options->tls_key_file = g_strdup (tls_key);
  options->models_dir = g_strdup (models_dir);
  /* The command line over the app's setting over the manifest's default. */
  if (model != NULL)
    {
      g_free (options->model);
      options->model = g_strdup (model);
    }
  options->n_workers = (guint) workers;
  if (max_streams > 0)
    options->max_streams = (guint) max_streams;
  if (max_connections > 0)
    options->max_connections_per_client = (guint) max_connections;
  if (max_connections_total > 0)
    options->max_connections = (guint) max_connections_total;
  if (max_fps > 0)
    options->max_frames_per_second = (guint) max_fps;
  if (settings != NULL)
    chosen_strategy = (MtStrategy) g_settings_get_enum (settings, "strategy");
  if (strategy != NULL && !mt_strategy_from_string (strategy, &chosen_strategy))
    return usage_error ("--strategy must be match or lift");

  if (db_path == NULL)
    db_path = default_db = mt_library_dup_default_path ();
  library = mt_library_open (db_path, &error);
  if (library == NULL)
    {
      g_printerr ("moodtunes-server: cannot open the music library %s: %s\n", db_path, error->message);
      return EXIT_FAILURE;
    }

  /* Headless: a session of its own, made as the app makes its one. */
  session = mt_session_new (library, NULL);
  mt_session_set_strategy (session, chosen_strategy);
  server = mt_server_new (session, options);
  if (!mt_server_start (server, &error))
    {
      g_printerr ("moodtunes-server: %s\n", error->message);
      return EXIT_FAILURE;
    }

  /* A token made now is kept, so the printed address stays valid. */
  if (settings != NULL && mt_server_get_token (server) != NULL && token == NULL)
    {
      g_autofree char *stored = g_settings_get_string (settings, "server-token");
      if (stored[0] == '\0')
        g_settings_set_string (settings, "server-token", mt_server_get_token (server));
    }

  url = mt_server_dup_url (server);
  g_print ("Moodtunes server listening on %s\n", url);
  if (mt_server_get_token (server) != NULL)
    g_print ("Every request needs the access token: open the address above once in the browser, "
             "or send \"Authorization: Bearer %s\".\n", mt_server_get_token (server));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);

  mt_server_stop (server);
  g_settings_sync ();
  return EXIT_SUCCESS;
}
