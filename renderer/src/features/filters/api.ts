// The filter-chain screen's data: GET /api/v1/filters (polled: counters move with traffic) and the
// security kit (POST /api/v1/kit).

import { queryOptions, useMutation } from '@tanstack/react-query';
import type { FilterChainsResponse, KitRequest, KitResponse } from '../../../../engine/admin/contract';
import { api } from '../../api/client';

export const filterKeys = {
  all: ['filters'] as const,
  chains: () => [...filterKeys.all, 'chains'] as const,
};

export const filterChainsQuery = (refetchMs: number | false = 2000) =>
  queryOptions({
    queryKey: filterKeys.chains(),
    queryFn: ({ signal }) => api.get<FilterChainsResponse>('/filters', undefined, signal),
    refetchInterval: refetchMs,
    staleTime: 1000,
  });

export function useCreateKit() {
  return useMutation({ mutationFn: (req: KitRequest) => api.post<KitResponse>('/kit', req) });
}
