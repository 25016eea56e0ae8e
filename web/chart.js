// A small SVG line chart of one test's results over time, with its reference range as a band.
// Drawn with SVG elements only (no inline style), so the strict CSP holds.
import { svg } from './dom.js';

const WIDTH = 320;
const HEIGHT = 120;
const PAD = { left: 8, right: 8, top: 10, bottom: 10 };

// points: [{time: ms, value: number, abnormal: bool}] sorted by time; range: {low, high} or {}.
export function trendChart(points, range, label) {
  const values = points.map((p) => p.value);
  if (range.low !== undefined) values.push(range.low);
  if (range.high !== undefined) values.push(range.high);
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (min === max) { min -= 1; max += 1; }
  const margin = (max - min) * 0.1;
  min -= margin;
  max += margin;
  const first = points[0].time;
  const span = Math.max(points[points.length - 1].time - first, 1);
  const x = (time) => PAD.left + ((time - first) / span) * (WIDTH - PAD.left - PAD.right);
  const y = (value) => PAD.top + (1 - (value - min) / (max - min)) * (HEIGHT - PAD.top - PAD.bottom);

  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'trend', role: 'img', 'aria-label': label });
  chart.append(svg('title', {}, label));
  if (range.low !== undefined || range.high !== undefined) {
    const top = y(range.high ?? max);
    const bottom = y(range.low ?? min);
    chart.append(svg('rect', { class: 'trend-range', x: PAD.left, y: top, width: WIDTH - PAD.left - PAD.right, height: Math.max(bottom - top, 1) }));
  }
  const path = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.time).toFixed(1)} ${y(p.value).toFixed(1)}`).join(' ');
  chart.append(svg('path', { class: 'trend-line', d: path }));
  for (const p of points) {
    chart.append(svg('circle', { class: p.abnormal ? 'trend-point abnormal' : 'trend-point', cx: x(p.time).toFixed(1), cy: y(p.value).toFixed(1), r: 3.5 }));
  }
  return chart;
}
