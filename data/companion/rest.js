// Moodtunes companion page: the REST calls the page's parts share (not
// "api.js": the server's /api handler would take that path).  Every
// request is same-origin and carries the page's HttpOnly cookie (set when
// the printed /?token= address was opened), so no token is ever in a URL
// or in this script.
'use strict';

// The server's own words for an error reply ({"error": {"message"}}), or
// the status when the body is not ours.
export async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error && typeof body.error.message === 'string')
      return body.error.message;
  } catch (error) {
    // Not JSON: fall through.
  }
  return 'HTTP ' + response.status;
}

// Records played/skipped/liked/disliked for a song in the library, as the
// desktop player does; the reply, or an Error with the server's message.
export async function postFeedback(songId, feedback, mood) {
  const response = await fetch('/api/v1/feedback', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ song: songId, feedback, mood: mood || null }),
  });
  if (!response.ok)
    throw new Error(await errorMessage(response));
  return response.json();
}

// The address of a song's audio for an <audio> element.
export function audioUrl(songId) {
  return '/api/v1/songs/' + encodeURIComponent(String(songId)) + '/audio';
}
