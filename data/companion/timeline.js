// Moodtunes companion page: the mood over the last minutes on a <canvas>,
// from the stream's analysis replies: the steady mood as a band on top, the
// seven smoothed probabilities as lines, and marks for the songs played and
// the feedback given, on one time axis.  Kept in this tab's memory only.
// A text summary says the same for screen readers.
'use strict';

export const MOODS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
// Readable on light and dark backgrounds alike.
export const MOOD_COLORS = {
  angry: '#e01b24', disgust: '#2ec27e', fear: '#9141ac', happy: '#e5a50a',
  sad: '#3584e4', surprise: '#ff7800', neutral: '#9a9996',
};
const MARKS = {
  song: { glyph: '♪', label: 'song started' },
  liked: { glyph: '▲', label: 'liked', color: '#26a269' },
  disliked: { glyph: '▼', label: 'disliked', color: '#c01c28' },
  skipped: { glyph: '»', label: 'skipped' },
  played: { glyph: '✓', label: 'played to the end' },
};
const WINDOW_MS = 5 * 60 * 1000;
// Samples further apart than this are a gap (no face, or no stream).
const GAP_MS = 3000;
const BAND_HEIGHT = 10;
const AXIS_HEIGHT = 18;
const MARK_HEIGHT = 16;

function clock(t) {
  return new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function spanText(ms) {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 90)
    return seconds === 1 ? 'second' : seconds + ' seconds';
  const minutes = Math.round(seconds / 60);
  return minutes + ' minutes';
}

export class Timeline {
  constructor(canvas, summary, legend) {
    this.canvas = canvas;
    this.summary = summary;
    this.samples = [];   // { t, mood, probabilities }
    this.marks = [];     // { t, kind, title }
    this.pending = false;
    this.buildLegend(legend);
    window.addEventListener('resize', () => this.redraw());
    // Light and dark: the axis and text take the page's colour.
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.redraw());
    setInterval(() => this.redraw(), 1000);
    this.redraw();
  }

  buildLegend(legend) {
    for (const mood of MOODS) {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = MOOD_COLORS[mood];
      item.append(swatch, mood);
      legend.appendChild(item);
    }
    for (const mark of Object.values(MARKS)) {
      const item = document.createElement('li');
      const glyph = document.createElement('span');
      glyph.className = 'glyph';
      glyph.textContent = mark.glyph;
      if (mark.color)
        glyph.style.color = mark.color;
      item.append(glyph, mark.label);
      legend.appendChild(item);
    }
  }

  // An analysis reply's steady mood ({mood, probabilities, …}).
  add(mood, t = Date.now()) {
    this.samples.push({ t, mood: mood.mood || null, probabilities: mood.probabilities || null });
    this.trim(t);
    this.redraw();
  }

  // @kind: song, played, skipped, liked or disliked.
  mark(kind, title, t = Date.now()) {
    this.marks.push({ t, kind, title });
    this.trim(t);
    this.redraw();
  }

  trim(now) {
    const oldest = now - WINDOW_MS;
    while (this.samples.length > 1 && this.samples[1].t < oldest)
      this.samples.shift();
    while (this.marks.length > 0 && this.marks[0].t < oldest)
      this.marks.shift();
  }

  // From a minute (a new page) to WINDOW_MS, as far back as the first sample.
  span(now) {
    const first = this.samples.length ? this.samples[0].t : now;
    return Math.min(WINDOW_MS, Math.max(60000, Math.ceil((now - first) / 60000) * 60000));
  }

  // Draws at most once a frame.
  redraw() {
    if (this.pending)
      return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw(Date.now());
      this.updateSummary(Date.now());
    });
  }

  draw(now) {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (width === 0 || height === 0)
      return;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const context = canvas.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);

    const ink = getComputedStyle(canvas).color;
    const left = 34, right = width - 6;
    const bandTop = 2, plotTop = bandTop + BAND_HEIGHT + 4;
    const plotBottom = height - AXIS_HEIGHT - MARK_HEIGHT;
    // The axis grows with the session, from a minute to five.
    const span = this.span(now);
    const start = now - span;
    const x = (t) => left + (t - start) / span * (right - left);
    const y = (p) => plotBottom - p * (plotBottom - plotTop);

    // Axes: 0/50/100 % and a tick a minute, "now" at the right.
    context.font = '11px sans-serif';
    context.fillStyle = ink;
    context.strokeStyle = ink;
    context.globalAlpha = 0.25;
    context.lineWidth = 1;
    for (const p of [0, 0.5, 1]) {
      context.beginPath();
      context.moveTo(left, Math.round(y(p)) + 0.5);
      context.lineTo(right, Math.round(y(p)) + 0.5);
      context.stroke();
    }
    context.globalAlpha = 0.75;
    context.textAlign = 'right';
    context.textBaseline = 'middle';
    for (const p of [0, 0.5, 1])
      context.fillText(Math.round(p * 100) + '%', left - 4, y(p));
    context.textAlign = 'center';
    context.textBaseline = 'top';
    const step = span > 2 * 60000 ? 60000 : span > 60000 ? 30000 : 15000;
    for (let ago = Math.floor(span / step) * step; ago >= 0; ago -= step) {
      const label = ago === 0 ? 'now' : ago % 60000 === 0 ? '−' + ago / 60000 + ' min' : '−' + ago / 1000 + ' s';
      context.textAlign = ago === 0 ? 'right' : x(now - ago) - left < 20 ? 'left' : 'center';
      context.fillText(label, ago === 0 ? right : x(now - ago), height - AXIS_HEIGHT + 3);
    }
    context.globalAlpha = 1;

    const samples = this.samples.filter((s) => s.t >= start - GAP_MS);
    // The steady mood, as a band.
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i];
      const end = i + 1 < samples.length ? Math.min(samples[i + 1].t, sample.t + GAP_MS) : Math.min(now, sample.t + GAP_MS);
      if (!sample.mood)
        continue;
      context.fillStyle = MOOD_COLORS[sample.mood];
      const from = Math.max(left, x(sample.t));
      context.fillRect(from, bandTop, Math.max(1, x(end) - from), BAND_HEIGHT);
    }
    // The seven probabilities, broken at gaps.
    context.lineWidth = 1.5;
    context.lineJoin = 'round';
    for (const mood of MOODS) {
      context.strokeStyle = MOOD_COLORS[mood];
      context.beginPath();
      let drawing = false, last = -Infinity;
      for (const sample of samples) {
        const p = sample.probabilities ? sample.probabilities[mood] : undefined;
        if (typeof p !== 'number' || sample.t - last > GAP_MS) {
          drawing = false;
        }
        if (typeof p !== 'number') {
          last = -Infinity;
          continue;
        }
        const px = Math.max(left, x(sample.t));
        if (drawing)
          context.lineTo(px, y(p));
        else
          context.moveTo(px, y(p));
        drawing = true;
        last = sample.t;
      }
      context.stroke();
    }
    // Songs and feedback, on the same axis.
    context.font = '13px sans-serif';
    context.textAlign = 'center';
    context.textBaseline = 'bottom';
    let previous = -Infinity;
    for (const mark of this.marks) {
      const at = x(mark.t);
      if (at < left)
        continue;
      // Marks of one moment (a dislike, its skip, the next song) side by side.
      const glyphAt = Math.max(at, previous + 10);
      previous = glyphAt;
      const style = MARKS[mark.kind] || MARKS.song;
      if (mark.kind === 'song') {
        context.strokeStyle = ink;
        context.globalAlpha = 0.5;
        context.setLineDash([3, 3]);
        context.beginPath();
        context.moveTo(Math.round(at) + 0.5, plotTop);
        context.lineTo(Math.round(at) + 0.5, plotBottom);
        context.stroke();
        context.setLineDash([]);
        context.globalAlpha = 1;
      }
      context.fillStyle = style.color || ink;
      context.fillText(style.glyph, glyphAt, plotBottom + MARK_HEIGHT);
    }
  }

  // "Mostly happy (70%) over the last 3 minutes; sad since 12:04."
  describe(now) {
    const start = now - WINDOW_MS;
    const samples = this.samples.filter((s) => s.t >= start);
    const time = {};
    let total = 0;
    for (let i = 0; i < samples.length; i++) {
      const end = i + 1 < samples.length ? samples[i + 1].t : now;
      const ms = Math.min(end - samples[i].t, GAP_MS);
      if (samples[i].mood) {
        time[samples[i].mood] = (time[samples[i].mood] || 0) + ms;
        total += ms;
      }
    }
    if (total === 0)
      return 'No mood yet: the timeline fills while the camera sees a face.';
    const mostly = Object.keys(time).reduce((a, b) => (time[a] >= time[b] ? a : b));
    let text = 'Mostly ' + mostly + ' (' + Math.round(100 * time[mostly] / total) + '%) over the last ' +
      spanText(now - samples[0].t);
    const latest = samples[samples.length - 1];
    const gone = now - latest.t > GAP_MS;
    let since = samples.length - 1;
    while (since > 0 && samples[since - 1].mood === latest.mood)
      since--;
    if (gone)
      text += '; no reading since ' + clock(latest.t);
    else if (!latest.mood)
      text += '; no face since ' + clock(samples[since].t);
    else if (since > 0 || latest.mood !== mostly)
      text += '; ' + latest.mood + ' since ' + clock(samples[since].t);
    const counts = {};
    for (const mark of this.marks.filter((m) => m.t >= start))
      counts[mark.kind] = (counts[mark.kind] || 0) + 1;
    const parts = [];
    if (counts.song)
      parts.push(counts.song + (counts.song === 1 ? ' song' : ' songs') + ' played');
    for (const kind of ['liked', 'disliked', 'skipped'])
      if (counts[kind])
        parts.push(counts[kind] + ' ' + kind);
    return text + '.' + (parts.length ? ' ' + parts.join(', ') + '.' : '');
  }

  updateSummary(now) {
    const text = this.describe(now);
    if (this.summary.textContent !== text)
      this.summary.textContent = text;
  }
}
