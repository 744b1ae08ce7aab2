/* mt-camera-portal.c: org.freedesktop.portal.Camera: AccessCamera, wait for
 * the request's Response, then OpenPipeWireRemote. */
#define G_LOG_DOMAIN "mt-camera-portal"

#include "config.h"

#include <glib/gi18n.h>
#include <gio/gunixfdlist.h>

#include "mt-camera-portal.h"

#define PORTAL_NAME      "org.freedesktop.portal.Desktop"
#define PORTAL_PATH      "/org/freedesktop/portal/desktop"
#define CAMERA_INTERFACE "org.freedesktop.portal.Camera"
#define REQUEST_INTERFACE "org.freedesktop.portal.Request"

typedef struct {
  GDBusConnection *bus;
  guint            response_id;
} Request;

static void
request_free (gpointer data)
{
  Request *request = data;

  if (request->response_id != 0)
    g_dbus_connection_signal_unsubscribe (request->bus, request->response_id);
  g_clear_object (&request->bus);
  g_free (request);
}

gboolean
mt_camera_portal_is_needed (void)
{
  return g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
}

static void
open_remote_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      data)
{
  g_autoptr(GTask) task = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = NULL;
  gint32 index;
  int fd;

  reply = g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (object), &fds, result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_variant_get (reply, "(h)", &index);
  fd = fds != NULL ? g_unix_fd_list_get (fds, index, &error) : -1;
  if (fd < 0)
    {
      if (error == NULL)
        error = g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, "the camera portal sent no PipeWire remote");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_int (task, fd);
}

static void
response_cb (GDBusConnection *bus,
             const char      *sender,
             const char      *path,
             const char      *interface,
             const char      *signal,
             GVariant        *parameters,
             gpointer         data)
{
  GTask *task = data;
  Request *request = g_task_get_task_data (task);
  guint32 response;

  g_dbus_connection_signal_unsubscribe (bus, request->response_id);
  request->response_id = 0;
  g_variant_get (parameters, "(u@a{sv})", &response, NULL);
  if (response != 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                               _("Camera access was not allowed: it can be allowed in the system settings "
                                 "under Privacy"));
      g_object_unref (task);
      return;
    }
  g_dbus_connection_call_with_unix_fd_list (bus, PORTAL_NAME, PORTAL_PATH, CAMERA_INTERFACE,
                                            "OpenPipeWireRemote", g_variant_new ("(a{sv})", NULL),
                                            G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                            g_task_get_cancellable (task), open_remote_cb, task);
}

static void
access_camera_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      data)
{
  GTask *task = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
    }
  /* Else the Response signal carries on. */
}

void
mt_camera_portal_open_async (GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  Request *request = g_new0 (Request, 1);
  g_autofree char *sender = NULL;
  g_autofree char *token = NULL;
  g_autofree char *path = NULL;
  GVariantBuilder options;

  g_task_set_source_tag (task, mt_camera_portal_open_async);
  g_task_set_task_data (task, request, request_free);
  request->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, cancellable, &error);
  if (request->bus == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  /* The request object's path is known in advance: subscribe before asking,
   * so that a quick answer is not missed. */
  sender = g_strdup (g_dbus_connection_get_unique_name (request->bus) + 1);
  g_strdelimit (sender, ".", '_');
  token = g_strdup_printf ("moodtunes%u", g_random_int ());
  path = g_strdup_printf (PORTAL_PATH "/request/%s/%s", sender, token);
  request->response_id = g_dbus_connection_signal_subscribe (request->bus, PORTAL_NAME, REQUEST_INTERFACE,
                                                             "Response", path, NULL,
                                                             G_DBUS_SIGNAL_FLAGS_NONE,
                                                             response_cb, task, NULL);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "handle_token", g_variant_new_string (token));
  g_dbus_connection_call (request->bus, PORTAL_NAME, PORTAL_PATH, CAMERA_INTERFACE, "AccessCamera",
                          g_variant_new ("(a{sv})", &options), G_VARIANT_TYPE ("(o)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, cancellable, access_camera_cb, task);
}

int
mt_camera_portal_open_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), -1);
  return (int) g_task_propagate_int (G_TASK (result), error);
}
