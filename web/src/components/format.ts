// How values, numbers and times read in the UI.
export const fmtTime = (time: string | null | undefined): string => (time ? new Date(time).toLocaleString() : "—");

export const fmtNumber = (x: number | null | undefined): string =>
  x === null || x === undefined ? "—" : Number(x).toLocaleString(undefined, { maximumFractionDigits: 2 });

/** A variable's value as text: strings as they are, everything else as its JSON. */
export const fmtValue = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

export const lower = (s: string): string => s.toLowerCase();
