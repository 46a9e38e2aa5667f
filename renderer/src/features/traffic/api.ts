// The traffic screen's data: one overview query (capture, sessions, sets, runs), a run's detail,
// a comparison, and the actions. Polls quickly only while a replay runs.

import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import type {
  CaptureRequest,
  ReplayComparison,
  ReplayRequest,
  ReplayRunDetail,
  ReplayRunResponse,
  TrafficOverview,
  TrafficSetResponse,
} from '../../../../engine/admin/contract';
import { api } from '../../api/client';

export const trafficKeys = {
  all: ['traffic'] as const,
  overview: () => [...trafficKeys.all, 'overview'] as const,
  run: (id: string) => [...trafficKeys.all, 'run', id] as const,
  compare: (a: string, b: string) => [...trafficKeys.all, 'compare', a, b] as const,
};

const running = (o: TrafficOverview | undefined) => !!o?.runs.some((r) => r.state === 'running');

export const overviewQuery = () =>
  queryOptions({
    queryKey: trafficKeys.overview(),
    queryFn: ({ signal }) => api.get<TrafficOverview>('/traffic', undefined, signal),
    refetchInterval: (q) => (running(q.state.data) ? 400 : 3000),
  });

export const runQuery = (id: string, live: boolean) =>
  queryOptions({
    queryKey: trafficKeys.run(id),
    queryFn: ({ signal }) => api.get<ReplayRunDetail>('/traffic/run', { id, limit: 300 }, signal),
    refetchInterval: live ? 500 : false,
  });

export const compareQuery = (a: string, b: string, live: boolean) =>
  queryOptions({
    queryKey: trafficKeys.compare(a, b),
    queryFn: ({ signal }) => api.get<ReplayComparison>('/traffic/compare', { a, b }, signal),
    refetchInterval: live ? 700 : false,
  });

function useInvalidating<V, R>(fn: (v: V) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => qc.invalidateQueries({ queryKey: trafficKeys.all }) });
}

/** The answer is the new overview: shown at once, without waiting for the next poll. */
export function useCapture() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: CaptureRequest) => api.post<TrafficOverview>('/traffic/capture', v),
    onSuccess: (o) => qc.setQueryData(trafficKeys.overview(), o),
  });
}
export const useImport = () => useInvalidating((v: { har: string; name: string }) => api.post<TrafficSetResponse>('/traffic/import', v));
export const useFromCapture = () => useInvalidating((session: string) => api.post<TrafficSetResponse>('/traffic/from-capture', { session }));
export const useReplay = () => useInvalidating((v: ReplayRequest) => api.post<ReplayRunResponse>('/traffic/replay', v));
export const useCancel = () => useInvalidating((id: string) => api.post<ReplayRunResponse>('/traffic/cancel', { id }));

/** Fetches a HAR from the engine (with the token) and hands it to the browser as a download. */
export async function downloadHar(query: Record<string, string>, filename: string): Promise<void> {
  const har = await api.get<unknown>('/traffic/export', query);
  const url = URL.createObjectURL(new Blob([JSON.stringify(har, null, 1)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename.endsWith('.har') ? filename : `${filename}.har`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
