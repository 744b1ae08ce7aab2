/* mt-test-clip.c: video frames through gst-launch-1.0, so tests need no
 * GStreamer build dependency. */
#define G_LOG_DOMAIN "mt-test-clip"

#include "config.h"

#include <glib/gstdio.h>

#include "mt-test-clip.h"

static void
remove_folder (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

GPtrArray *
mt_test_clip_decode (const char  *video_path,
                     GError     **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *location = NULL;
  g_autofree char *src = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) mt_image_free);
  g_autoptr(GDir) handle = NULL;
  const char *name;
  int status = 0;

  if (!g_file_test (video_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "No video clip at “%s”", video_path);
      return NULL;
    }

  dir = g_dir_make_tmp ("mt-clip-XXXXXX", error);
  if (dir == NULL)
    return NULL;

  src = g_strdup_printf ("location=%s", video_path);
  location = g_strdup_printf ("location=%s/frame-%%05d.png", dir);
  {
    /* Arguments, not a shell line: paths need no quoting. */
    const char *argv[] = {
      "gst-launch-1.0", "-q", "filesrc", src, "!", "decodebin", "!", "videoconvert", "!",
      "video/x-raw,format=RGB", "!", "pngenc", "compression-level=1", "!",
      "multifilesink", location, NULL,
    };

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                       &out, &err, &status, error))
      {
        remove_folder (dir);
        return NULL;
      }
  }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                   "gst-launch-1.0 could not decode “%s”: %s", video_path, err);
      remove_folder (dir);
      return NULL;
    }

  handle = g_dir_open (dir, 0, error);
  if (handle == NULL)
    {
      remove_folder (dir);
      return NULL;
    }
  while ((name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (names, g_build_filename (dir, name, NULL));
  g_clear_pointer (&handle, g_dir_close);
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      MtImage *image = mt_image_load (g_ptr_array_index (names, i), error);

      if (image == NULL)
        {
          remove_folder (dir);
          return NULL;
        }
      g_ptr_array_add (frames, image);
    }
  remove_folder (dir);

  if (frames->len == 0)
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                   "gst-launch-1.0 decoded no frame from “%s”", video_path);
      return NULL;
    }
  return g_steal_pointer (&frames);
}
