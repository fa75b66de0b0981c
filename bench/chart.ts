/**
 * A dependency-free SVG line chart (log–log) of time against lake size, for docs/benchmarks.md.
 *
 * @module
 */

/** One line of the chart. */
export interface ChartSeries {
  /** Legend label. */
  name: string;
  /** Stroke colour. */
  color: string;
  /** `[files, ms]` points. */
  points: [number, number][];
  /** Dashed line (for cold-cache series). */
  dashed?: boolean;
}

const W = 640;
const H = 400;
const PAD = { left: 64, right: 200, top: 28, bottom: 48 };

/** Renders the series into an SVG document (log scales on both axes). */
export function lineChartSvg(title: string, series: ChartSeries[]): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const decade = (v: number, up: boolean): number => 10 ** (up ? Math.ceil(Math.log10(v)) : Math.floor(Math.log10(v)));
  const x0 = decade(Math.min(...xs), false);
  const x1 = Math.max(decade(Math.max(...xs), true), x0 * 10);
  const y0 = decade(Math.min(...ys), false);
  const y1 = Math.max(decade(Math.max(...ys), true), y0 * 10);
  const px = (x: number): number => PAD.left + ((Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))) * (W - PAD.left - PAD.right);
  const py = (y: number): number => H - PAD.bottom - ((Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))) * (H - PAD.top - PAD.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${PAD.left}" y="18" font-size="14">${escape(title)}</text>`,
  ];
  for (let x = x0; x <= x1 * 1.0001; x *= 10) {
    out.push(`<line x1="${px(x)}" y1="${PAD.top}" x2="${px(x)}" y2="${H - PAD.bottom}" stroke="#ddd"/>`);
    out.push(`<text x="${px(x)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${x.toLocaleString('en-US')}</text>`);
  }
  for (let y = y0; y <= y1 * 1.0001; y *= 10) {
    out.push(`<line x1="${PAD.left}" y1="${py(y)}" x2="${W - PAD.right}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${py(y) + 4}" text-anchor="end">${y >= 1000 ? `${y / 1000} s` : `${y} ms`}</text>`);
  }
  out.push(`<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 10}" text-anchor="middle">files in the lake</text>`);
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = PAD.top + 10 + i * 20;
    out.push(`<line x1="${W - PAD.right + 12}" y1="${ly}" x2="${W - PAD.right + 36}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${W - PAD.right + 42}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
