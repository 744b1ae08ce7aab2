// Moodtunes companion page: plays "Songs for your mood" in this browser with
// an <audio> element, and reports each song as the desktop player does:
// played (to the end, or moved on from after its middle), skipped (before
// its middle), liked, disliked (which also moves on).  A new playlist (the
// mood changed) never cuts the song playing: the next song comes from it.
'use strict';

import { audioUrl, errorMessage, postFeedback } from './rest.js';

// Previous restarts a song heard for longer than this (as the app does).
const RESTART_AFTER_S = 3;

function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0)
    return '0:00';
  const whole = Math.floor(seconds);
  return Math.floor(whole / 60) + ':' + String(whole % 60).padStart(2, '0');
}

function describe(song) {
  return '“' + song.title + '”' + (song.artist ? ' by ' + song.artist : '');
}

export class Player {
  // @ui: the page's elements (audio, play, previous, next, like, dislike,
  // position, positionText, nowPlaying, error); @hooks: onStarted(song),
  // onFeedback(song, feedback), onChanged(song or null).
  constructor(ui, hooks) {
    this.ui = ui;
    this.audio = ui.audio;
    this.hooks = hooks;
    this.playlist = [];       // the newest "Songs for your mood"
    this.mood = null;         // the mood that list is for
    this.listNumber = 0;      // counts the lists that differed from the one before
    this.current = null;      // the song playing (or paused), with the mood of its list
    this.history = [];        // songs heard before it, for Previous
    this.heard = new Set();   // ids started on this page
    this.unplayable = new Set();
    this.reported = false;    // played/skipped already said for the current song
    this.seeking = false;

    const audio = this.audio;
    audio.addEventListener('playing', () => this.showState());
    audio.addEventListener('pause', () => this.showState());
    audio.addEventListener('loadedmetadata', () => this.showPosition());
    audio.addEventListener('timeupdate', () => this.showPosition());
    audio.addEventListener('ended', () => {
      this.report('played');
      this.advance();
    });
    audio.addEventListener('error', () => this.explainError());

    ui.play.onclick = () => this.toggle();
    ui.next.onclick = () => this.next();
    ui.previous.onclick = () => this.previous();
    ui.like.onclick = () => this.rate('liked');
    ui.dislike.onclick = () => this.rate('disliked');
    ui.position.addEventListener('input', () => {
      this.seeking = true;
      this.showPositionText(Number(ui.position.value), audio.duration);
    });
    ui.position.addEventListener('change', () => {
      this.seeking = false;
      if (this.current && Number.isFinite(audio.duration))
        audio.currentTime = Number(ui.position.value);
    });

    // Media keys and the system's media controls.
    if ('mediaSession' in navigator) {
      navigator.mediaSession.setActionHandler('play', () => this.toggle());
      navigator.mediaSession.setActionHandler('pause', () => this.toggle());
      navigator.mediaSession.setActionHandler('nexttrack', () => this.next());
      navigator.mediaSession.setActionHandler('previoustrack', () => this.previous());
    }
    this.showState();
  }

  // A new "Songs for your mood" list: the next song comes from it.
  setPlaylist(mood, songs) {
    const playable = songs.filter((song) => !song.missing);
    const same = playable.length === this.playlist.length &&
      playable.every((song, i) => song.id === this.playlist[i].id);
    if (!same)
      this.listNumber++;
    this.playlist = playable;
    this.mood = mood;
    this.showState();
  }

  // The song to play after the current one: the next in its list while
  // the list is the same, else the first of the new list not heard yet
  // (a new list that holds the current song goes on from its start, not
  // from that song, whose place in it is chance).
  pick() {
    const list = this.playlist.filter((song) => !this.unplayable.has(song.id));
    if (list.length === 0)
      return null;
    const sameList = this.current && this.current.list === this.listNumber;
    const at = sameList ? list.findIndex((song) => song.id === this.current.id) : -1;
    if (at >= 0)
      return list[at + 1] || null;
    return list.find((song) => !this.heard.has(song.id)) || list[0];
  }

  toggle() {
    if (!this.current) {
      const song = this.pick();
      if (song)
        this.start(song);
      return;
    }
    if (this.audio.paused)
      this.audio.play().catch((error) => this.showError('Cannot play: ' + error.message));
    else
      this.audio.pause();
  }

  // Plays @song now (a list's Play button, Next, the end of a song).
  start(song, { back = false } = {}) {
    if (this.current && !back)
      this.history.push(this.current);
    this.current = { ...song, listMood: song.listMood || this.mood, list: this.listNumber };
    this.reported = false;
    this.heard.add(song.id);
    this.ui.error.hidden = true;
    this.ui.like.classList.remove('done');
    this.ui.dislike.classList.remove('done');
    // Same-origin: the element sends the page's cookie, which holds the
    // token, so the address carries none (and no log ever sees it).
    this.audio.src = audioUrl(song.id);
    this.audio.play().catch((error) => {
      if (error.name === 'NotAllowedError')
        this.showError('The browser wants a click first: press Play.');
    });
    this.ui.nowPlaying.textContent = 'Playing ' + describe(song);
    if ('mediaSession' in navigator && typeof MediaMetadata !== 'undefined')
      navigator.mediaSession.metadata = new MediaMetadata({ title: song.title, artist: song.artist || '', album: song.album || '' });
    this.hooks.onStarted(this.current);
    this.hooks.onChanged(this.current);
    this.showState();
  }

  // Moving on: played when past the middle, else skipped (as the app does).
  next() {
    if (!this.current)
      return;
    const { currentTime, duration } = this.audio;
    this.report(Number.isFinite(duration) && duration > 0 && currentTime >= duration / 2 ? 'played' : 'skipped');
    this.advance();
  }

  previous() {
    if (!this.current)
      return;
    if (this.audio.currentTime > RESTART_AFTER_S || this.history.length === 0) {
      this.audio.currentTime = 0;
      return;
    }
    this.start(this.history.pop(), { back: true });
  }

  // Another song chosen from the list while one plays.
  jump(song) {
    if (this.current && this.current.id !== song.id) {
      const { currentTime, duration } = this.audio;
      this.report(Number.isFinite(duration) && duration > 0 && currentTime >= duration / 2 ? 'played' : 'skipped');
    }
    this.start(song);
  }

  advance() {
    const song = this.pick();
    if (song) {
      this.start(song);
      return;
    }
    if (this.current)
      this.history.push(this.current);
    this.current = null;
    this.audio.removeAttribute('src');
    this.audio.load();
    this.ui.nowPlaying.textContent = 'End of the list: press Play to hear it again.';
    this.hooks.onChanged(null);
    this.showState();
  }

  // Like/Dislike of the song playing: a dislike also moves on.
  async rate(feedback) {
    const song = this.current;
    if (!song)
      return;
    const button = feedback === 'liked' ? this.ui.like : this.ui.dislike;
    button.disabled = true;
    try {
      await postFeedback(song.id, feedback, song.listMood);
      this.hooks.onFeedback(song, feedback);
      button.classList.add('done');
    } catch (error) {
      this.showError('Feedback not saved: ' + error.message);
    }
    button.disabled = false;
    this.rated(song.id, feedback);
  }

  // A song was rated (here or in the list): a disliked song playing is
  // skipped, as the desktop session does.
  rated(songId, feedback) {
    if (feedback === 'disliked' && this.current && this.current.id === songId)
      this.next();
  }

  // Played or skipped, once per song.
  report(feedback) {
    const song = this.current;
    if (!song || this.reported)
      return;
    this.reported = true;
    postFeedback(song.id, feedback, song.listMood)
      .then(() => this.hooks.onFeedback(song, feedback))
      .catch((error) => this.showError('Feedback not saved: ' + error.message));
  }

  // The element cannot play the song: ask the server why (its JSON error),
  // and go on with the next song unless the server itself is gone.
  async explainError() {
    const song = this.current;
    if (!song || !this.audio.getAttribute('src'))
      return;
    let why;
    try {
      const response = await fetch(audioUrl(song.id), { headers: { Range: 'bytes=0-0' }, cache: 'no-store' });
      why = response.ok
        ? 'this browser cannot decode it (' + (this.audio.error && this.audio.error.message || 'unknown error') + ')'
        : await errorMessage(response);
    } catch (error) {
      this.showError('Cannot play ' + describe(song) + ': the Moodtunes server cannot be reached.');
      this.showState();
      return;
    }
    if (this.current !== song)
      return;
    this.unplayable.add(song.id);
    this.showError('Cannot play ' + describe(song) + ': ' + why + '. Playing the next song.');
    this.advance();
  }

  showError(text) {
    this.ui.error.textContent = text;
    this.ui.error.hidden = false;
  }

  showState() {
    const playing = this.current && !this.audio.paused;
    const ui = this.ui;
    ui.play.disabled = !this.current && this.pick() === null;
    ui.play.setAttribute('aria-label', playing ? 'Pause' : 'Play');
    ui.play.title = playing ? 'Pause' : 'Play';
    ui.next.disabled = !this.current;
    ui.previous.disabled = !this.current;
    ui.like.disabled = !this.current;
    ui.dislike.disabled = !this.current;
    ui.position.disabled = !this.current;
    if (this.current) {
      ui.like.setAttribute('aria-label', 'Like ' + this.current.title);
      ui.dislike.setAttribute('aria-label', 'Dislike ' + this.current.title);
    }
    document.body.dataset.player = playing ? 'playing' : this.current ? 'paused' : 'stopped';
    if ('mediaSession' in navigator)
      navigator.mediaSession.playbackState = playing ? 'playing' : this.current ? 'paused' : 'none';
  }

  showPosition() {
    const { currentTime, duration } = this.audio;
    const position = this.ui.position;
    if (!this.seeking) {
      position.max = Number.isFinite(duration) ? String(Math.floor(duration)) : '0';
      position.value = String(Math.floor(currentTime));
    }
    this.showPositionText(this.seeking ? Number(position.value) : currentTime, duration);
  }

  showPositionText(at, duration) {
    const text = formatTime(at) + ' / ' + formatTime(duration);
    this.ui.positionText.textContent = text;
    this.ui.position.setAttribute('aria-valuetext', formatTime(at) + ' of ' + formatTime(duration));
  }
}
