/** One figure a benchmark reports (bench/index.ts prints them as JSON lines and a markdown table). */
export interface BenchResult {
  bench: string;
  case: string;
  value: number;
  unit: string;
  [detail: string]: unknown;
}
