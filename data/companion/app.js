// Moodtunes companion page: streams the camera to the Moodtunes server on
// this computer and shows the mood, the songs it recommends (played here by
// player.js) and the mood over time (timeline.js).
// Plain browser JavaScript modules, no build step.  Text from the server is
// only ever set with textContent.
'use strict';

import { postFeedback } from './rest.js';
import { Player } from './player.js';
import { MOODS, Timeline } from './timeline.js';
const MIN_INTERVAL_MS = 100;      // at most 10 frames per second
const MAX_INTERVAL_MS = 2000;
const REPLY_TIMEOUT_MS = 3000;    // a reply this late: send again, but slower
const FRAME_WIDTH = 640;          // frames are scaled down to this width
const JPEG_QUALITY = 0.8;
// What the server's hint of a frame asks of the person (the app says the same).
const FRAME_HINTS = {
  'no-face': 'No face in view: look at the camera',
  'too-dark': 'Too dark to see a face: turn on a light',
  'too-small': 'Your face is too small: come closer to the camera',
};

const $ = (id) => document.getElementById(id);

const state = {
  socket: null,
  stream: null,
  mood: null,
  strategy: 'match',
  inFlight: false,
  sentAt: 0,
  interval: MIN_INTERVAL_MS,
  timer: 0,
  reconnectDelay: 1000,
  reconnectTimer: 0,
  frameWidth: 0,
  frameHeight: 0,
};

const captureCanvas = document.createElement('canvas');
let player = null;
let timeline = null;

function setState(name, text) {
  document.body.dataset.state = name;
  $('status').textContent = text;
}

function showNotice(text, retry) {
  $('notice-text').textContent = text;
  $('notice').hidden = false;
  const button = $('notice-retry');
  button.hidden = !retry;
  button.onclick = retry || null;
}

function hideNotice() {
  $('notice').hidden = true;
}

function buildBars() {
  const list = $('bars');
  for (const mood of MOODS) {
    const item = document.createElement('li');
    const label = document.createElement('span');
    label.className = 'label';
    label.textContent = mood;
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.className = 'fill';
    fill.id = 'bar-' + mood;
    bar.appendChild(fill);
    const value = document.createElement('span');
    value.className = 'value';
    value.id = 'value-' + mood;
    value.textContent = '0%';
    item.append(label, bar, value);
    list.appendChild(item);
  }
}

// --- Camera --------------------------------------------------------------

async function startCamera() {
  hideNotice();
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showNotice('This browser cannot use a camera here (the page needs http://localhost or https).');
    setState('no-camera', 'No camera');
    return false;
  }
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
  } catch (error) {
    const denied = error && (error.name === 'NotAllowedError' || error.name === 'SecurityError');
    showNotice(denied
      ? 'Camera access was denied. Allow the camera for this page in the browser, then try again.'
      : 'No camera could be opened (' + (error && error.name || 'unknown error') + ').',
    startCamera);
    setState('no-camera', denied ? 'Camera denied' : 'No camera');
    return false;
  }
  const video = $('video');
  video.srcObject = state.stream;
  await video.play().catch(() => {});
  connect();
  return true;
}

// --- Stream --------------------------------------------------------------

function streamUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return scheme + '//' + location.host + '/api/v1/stream';
}

function connect() {
  clearTimeout(state.reconnectTimer);
  setState('connecting', 'Connecting to Moodtunes…');
  const socket = new WebSocket(streamUrl());
  let opened = false;
  socket.binaryType = 'arraybuffer';
  state.socket = socket;

  socket.onopen = () => {
    opened = true;
    hideNotice();
    state.reconnectDelay = 1000;
    state.inFlight = false;
    state.interval = MIN_INTERVAL_MS;
    setState('streaming', 'Watching your expression');
    sendConfig();
    scheduleFrame(0);
  };
  socket.onmessage = (event) => {
    if (typeof event.data !== 'string')
      return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    handleMessage(message);
  };
  socket.onclose = async (event) => {
    if (state.socket !== socket)
      return;
    state.socket = null;
    clearTimeout(state.timer);
    const seconds = Math.round(state.reconnectDelay / 1000);
    const why = event.code === 1008 ? ' (' + event.reason + ')' : '';
    state.reconnectTimer = setTimeout(connect, state.reconnectDelay);
    state.reconnectDelay = Math.min(state.reconnectDelay * 2, 15000);
    // A server restarted with another access token refuses this page's
    // cookie: only its new address (with ?token=) lets the page in again.
    if (!opened && await tokenRefused()) {
      if (state.socket === null) {
        showNotice('This Moodtunes server needs its access token: open the address it shows, with ?token=, again.');
        setState('unauthorized', 'Access token needed');
      }
      return;
    }
    showNotice('The connection to Moodtunes was lost' + why + '. Reconnecting in ' + seconds + ' s…', connect);
    setState('disconnected', 'Disconnected');
  };
}

function sendConfig() {
  if (state.socket && state.socket.readyState === WebSocket.OPEN)
    state.socket.send(JSON.stringify({ type: 'config', strategy: state.strategy }));
}

function scheduleFrame(delay) {
  clearTimeout(state.timer);
  state.timer = setTimeout(sendFrame, delay);
}

// One frame in flight at a time: the next one leaves when the reply comes
// (or after a timeout), so a slow server gets fewer frames, not a queue.
function sendFrame() {
  const socket = state.socket;
  const video = $('video');
  if (!socket || socket.readyState !== WebSocket.OPEN)
    return;
  if (state.inFlight && performance.now() - state.sentAt < REPLY_TIMEOUT_MS) {
    scheduleFrame(state.interval);
    return;
  }
  if (state.inFlight)   // the reply is very late: back off
    state.interval = Math.min(state.interval * 2, MAX_INTERVAL_MS);
  if (!video.videoWidth || socket.bufferedAmount > 0) {
    scheduleFrame(state.interval);
    return;
  }
  const scale = Math.min(1, FRAME_WIDTH / video.videoWidth);
  captureCanvas.width = Math.round(video.videoWidth * scale);
  captureCanvas.height = Math.round(video.videoHeight * scale);
  captureCanvas.getContext('2d').drawImage(video, 0, 0, captureCanvas.width, captureCanvas.height);
  captureCanvas.toBlob((blob) => {
    if (!blob || state.socket !== socket || socket.readyState !== WebSocket.OPEN)
      return;
    state.inFlight = true;
    state.sentAt = performance.now();
    socket.send(blob);
    scheduleFrame(REPLY_TIMEOUT_MS);
  }, 'image/jpeg', JPEG_QUALITY);
}

function handleMessage(message) {
  switch (message.type) {
    case 'hello':
      break;
    case 'analysis':
      frameDone();
      showAnalysis(message);
      break;
    case 'recommendations':
      showSongs(message);
      break;
    case 'error':
      if (message.code !== 'bad-message' && message.code !== 'recommendations-unavailable')
        frameDone();
      $('timing').textContent = 'Server: ' + message.message;
      break;
  }
}

// Adapts the rate: the next frame waits about as long as the last reply
// took, so frames never pile up behind a busy server.
function frameDone() {
  if (!state.inFlight)
    return;
  state.inFlight = false;
  const took = performance.now() - state.sentAt;
  state.interval = Math.max(MIN_INTERVAL_MS, Math.min(MAX_INTERVAL_MS, 0.7 * state.interval + 0.3 * took));
  scheduleFrame(Math.max(0, state.interval - took));
}

// --- Results -------------------------------------------------------------

function showAnalysis(message) {
  timeline.add(message.mood);
  state.frameWidth = message.width;
  state.frameHeight = message.height;
  drawFaces(message.faces);
  const hint = FRAME_HINTS[message.hint];
  $('frame-hint').textContent = hint || '';
  $('frame-hint').hidden = !hint;

  const mood = message.mood;
  const name = mood.mood;
  $('mood').textContent = name ? name + ' (' + Math.round(mood.confidence * 100) + '%)' : 'no face';
  $('mood').dataset.mood = name || '';
  const probabilities = mood.probabilities || {};
  for (const m of MOODS) {
    const p = probabilities[m] || 0;
    $('bar-' + m).style.width = (p * 100).toFixed(1) + '%';
    $('value-' + m).textContent = Math.round(p * 100) + '%';
  }
  $('timing').textContent = 'Analyzed in ' + message.ms.toFixed(0) + ' ms, reply after ' +
    message.latency_ms.toFixed(0) + ' ms; ' + message.faces.length + ' face(s).';
  if (name !== state.mood) {
    state.mood = name;
    if (!name) {
      $('songs').replaceChildren();
      $('songs-empty').hidden = false;
    }
  }
}

function drawFaces(faces) {
  const video = $('video');
  const canvas = $('overlay');
  canvas.width = video.clientWidth;
  canvas.height = video.clientHeight;
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (!state.frameWidth)
    return;
  const sx = canvas.width / state.frameWidth;
  const sy = canvas.height / state.frameHeight;
  context.lineWidth = 3;
  context.font = '16px sans-serif';
  for (const face of faces) {
    const [x, y, w, h] = face.box;
    context.strokeStyle = '#3584e4';
    context.strokeRect(x * sx, y * sy, w * sx, h * sy);
    context.fillStyle = '#3584e4';
    context.fillText(face.emotion, x * sx + 4, Math.max(16, y * sy - 6));
  }
}

function showSongs(message) {
  const list = $('songs');
  list.replaceChildren();
  player.setPlaylist(message.mood, message.songs);
  $('songs-empty').hidden = message.songs.length > 0;
  if (message.songs.length === 0)
    $('songs-empty').textContent = 'No songs in the library yet.';
  for (const song of message.songs) {
    const item = document.createElement('li');
    item.dataset.songId = song.id;
    const play = document.createElement('button');
    play.type = 'button';
    play.className = 'play-song';
    play.textContent = '▶';
    play.title = 'Play';
    play.setAttribute('aria-label', 'Play ' + song.title);
    play.onclick = () => player.jump({ ...song, listMood: message.mood });
    const title = document.createElement('span');
    title.className = 'title';
    title.textContent = song.title;
    const artist = document.createElement('span');
    artist.className = 'artist';
    artist.textContent = song.artist || '';
    const like = feedbackButton(song, 'liked', 'Like', message.mood);
    const dislike = feedbackButton(song, 'disliked', 'Dislike', message.mood);
    item.append(play, title, artist, like, dislike);
    list.appendChild(item);
  }
  showPlaying(player.current);
}

// Which song of the list plays (for the eye and for screen readers).
function showPlaying(song) {
  for (const item of $('songs').children) {
    const playing = song !== null && Number(item.dataset.songId) === song.id;
    item.classList.toggle('playing', playing);
    if (playing)
      item.setAttribute('aria-current', 'true');
    else
      item.removeAttribute('aria-current');
  }
}

function feedbackButton(song, feedback, label, mood) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'feedback ' + feedback;
  button.textContent = label;
  button.setAttribute('aria-label', label + ' ' + song.title);
  button.onclick = async () => {
    button.disabled = true;
    try {
      await postFeedback(song.id, feedback, mood);
      button.classList.add('done');
      timeline.mark(feedback, song.title);
      player.rated(song.id, feedback);
    } catch (error) {
      button.disabled = false;
      $('timing').textContent = 'Feedback not saved: ' + error.message;
    }
  };
  return button;
}

async function tokenRefused() {
  try {
    return (await fetch('/api/v1/status', { cache: 'no-store' })).status === 401;
  } catch (error) {
    return false;   // the server is gone: not a token matter
  }
}

async function showServerStatus() {
  try {
    const response = await fetch('/api/v1/status');
    const status = await response.json();
    document.title = 'Moodtunes ' + status.version;
  } catch (error) {
    // The stream's own messages report a server that is gone.
  }
}

function start() {
  buildBars();
  timeline = new Timeline($('timeline'), $('timeline-summary'), $('timeline-legend'));
  player = new Player({
    audio: $('audio'), play: $('play'), previous: $('previous'), next: $('next'),
    like: $('like-playing'), dislike: $('dislike-playing'), position: $('position'),
    positionText: $('position-text'), nowPlaying: $('now-playing'), error: $('player-error'),
  }, {
    onStarted: (song) => timeline.mark('song', song.title),
    onFeedback: (song, feedback) => timeline.mark(feedback, song.title),
    onChanged: (song) => showPlaying(song),
  });
  $('strategy').onchange = (event) => {
    state.strategy = event.target.value;
    sendConfig();
  };
  showServerStatus();
  startCamera();
}

start();
