// A bar chart with axes and readable labels at any width. Long labels are cut with an ellipsis and keep their full
// text in a tooltip; a visually hidden table gives the same figures to screen readers (and to tests).
import { Bar, BarChart as Chart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface BarDatum {
  label: string;
  count: number;
}

const short = (label: string, max: number): string => (label.length > max ? `${label.slice(0, max - 1)}…` : label);

function Tick({ x, y, payload, slanted }: { x?: number; y?: number; payload?: { value: string }; slanted: boolean }) {
  const label = payload?.value ?? "";
  return (
    <g transform={`translate(${x ?? 0},${y ?? 0})`}>
      <title>{label}</title>
      <text dy={slanted ? 12 : 4} dx={slanted ? 0 : -4} textAnchor="end" transform={slanted ? "rotate(-35)" : undefined} className="chart-tick">
        {short(label, slanted ? 14 : 26)}
      </text>
    </g>
  );
}

// Up to this many bars stand side by side; more lie one under another, each label on a line of its own.
const UPRIGHT = 8;

export function BarChart({ title, data, xLabel, yLabel = "Learners" }: {
  title: string;
  data: BarDatum[];
  xLabel: string;
  yLabel?: string;
}) {
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="chart-canvas" aria-hidden="true">
        {data.length <= UPRIGHT ? (
          <ResponsiveContainer width="100%" height={300}>
            <Chart data={data} margin={{ top: 8, right: 8, bottom: 56, left: 8 }} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" className="chart-grid" />
              <XAxis
                dataKey="label"
                interval={0}
                tick={<Tick slanted />}
                height={64}
                label={{ value: xLabel, position: "insideBottom", offset: -48, className: "chart-axis-label" }}
              />
              <YAxis
                allowDecimals={false}
                tick={{ className: "chart-tick" }}
                width={48}
                label={{ value: yLabel, angle: -90, position: "insideLeft", className: "chart-axis-label" }}
              />
              <Tooltip cursor={{ className: "chart-cursor" }} />
              <Bar dataKey="count" name={yLabel} className="chart-bar" isAnimationActive={false} />
            </Chart>
          </ResponsiveContainer>
        ) : (
          <ResponsiveContainer width="100%" height={Math.max(200, 26 * data.length + 60)}>
            <Chart data={data} layout="vertical" margin={{ top: 8, right: 16, bottom: 24, left: 8 }} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" className="chart-grid" />
              <XAxis
                type="number"
                allowDecimals={false}
                tick={{ className: "chart-tick" }}
                label={{ value: yLabel, position: "insideBottom", offset: -16, className: "chart-axis-label" }}
              />
              <YAxis type="category" dataKey="label" interval={0} width={180} tick={<Tick slanted={false} />} />
              <Tooltip cursor={{ className: "chart-cursor" }} />
              <Bar dataKey="count" name={yLabel} className="chart-bar" isAnimationActive={false} />
            </Chart>
          </ResponsiveContainer>
        )}
      </div>
      <div className="sr-only">
      <table>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{xLabel}</th>
            <th scope="col">{yLabel}</th>
          </tr>
        </thead>
        <tbody>
          {data.map((d, i) => (
            <tr key={i}>
              <td>{d.label}</td>
              <td>{d.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}
