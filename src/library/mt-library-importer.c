#define G_LOG_DOMAIN "mt-library-importer"

#include "config.h"

#include <string.h>

#include "mt-library-importer.h"
#include "mt-main-context.h"
#include "mt-tag-reader.h"

struct _MtLibraryImporter
{
  GObject       parent_instance;
  MtLibrary    *library;   /* told of the import's writes at its end */
  char         *db_path;
  MtMoodRules  *rules;
  guint         batch_size;
  guint         timeout_s;
};

G_DEFINE_FINAL_TYPE (MtLibraryImporter, mt_library_importer, G_TYPE_OBJECT)

enum { PROGRESS, N_SIGNALS };
static guint signals[N_SIGNALS];

MtImportSkip *
mt_import_skip_new (const char *path,
                    const char *reason)
{
  MtImportSkip *skip = g_new0 (MtImportSkip, 1);

  skip->path = g_strdup (path);
  skip->reason = g_strdup (reason);
  return skip;
}

void
mt_import_skip_free (gpointer data)
{
  MtImportSkip *skip = data;

  if (skip == NULL)
    return;
  g_free (skip->path);
  g_free (skip->reason);
  g_free (skip);
}

GPtrArray *
mt_import_skips_copy (const GPtrArray *skips)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func (mt_import_skip_free);

  for (guint i = 0; skips != NULL && i < skips->len; i++)
    {
      const MtImportSkip *skip = g_ptr_array_index ((GPtrArray *) skips, i);
      g_ptr_array_add (copy, mt_import_skip_new (skip->path, skip->reason));
    }
  return copy;
}

static MtImportReport *
import_report_new (void)
{
  MtImportReport *report = g_new0 (MtImportReport, 1);
  report->skips = g_ptr_array_new_with_free_func (mt_import_skip_free);
  return report;
}

MtImportReport *
mt_import_report_copy (const MtImportReport *report)
{
  MtImportReport *copy;

  g_return_val_if_fail (report != NULL, NULL);

  copy = g_memdup2 (report, sizeof *report);
  copy->skips = mt_import_skips_copy (report->skips);
  return copy;
}

void
mt_import_report_free (MtImportReport *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->skips, g_ptr_array_unref);
  g_free (report);
}

G_DEFINE_BOXED_TYPE (MtImportReport, mt_import_report, mt_import_report_copy, mt_import_report_free)

gboolean
mt_library_is_audio_file_name (const char *name)
{
  static const char * const extensions[] = {
    "mp3", "ogg", "oga", "opus", "flac", "m4a", "m4b", "aac", "wav", "wma", "mka",
    "webm", "spx", "ape", "wv", "mpc", "aif", "aiff", "mp2",
  };
  const char *dot;

  if (name == NULL || !(dot = strrchr (name, '.')) || dot == name)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (extensions); i++)
    if (g_ascii_strcasecmp (dot + 1, extensions[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
mt_library_importer_finalize (GObject *object)
{
  MtLibraryImporter *self = (MtLibraryImporter *) object;

  g_clear_object (&self->library);
  g_clear_object (&self->rules);
  g_clear_pointer (&self->db_path, g_free);
  G_OBJECT_CLASS (mt_library_importer_parent_class)->finalize (object);
}

static void
mt_library_importer_class_init (MtLibraryImporterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mt_library_importer_finalize;

  /**
   * MtLibraryImporter::progress:
   * @report: the counts so far (files seen, imported, skipped…)
   *
   * Emitted now and then while importing, and once at the end.
   */
  signals[PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                    MT_TYPE_IMPORT_REPORT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
mt_library_importer_init (MtLibraryImporter *self)
{
  self->batch_size = 64;
  self->timeout_s = 5;
}

MtLibraryImporter *
mt_library_importer_new (MtLibrary *library)
{
  MtLibraryImporter *self;

  g_return_val_if_fail (MT_IS_LIBRARY (library), NULL);

  self = g_object_new (MT_TYPE_LIBRARY_IMPORTER, NULL);
  self->library = g_object_ref (library);
  self->db_path = g_strdup (mt_library_get_path (library));
  return self;
}

void
mt_library_importer_set_batch_size (MtLibraryImporter *self,
                                    guint              batch_size)
{
  g_return_if_fail (MT_IS_LIBRARY_IMPORTER (self));
  self->batch_size = MAX (batch_size, 1u);
}

void
mt_library_importer_set_timeout (MtLibraryImporter *self,
                                 guint              seconds)
{
  g_return_if_fail (MT_IS_LIBRARY_IMPORTER (self));
  self->timeout_s = MAX (seconds, 1u);
}

void
mt_library_importer_set_rules (MtLibraryImporter *self,
                               MtMoodRules       *rules)
{
  g_return_if_fail (MT_IS_LIBRARY_IMPORTER (self));
  g_set_object (&self->rules, rules);
}

/* @context: where to emit when importing in a worker thread, NULL to emit
 * right here. */
static void
emit_progress (MtLibraryImporter    *self,
               GMainContext         *context,
               const MtImportReport *report)
{
  MtImportReport counts = *report;

  /* The receiver wants counts, not a copy of every skip so far. */
  counts.skips = NULL;
  mt_main_context_emit_boxed (context, self, signals[PROGRESS], MT_TYPE_IMPORT_REPORT, &counts);
}

/* What a rescan needs to know of a song already in the library. */
/* What became of a song whose file was not found at its path. */
typedef enum {
  VANISHED_GONE,         /* in a folder that is there: missing, forgotten after the grace period */
  VANISHED_UNREACHABLE,  /* in a folder that is not there (a drive not mounted): missing, kept */
  VANISHED_ELSEWHERE,    /* missing since an earlier scan, not under the folders scanned now */
} VanishedState;

typedef struct {
  gint64        id;
  gint64        size;
  gint64        mtime;
  gint64        missing_since;
  char         *uri;
  char         *move_key;   /* see move_key_for() */
  gboolean      seen;
  VanishedState state;
} KnownSong;

static void
known_song_free (gpointer data)
{
  KnownSong *known = data;
  g_free (known->uri);
  g_free (known->move_key);
  g_free (known);
}

/* A file that moved has the same tags and length (or, untagged, the same
 * name and size); that is how its history follows it. */
static char *
move_key_for (const MtSong *song)
{
  if (song->title != NULL)
    {
      g_autofree char *key = g_strdup_printf ("t\x1f%s\x1f%s\x1f%s\x1f%" G_GINT64_FORMAT,
                                              song->title, song->artist ? song->artist : "",
                                              song->album ? song->album : "",
                                              (song->duration_ms + 500) / 1000);
      return g_utf8_casefold (key, -1);
    }
  else
    {
      g_autoptr(GFile) file = g_file_new_for_uri (song->uri);
      g_autofree char *basename = g_file_get_basename (file);
      return g_strdup_printf ("f\x1f%s\x1f%" G_GINT64_FORMAT, basename ? basename : "", song->size);
    }
}

typedef struct {
  char   *uri;
  char   *path;
  gint64  size;
  gint64  mtime;
  gint64  known_id;   /* 0 for a file new to the library */
  gboolean was_missing;
} WorkItem;

static void
work_item_free (gpointer data)
{
  WorkItem *item = data;
  g_free (item->uri);
  g_free (item->path);
  g_free (item);
}

static void
add_skip (MtImportReport *report,
          const char     *path,
          const char     *reason)
{
  g_ptr_array_add (report->skips, mt_import_skip_new (path, reason));
  report->skipped++;
}

typedef struct {
  MtLibraryImporter *self;
  MtImportReport    *report;
  GHashTable        *known;        /* uri -> KnownSong */
  GHashTable        *visited_dirs; /* "dev:inode" strings: symlink loops */
  GPtrArray         *work;         /* of WorkItem */
  /* Folder URIs, each ending in '/'.  A folder that could not be read is
   * not an empty one: its songs stay as they are.  A folder that is not
   * there (a link to a drive not mounted) has its songs marked missing, but
   * never forgotten on a rescan. */
  GPtrArray         *unreadable;
  GPtrArray         *unreachable;
  GArray            *found_again;  /* ids of missing songs whose unchanged files are back */
  GCancellable      *cancellable;
  GMainContext      *context;
} Scan;

/* The URI of a folder with a final '/', to test what lies under it. */
static char *
folder_prefix (GFile *folder)
{
  g_autofree char *uri = g_file_get_uri (folder);

  return g_str_has_suffix (uri, "/") ? g_steal_pointer (&uri) : g_strconcat (uri, "/", NULL);
}

static gboolean
is_under_any (const char *uri,
              GPtrArray  *prefixes)
{
  for (guint i = 0; i < prefixes->len; i++)
    if (g_str_has_prefix (uri, g_ptr_array_index (prefixes, i)))
      return TRUE;
  return FALSE;
}

static gboolean
walk_folder (Scan        *scan,
             GFile       *root,
             GError     **error)
{
  g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func (g_object_unref);

  g_ptr_array_add (stack, g_object_ref (root));
  while (stack->len > 0)
    {
      g_autoptr(GFile) dir = g_ptr_array_steal_index (stack, stack->len - 1);
      g_autoptr(GFileEnumerator) children = NULL;
      g_autoptr(GFileInfo) dir_info = NULL;
      g_autoptr(GError) local_error = NULL;
      const char *dir_id;

      if (g_cancellable_set_error_if_cancelled (scan->cancellable, error))
        return FALSE;

      dir_info = g_file_query_info (dir, G_FILE_ATTRIBUTE_ID_FILE, G_FILE_QUERY_INFO_NONE, NULL, NULL);
      dir_id = dir_info ? g_file_info_get_attribute_string (dir_info, G_FILE_ATTRIBUTE_ID_FILE) : NULL;
      if (dir_id != NULL)
        {
          if (g_hash_table_contains (scan->visited_dirs, dir_id))
            continue;
          g_hash_table_add (scan->visited_dirs, g_strdup (dir_id));
        }

      children = g_file_enumerate_children (dir,
                                            G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                            G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                                            G_FILE_ATTRIBUTE_STANDARD_SIZE ","
                                            G_FILE_ATTRIBUTE_TIME_MODIFIED,
                                            G_FILE_QUERY_INFO_NONE, scan->cancellable, &local_error);
      if (children == NULL)
        {
          g_autofree char *path = g_file_get_path (dir);

          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          add_skip (scan->report, path ? path : "?", local_error->message);
          g_ptr_array_add (scan->unreadable, folder_prefix (dir));
          continue;
        }

      for (;;)
        {
          GFileInfo *info = NULL;
          GFile *child = NULL;
          const char *name;

          if (!g_file_enumerator_iterate (children, &info, &child, scan->cancellable, &local_error))
            {
              g_autofree char *path = g_file_get_path (dir);

              if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                {
                  g_propagate_error (error, g_steal_pointer (&local_error));
                  return FALSE;
                }
              /* Listed in part: what was not listed may well be there. */
              add_skip (scan->report, path ? path : "?", local_error->message);
              g_ptr_array_add (scan->unreadable, folder_prefix (dir));
              break;
            }
          if (info == NULL)
            break;

          name = g_file_info_get_name (info);
          if (name[0] == '.')
            continue;  /* hidden files and folders, as file managers do */

          if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
            g_ptr_array_add (stack, g_object_ref (child));
          else if (g_file_info_get_file_type (info) == G_FILE_TYPE_SYMBOLIC_LINK)
            /* Links are followed, so only a dangling one says "link": maybe
             * a folder on a drive that is not mounted now. */
            g_ptr_array_add (scan->unreachable, folder_prefix (child));
          else if (g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR &&
                   mt_library_is_audio_file_name (name))
            {
              g_autofree char *uri = g_file_get_uri (child);
              gint64 size = g_file_info_get_size (info);
              gint64 mtime = (gint64) g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED);
              KnownSong *known = g_hash_table_lookup (scan->known, uri);

              scan->report->files_seen++;
              if (known != NULL)
                known->seen = TRUE;
              if (known != NULL && known->size == size && known->mtime == mtime)
                {
                  scan->report->unchanged++;
                  if (known->missing_since != 0)
                    g_array_append_val (scan->found_again, known->id);
                }
              else
                {
                  WorkItem *item = g_new0 (WorkItem, 1);

                  item->uri = g_steal_pointer (&uri);
                  item->path = g_file_get_path (child);
                  item->size = size;
                  item->mtime = mtime;
                  item->known_id = known ? known->id : 0;
                  item->was_missing = known && known->missing_since != 0;
                  g_ptr_array_add (scan->work, item);
                }
              if (scan->report->files_seen % 500 == 0)
                emit_progress (scan->self, scan->context, scan->report);
            }
        }
    }
  return TRUE;
}

static gboolean
store_rule_moods (MtLibraryImporter  *self,
                  MtLibrary          *library,
                  const MtSong       *song,
                  GError            **error)
{
  double weights[MT_N_MOODS];

  mt_mood_rules_apply (self->rules, song, weights);
  return mt_library_set_mood_weights (library, song->id, MT_MOOD_SOURCE_RULE, weights, error);
}

static int
compare_work_items (gconstpointer a,
                    gconstpointer b)
{
  const WorkItem *wa = *(const WorkItem * const *) a;
  const WorkItem *wb = *(const WorkItem * const *) b;
  return strcmp (wa->uri, wb->uri);
}

/* Tag reading runs in a few threads, each talking to its own helper
 * process, so an import uses the machine's cores; the results are stored
 * by one thread, in order. */
typedef struct {
  guint   index;
  MtSong *song;
  GError *error;
} ReadResult;

static void
read_result_free (ReadResult *result)
{
  mt_song_free (result->song);
  g_clear_error (&result->error);
  g_free (result);
}

typedef struct {
  GPtrArray   *work;          /* of WorkItem, read only */
  GThreadPool *threads;
  GAsyncQueue *idle_readers;  /* MtTagReader */
  GPtrArray   *readers;
  GAsyncQueue *results;       /* ReadResult */
  GHashTable  *ready;         /* index -> ReadResult that came early */
  guint        next_submit;
  guint        next_result;
  guint        window;
} ReadPool;

static void
read_one (gpointer data,
          gpointer user_data)
{
  ReadPool *pool = user_data;
  ReadResult *result = g_new0 (ReadResult, 1);
  WorkItem *item;
  MtTagReader *reader;

  result->index = GPOINTER_TO_UINT (data) - 1;
  item = g_ptr_array_index (pool->work, result->index);
  result->song = mt_song_new ();
  result->song->uri = g_strdup (item->uri);
  result->song->size = item->size;
  result->song->mtime = item->mtime;

  reader = g_async_queue_pop (pool->idle_readers);
  mt_tag_reader_read (reader, item->uri, result->song, &result->error);
  g_async_queue_push (pool->idle_readers, reader);
  g_async_queue_push (pool->results, result);
}

static ReadPool *
read_pool_new (GPtrArray *work,
               guint      timeout_s)
{
  ReadPool *pool = g_new0 (ReadPool, 1);
  guint n = CLAMP (g_get_num_processors (), 1u, 4u);

  n = MAX (MIN (n, work->len), 1u);
  pool->work = work;
  pool->idle_readers = g_async_queue_new ();
  pool->readers = g_ptr_array_new_with_free_func (g_object_unref);
  pool->results = g_async_queue_new ();
  pool->ready = g_hash_table_new (NULL, NULL);
  pool->window = n * 4;
  for (guint i = 0; i < n; i++)
    {
      /* Helpers start on first use: a small rescan starts few. */
      MtTagReader *reader = mt_tag_reader_new ();

      mt_tag_reader_set_timeout (reader, timeout_s);
      g_ptr_array_add (pool->readers, reader);
      g_async_queue_push (pool->idle_readers, reader);
    }
  pool->threads = g_thread_pool_new (read_one, pool, (int) n, FALSE, NULL);
  return pool;
}

/* Queues more files, keeping a bounded number in flight. */
static void
read_pool_submit (ReadPool *pool)
{
  while (pool->next_submit < pool->work->len && pool->next_submit - pool->next_result < pool->window)
    {
      g_thread_pool_push (pool->threads, GUINT_TO_POINTER (pool->next_submit + 1), NULL);
      pool->next_submit++;
    }
}

/* The result for the next file in order; NULL when all queued are done. */
static ReadResult *
read_pool_next (ReadPool *pool)
{
  ReadResult *result;

  if (pool->next_result >= pool->next_submit)
    return NULL;
  while (!(result = g_hash_table_lookup (pool->ready, GUINT_TO_POINTER (pool->next_result + 1))))
    {
      ReadResult *arrived = g_async_queue_pop (pool->results);
      g_hash_table_insert (pool->ready, GUINT_TO_POINTER (arrived->index + 1), arrived);
    }
  g_hash_table_remove (pool->ready, GUINT_TO_POINTER (pool->next_result + 1));
  pool->next_result++;
  return result;
}

/* Waits for the files being read, drops unused results; returns how many
 * times helpers were restarted. */
static guint
read_pool_free (ReadPool *pool)
{
  GHashTableIter iter;
  ReadResult *result;
  guint restarts = 0;

  g_thread_pool_free (pool->threads, TRUE, TRUE);
  while ((result = g_async_queue_try_pop (pool->results)))
    read_result_free (result);
  g_hash_table_iter_init (&iter, pool->ready);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &result))
    read_result_free (result);
  g_hash_table_unref (pool->ready);
  for (guint i = 0; i < pool->readers->len; i++)
    restarts += mt_tag_reader_get_n_restarts (g_ptr_array_index (pool->readers, i));
  while (g_async_queue_try_pop (pool->idle_readers))
    ;
  g_async_queue_unref (pool->idle_readers);
  g_async_queue_unref (pool->results);
  g_ptr_array_unref (pool->readers);
  g_free (pool);
  return restarts;
}

/* Writes what was read of one file, inside the batch's transaction. */
static gboolean
store_result (MtLibraryImporter  *self,
              MtLibrary          *library,
              ReadResult         *result,
              const WorkItem     *item,
              GHashTable         *vanished_by_key,
              MtImportReport     *report,
              GError            **error)
{
  MtSong *song = result->song;

  report->files_read++;
  if (result->error != NULL)
    {
      if (g_error_matches (result->error, MT_TAG_READER_ERROR, MT_TAG_READER_ERROR_HELPER))
        {
          g_propagate_error (error, g_steal_pointer (&result->error));
          return FALSE;
        }
      add_skip (report, item->path, result->error->message);
      return TRUE;
    }
  else
    {
      g_autofree char *key = move_key_for (song);
      GQueue *same_key = item->known_id == 0 ? g_hash_table_lookup (vanished_by_key, key) : NULL;
      KnownSong *moved_from = same_key ? g_queue_pop_head (same_key) : NULL;

      if (item->known_id != 0 || moved_from != NULL)
        {
          song->id = item->known_id != 0 ? item->known_id : moved_from->id;
          if (!mt_library_update_song (library, song, error) ||
              !store_rule_moods (self, library, song, error))
            return FALSE;
          if (moved_from != NULL)
            {
              moved_from->seen = TRUE;   /* found again: not missing */
              report->moved++;
              if (moved_from->missing_since != 0)
                report->restored++;
            }
          else
            {
              report->updated++;
              if (item->was_missing)
                report->restored++;
            }
        }
      else
        {
          if ((song->id = mt_library_add_song (library, song, error)) == 0 ||
              !store_rule_moods (self, library, song, error))
            return FALSE;
          report->imported++;
        }
    }
  return TRUE;
}

/* The end of a rescan, in one short transaction: missing songs whose files
 * are back are marked so; songs whose files were not found are marked
 * missing, and forgotten only when they have been gone from a folder that is
 * there for the grace period. */
static gboolean
store_vanished (MtLibrary      *library,
                GArray         *found_again,
                GPtrArray      *vanished,
                MtImportReport *report,
                GError        **error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 forget_before = now - (gint64) MT_LIBRARY_MISSING_GRACE_DAYS * 24 * 3600;

  if (found_again->len == 0 && vanished->len == 0)
    return TRUE;
  if (!mt_library_begin (library, error))
    return FALSE;
  for (guint i = 0; i < found_again->len; i++)
    {
      if (!mt_library_set_missing (library, g_array_index (found_again, gint64, i), 0, error))
        goto failed;
      report->restored++;
    }
  for (guint i = 0; i < vanished->len; i++)
    {
      KnownSong *entry = g_ptr_array_index (vanished, i);

      if (entry->seen || entry->state == VANISHED_ELSEWHERE)
        continue;   /* moved here, or not looked for */
      if (entry->missing_since == 0)
        {
          if (!mt_library_set_missing (library, entry->id, now, error))
            goto failed;
          report->missing++;
        }
      else if (entry->state == VANISHED_GONE && entry->missing_since <= forget_before)
        {
          if (!mt_library_remove_song (library, entry->id, error))
            goto failed;
          report->removed++;
        }
    }
  if (mt_library_commit (library, error))
    return TRUE;

failed:
  mt_library_rollback (library);
  return FALSE;
}

static gboolean
has_known_under (GHashTable *known,
                 const char *prefix)
{
  GHashTableIter iter;
  const char *uri;

  g_hash_table_iter_init (&iter, known);
  while (g_hash_table_iter_next (&iter, (gpointer *) &uri, NULL))
    if (g_str_has_prefix (uri, prefix))
      return TRUE;
  return FALSE;
}

static MtImportReport *
import_run (MtLibraryImporter  *self,
            const char * const *folders,
            GMainContext       *context,
            GCancellable       *cancellable,
            GError            **error)
{
  g_autoptr(MtImportReport) report = import_report_new ();
  g_autoptr(MtLibrary) library = NULL;
  ReadPool *pool;
  gboolean failed = FALSE;
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) unreadable = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) unreachable = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) found_again = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GHashTable) known = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, known_song_free);
  /* Songs whose files were not found, and the same by move key (several
   * songs can share one: copies of a file). */
  g_autoptr(GPtrArray) vanished = g_ptr_array_new ();
  g_autoptr(GHashTable) vanished_by_key = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                                 (GDestroyNotify) g_queue_free);
  g_autoptr(GHashTable) visited_dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) work = g_ptr_array_new_with_free_func (work_item_free);
  Scan scan = { self, report, known, visited_dirs, work, unreadable, unreachable, found_again,
                cancellable, context };

  if (self->rules == NULL && !(self->rules = mt_mood_rules_new_default (error)))
    return NULL;
  if (!(library = mt_library_open (self->db_path, error)))
    return NULL;

  if (!(songs = mt_library_list_songs (library, error)))
    return NULL;
  for (guint i = 0; i < songs->len; i++)
    {
      MtSong *song = g_ptr_array_index (songs, i);
      KnownSong *entry = g_new0 (KnownSong, 1);

      entry->id = song->id;
      entry->size = song->size;
      entry->mtime = song->mtime;
      entry->missing_since = song->missing_since;
      entry->uri = g_steal_pointer (&song->uri);
      song->uri = g_strdup (entry->uri);
      entry->move_key = move_key_for (song);
      g_hash_table_insert (known, entry->uri, entry);
    }
  g_clear_pointer (&songs, g_ptr_array_unref);

  /* Check every folder before touching anything.  One that is not there is
   * a mistake, unless the library has songs in it: then it is a drive not
   * mounted, or a folder renamed, and its songs are missing, not gone. */
  for (guint i = 0; folders[i] != NULL; i++)
    {
      g_autoptr(GFile) root = g_file_new_for_commandline_arg (folders[i]);
      char *prefix = folder_prefix (root);

      g_ptr_array_add (roots, prefix);
      if (g_file_query_file_type (root, G_FILE_QUERY_INFO_NONE, NULL) == G_FILE_TYPE_DIRECTORY)
        continue;
      if (!has_known_under (known, prefix))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                       "Cannot import “%s”: no such folder", folders[i]);
          return NULL;
        }
      add_skip (report, folders[i], "no such folder (a drive not mounted?): its songs are kept, "
                                    "marked missing until it is back");
      g_ptr_array_add (unreachable, g_strdup (prefix));
    }

  for (guint i = 0; folders[i] != NULL; i++)
    {
      g_autoptr(GFile) root = g_file_new_for_commandline_arg (folders[i]);
      const char *prefix = g_ptr_array_index (roots, i);
      guint files_before = report->files_seen;

      if (is_under_any (prefix, unreachable))
        continue;
      if (!walk_folder (&scan, root, error))
        return NULL;
      /* An empty mount point looks like a folder whose music was all
       * deleted; the songs of a folder with no music left are kept. */
      if (report->files_seen == files_before)
        {
          if (has_known_under (known, prefix) && !is_under_any (prefix, unreadable))
            add_skip (report, folders[i], "no music found (a drive not mounted?): its songs are kept, "
                                          "marked missing until they are back");
          g_ptr_array_add (unreachable, g_strdup (prefix));
        }
    }

  /* Songs whose files were not found: marked missing at the end unless a
   * new file turns out to be the same song, moved.  Songs already missing
   * from other folders can be found that way too (a folder renamed). */
  {
    GHashTableIter iter;
    KnownSong *entry;

    g_hash_table_iter_init (&iter, known);
    while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
      {
        GQueue *same_key;

        if (entry->seen || is_under_any (entry->uri, unreadable))
          continue;   /* found, or not known either way */
        if (!is_under_any (entry->uri, roots))
          {
            if (entry->missing_since == 0)
              continue;
            entry->state = VANISHED_ELSEWHERE;
          }
        else if (is_under_any (entry->uri, unreachable))
          entry->state = VANISHED_UNREACHABLE;
        else
          entry->state = VANISHED_GONE;

        same_key = g_hash_table_lookup (vanished_by_key, entry->move_key);
        if (same_key == NULL)
          g_hash_table_insert (vanished_by_key, entry->move_key, (same_key = g_queue_new ()));
        g_queue_push_tail (same_key, entry);
        g_ptr_array_add (vanished, entry);
      }
  }

  /* A stable order makes imports (and their ids) reproducible: files are
   * read in parallel but stored in this order. */
  g_ptr_array_sort (work, compare_work_items);
  emit_progress (self, context, report);

  pool = read_pool_new (work, self->timeout_s);
  while (!failed)
    {
      g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) read_result_free);
      ReadResult *result;

      /* A whole batch is read before any of it is written, with no
       * transaction open: a slow or hung file (seconds, up to the helper's
       * timeout) then holds up this import only, never the player's or the
       * server's feedback, which would wait for our write lock. */
      while (batch->len < self->batch_size)
        {
          if (!g_cancellable_is_cancelled (cancellable))
            read_pool_submit (pool);
          if (!(result = read_pool_next (pool)))
            break;
          g_ptr_array_add (batch, result);
        }
      if (batch->len == 0)
        break;

      if (!mt_library_begin (library, error))
        {
          failed = TRUE;
          break;
        }
      for (guint i = 0; i < batch->len && !failed; i++)
        {
          result = g_ptr_array_index (batch, i);
          failed = !store_result (self, library, result, g_ptr_array_index (work, result->index),
                                  vanished_by_key, report, error);
        }
      if (!failed)
        failed = !mt_library_commit (library, error);
      if (!failed)
        emit_progress (self, context, report);
    }
  report->reader_restarts = read_pool_free (pool);
  if (failed)
    {
      mt_library_rollback (library);
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  if (!store_vanished (library, found_again, vanished, report, error))
    return NULL;

  emit_progress (self, context, report);
  return g_steal_pointer (&report);
}

MtImportReport *
mt_library_importer_import (MtLibraryImporter  *self,
                            const char * const *folders,
                            GCancellable       *cancellable,
                            GError            **error)
{
  g_return_val_if_fail (MT_IS_LIBRARY_IMPORTER (self), NULL);
  g_return_val_if_fail (folders != NULL, NULL);

  return import_run (self, folders, NULL, cancellable, error);
}

typedef struct {
  char        **folders;
  GMainContext *context;
} ImportData;

static void
import_data_free (gpointer data)
{
  ImportData *import = data;
  g_strfreev (import->folders);
  g_main_context_unref (import->context);
  g_free (import);
}

static void
import_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  MtLibraryImporter *self = source_object;
  GError *error = NULL;
  MtImportReport *report;
  ImportData *import = task_data;

  report = import_run (self, (const char * const *) import->folders, import->context, cancellable, &error);
  if (report == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, report, (GDestroyNotify) mt_import_report_free);
}

void
mt_library_importer_import_async (MtLibraryImporter  *self,
                                  const char * const *folders,
                                  GCancellable       *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  ImportData *import;

  g_return_if_fail (MT_IS_LIBRARY_IMPORTER (self));
  g_return_if_fail (folders != NULL);

  if (self->rules == NULL)
    {
      /* Load here so the worker thread never races on it. */
      g_autoptr(GError) error = NULL;

      self->rules = mt_mood_rules_new_default (&error);
      if (self->rules == NULL)
        {
          g_task_report_error (self, callback, user_data, mt_library_importer_import_async,
                               g_steal_pointer (&error));
          return;
        }
    }

  import = g_new0 (ImportData, 1);
  import->folders = g_strdupv ((char **) folders);
  import->context = g_main_context_ref_thread_default ();

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mt_library_importer_import_async);
  g_task_set_task_data (task, import, import_data_free);
  g_task_run_in_thread (task, import_thread);
}

MtImportReport *
mt_library_importer_import_finish (MtLibraryImporter *self,
                                   GAsyncResult      *result,
                                   GError           **error)
{
  MtImportReport *report;

  g_return_val_if_fail (MT_IS_LIBRARY_IMPORTER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  report = g_task_propagate_pointer (G_TASK (result), error);
  /* The writes were on the thread's own connection: announced on the one
   * the caller gave, whose watchers (the session) cannot see them.  A
   * failed or cancelled import may have committed some batches. */
  if (report == NULL || report->imported + report->updated + report->moved + report->missing +
                        report->restored + report->removed > 0)
    mt_library_notify_changed (self->library, MT_LIBRARY_CHANGE_SONGS | MT_LIBRARY_CHANGE_MOODS);
  return report;
}
