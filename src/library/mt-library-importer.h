/* mt-library-importer.h: adds the music files of folders to the library.
 *
 * Runs in a worker thread with its own database connection; reports
 * progress; can be cancelled.  A rescan only reads files whose size or
 * mtime changed, and recognises a moved file by its tags so that it keeps
 * its moods and history.  Songs whose files are gone are kept, marked
 * missing (with their history, back as they were when the files are), and
 * forgotten only after MT_LIBRARY_MISSING_GRACE_DAYS in a folder that is
 * otherwise there; a folder that cannot be read, or that is missing or
 * empty (a drive not mounted), never counts as one whose music was deleted.
 * Files are read a batch at a time with no transaction open, then the batch
 * is written in one short transaction: a crash or kill keeps every finished
 * batch and leaves a consistent database, and a hung file never holds the
 * write lock that the player's feedback waits for.
 */
#pragma once

#include <gio/gio.h>

#include "mt-library.h"
#include "mt-mood-rules.h"

G_BEGIN_DECLS

typedef struct {
  char *path;      /* file name in the file system's encoding */
  char *reason;    /* why it was skipped, for people */
} MtImportSkip;

MtImportSkip   *mt_import_skip_new        (const char      *path,
                                           const char      *reason);
void            mt_import_skip_free       (gpointer         skip);
/* A deep copy (of MtImportSkip), never NULL. */
GPtrArray      *mt_import_skips_copy      (const GPtrArray *skips);

typedef struct {
  guint      files_seen;   /* audio files found (by extension) */
  guint      imported;     /* new songs */
  guint      updated;      /* changed files read again */
  guint      moved;        /* new paths of songs whose files moved */
  guint      unchanged;    /* same size and mtime: not read */
  guint      missing;      /* songs whose files were there before and are not now: kept */
  guint      restored;     /* missing songs whose files are back */
  guint      removed;      /* songs missing for the grace period: forgotten */
  guint      skipped;      /* unreadable files, see skips */
  guint      files_read;   /* files given to the tag reader */
  guint      reader_restarts;  /* tag reader crashes or hangs survived */
  GPtrArray *skips;        /* of MtImportSkip */
} MtImportReport;

#define MT_TYPE_IMPORT_REPORT (mt_import_report_get_type ())
GType           mt_import_report_get_type (void) G_GNUC_CONST;
MtImportReport *mt_import_report_copy     (const MtImportReport *report);
void            mt_import_report_free     (MtImportReport       *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MtImportReport, mt_import_report_free)

/* TRUE for file names with a known audio extension (.ogg, .mp3, .flac…). */
gboolean        mt_library_is_audio_file_name (const char *name);

#define MT_TYPE_LIBRARY_IMPORTER (mt_library_importer_get_type ())
G_DECLARE_FINAL_TYPE (MtLibraryImporter, mt_library_importer, MT, LIBRARY_IMPORTER, GObject)

/* Imports into the database file of @library (through its own connection). */
MtLibraryImporter *mt_library_importer_new          (MtLibrary          *library);
/* Files per transaction (default 64). */
void               mt_library_importer_set_batch_size (MtLibraryImporter *self,
                                                       guint              batch_size);
/* Seconds allowed per file (default 5). */
void               mt_library_importer_set_timeout  (MtLibraryImporter  *self,
                                                     guint               seconds);
/* Rules for initial moods; by default the installed rules file. */
void               mt_library_importer_set_rules    (MtLibraryImporter  *self,
                                                     MtMoodRules        *rules);

/* Blocks until done.  "progress" is emitted from the calling thread. */
MtImportReport    *mt_library_importer_import       (MtLibraryImporter  *self,
                                                     const char * const *folders,
                                                     GCancellable       *cancellable,
                                                     GError            **error);
/* Same work in a worker thread; "progress" is emitted in the thread-default
 * main context of the caller. */
void               mt_library_importer_import_async (MtLibraryImporter  *self,
                                                     const char * const *folders,
                                                     GCancellable       *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer            user_data);
MtImportReport    *mt_library_importer_import_finish (MtLibraryImporter *self,
                                                      GAsyncResult      *result,
                                                      GError           **error);

G_END_DECLS
