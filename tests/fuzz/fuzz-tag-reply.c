/* fuzz-tag-reply: a reply line from the tag-reader helper, as
 * mt_tag_reader_read() hands it to mt_tag_reader_parse_reply() (the line
 * without its newline, expected request id 1). */
#include "config.h"

#include "mt-fuzz.h"
#include "mt-song.h"
#include "mt-tag-reader.h"

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(MtSong) song = mt_song_new ();
  g_autoptr(GError) error = NULL;
  const char *strings[4];
  gboolean ok;

  mt_fuzz_init ();

  song->title = g_strdup ("before");
  song->track = 7;
  song->duration_ms = 9;
  ok = mt_tag_reader_parse_reply ((const char *) data, size, 1, song, &error);
  MT_FUZZ_CHECK (ok == (error == NULL));
  if (!ok)
    {
      /* A line that is not the reply changes nothing. */
      MT_FUZZ_CHECK (error->domain == MT_TAG_READER_ERROR);
      MT_FUZZ_CHECK (error->code == MT_TAG_READER_ERROR_NOT_A_REPLY ||
                     error->code == MT_TAG_READER_ERROR_BAD_REPLY ||
                     error->code == MT_TAG_READER_ERROR_UNREADABLE);
      MT_FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL));
      MT_FUZZ_CHECK (g_strcmp0 (song->title, "before") == 0 && song->track == 7 && song->duration_ms == 9);
      return 0;
    }

  /* What goes into the library is valid UTF-8, non-empty or NULL. */
  MT_FUZZ_CHECK (size <= MT_TAG_READER_MAX_REPLY);
  MT_FUZZ_CHECK (song->track >= 0 && song->duration_ms >= 0);
  strings[0] = song->title;
  strings[1] = song->artist;
  strings[2] = song->album;
  strings[3] = song->genre;
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    MT_FUZZ_CHECK (strings[i] == NULL || (strings[i][0] != '\0' && g_utf8_validate (strings[i], -1, NULL)));
  return 0;
}
