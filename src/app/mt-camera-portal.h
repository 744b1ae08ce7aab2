/* mt-camera-portal.h: cameras inside a Flatpak sandbox come through the
 * Camera portal: it asks the user, then hands over a PipeWire remote (a file
 * descriptor) that pipewiresrc reads. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* TRUE inside a Flatpak sandbox, where devices are reached through portals. */
gboolean mt_camera_portal_is_needed    (void);
void     mt_camera_portal_open_async   (GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
/* The PipeWire remote's file descriptor (the caller closes it), -1 with
 * @error set when access was denied or the portal failed. */
int      mt_camera_portal_open_finish  (GAsyncResult        *result,
                                        GError             **error);

G_END_DECLS
