/* mt-demo-camera.h: a camera for people without one: the shipped demo
 * picture (a smiling face), slowly panned so that it looks alive. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* The data file the demo camera shows (see data/demo/README.md). */
#define MT_DEMO_CAMERA_PICTURE "demo/astronaut.jpg"

/* A source bin with one "src" pad giving 640x480 live video at 30 frames
 * per second, or NULL with @error set (picture or elements missing). */
GstElement *mt_demo_camera_make_source (GError **error);

G_END_DECLS
