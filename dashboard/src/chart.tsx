// A uPlot time-series chart of event counts per hour/day. uPlot draws on a canvas; the same numbers
// are given to screen readers as a visually hidden table (a canvas has no text).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Series { label: string; values: number[]; color: string }

export function TimeChart({ title, times, series }: { title: string; times: number[]; series: Series[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const styles = getComputedStyle(document.documentElement);
    const axisColor = styles.getPropertyValue('--fg-muted').trim() || '#666';
    const gridColor = styles.getPropertyValue('--border').trim() || '#ddd';
    const axis = { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } };
    const plot = new uPlot({
      width: Math.max(280, el.clientWidth), height: 260,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, fill: s.color + '22', points: { show: times.length < 40 } }))],
      axes: [axis, axis],
      scales: { x: { time: true }, y: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(1, max)] } },
      legend: { live: false },
    }, [times, ...series.map((s) => s.values)], el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: 260 }));
    resize.observe(el);
    return () => { resize.disconnect(); plot.destroy(); };
  }, [times, series]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-canvas" role="img" aria-label={`${title}: chart; the numbers are in the table below`} />
      <div class="visually-hidden"><table>
        <caption>{title}</caption>
        <thead><tr><th scope="col">Time</th>{series.map((s) => <th scope="col" key={s.label}>{s.label}</th>)}</tr></thead>
        <tbody>{times.map((t, i) => <tr key={t}><th scope="row">{new Date(t * 1000).toISOString()}</th>{series.map((s) => <td key={s.label}>{s.values[i]}</td>)}</tr>)}</tbody>
      </table></div>
    </figure>
  );
}
