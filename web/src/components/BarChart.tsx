// A bar chart with axes and readable labels at any width. Long labels are cut with an ellipsis and keep their full
// text in a tooltip; a visually hidden table gives the same figures to screen readers (and to tests).
import { Bar, BarChart as Chart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface BarDatum {
  label: string;
  count: number;
}

const MAX_LABEL = 14;
const short = (label: string): string => (label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label);

function Tick({ x, y, payload }: { x?: number; y?: number; payload?: { value: string } }) {
  const label = payload?.value ?? "";
  return (
    <g transform={`translate(${x ?? 0},${y ?? 0})`}>
      <title>{label}</title>
      <text dy={12} textAnchor="end" transform="rotate(-35)" className="chart-tick">
        {short(label)}
      </text>
    </g>
  );
}

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
        <ResponsiveContainer width="100%" height={300}>
          <Chart data={data} margin={{ top: 8, right: 8, bottom: 56, left: 8 }} accessibilityLayer={false}>
            <CartesianGrid strokeDasharray="3 3" className="chart-grid" />
            <XAxis
              dataKey="label"
              interval={0}
              tick={<Tick />}
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
      </div>
      <table className="sr-only">
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
    </figure>
  );
}
