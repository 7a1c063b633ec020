// Scatter plots of a sweep's metric (chart.js, only what they use).
import {
  Chart, LinearScale, LineController, LineElement, PointElement, ScatterController, Tooltip,
  type ChartConfiguration, type ScatterDataPoint,
} from "chart.js";
import { useEffect, useRef } from "preact/hooks";

Chart.register(ScatterController, LineController, LinearScale, PointElement, LineElement, Tooltip);

export interface Point {
  x: number;
  y: number;
  label: string;
  best?: boolean;
}

export interface PlotProps {
  testid: string;
  title: string;
  xLabel: string;
  yLabel: string;
  points: Point[];
  /** Names of the x categories, when x is a category's index. */
  categories?: string[];
  time?: boolean;
  /** A line through these, drawn under the points (best so far). */
  line?: { x: number; y: number }[];
}

const fmtTime = (v: number) => new Date(v).toLocaleTimeString();

export function Plot(p: PlotProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<"scatter"> | null>(null);
  const props = useRef(p);
  props.current = p;

  useEffect(() => {
    const tick = (v: number | string) => {
      const { categories, time } = props.current;
      const n = Number(v);
      if (categories) return Number.isInteger(n) ? categories[n] ?? "" : "";
      if (time) return fmtTime(n);
      return String(+n.toPrecision(4));
    };
    const cfg: ChartConfiguration<"scatter", ScatterDataPoint[]> = {
      type: "scatter",
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          tooltip: {
            callbacks: {
              label: (item) => {
                const pt = item.raw as Point;
                return pt.label ?? `${item.parsed.x}, ${item.parsed.y}`;
              },
            },
          },
        },
        scales: {
          x: { type: "linear", title: { display: true, text: p.xLabel }, ticks: { callback: tick, maxRotation: 0, autoSkip: true } },
          y: { type: "linear", title: { display: true, text: p.yLabel } },
        },
      },
    };
    chart.current = new Chart(ref.current!, cfg);
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const rest = p.points.filter((q) => !q.best);
    const best = p.points.filter((q) => q.best);
    const sets: ChartConfiguration<"scatter", ScatterDataPoint[]>["data"]["datasets"] = [
      { label: "trials", data: rest, backgroundColor: "rgba(47,127,216,0.65)", borderColor: "#2f7fd8", pointRadius: 4 },
      { label: "best", data: best, backgroundColor: "#e0a21b", borderColor: "#7a5200", borderWidth: 2, pointRadius: 8, pointStyle: "star" as const },
    ];
    if (p.line && p.line.length) {
      sets.unshift({ label: "best so far", data: p.line, showLine: true, borderColor: "rgba(46,158,79,0.7)", pointRadius: 0, borderWidth: 1.5, stepped: true } as never);
    }
    c.data.datasets = sets;
    const xs = c.options.scales!.x as { min?: number; max?: number };
    if (p.categories) {
      xs.min = -0.5;
      xs.max = p.categories.length - 0.5;
    } else {
      delete xs.min;
      delete xs.max;
    }
    c.update("none");
    ref.current!.setAttribute("data-points", String(p.points.length));
  }, [p.points, p.line, p.categories]);

  return (
    <figure class="plot">
      <figcaption>{p.title}</figcaption>
      <div class="plot-box">
        <canvas data-testid={p.testid} ref={ref} />
      </div>
    </figure>
  );
}
