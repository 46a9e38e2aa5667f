import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ConfigResponse, WeightEdit, WeightsRequest, WeightsResponse } from '../../../../engine/admin/contract';
import { api, ApiRequestError } from '../../api/client';
import { clusterKeys, configKeys } from '../../api/keys';

export interface ApplyOutcome {
  ok: boolean;
  before: string;
  response?: WeightsResponse;
  conflict?: string;
  error?: string;
}

/** POST /weights against the version the user was looking at; a 409 means someone changed it. */
export function useApplyWeights() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (vars: { edits: WeightEdit[]; base: ConfigResponse; baseVersion: number }): Promise<ApplyOutcome> => {
      const body: WeightsRequest = { edits: vars.edits, baseVersion: vars.baseVersion };
      try {
        const r = await api.post<WeightsResponse>('/weights', body);
        return { ok: r.ok, before: vars.base.yaml, response: r };
      } catch (e) {
        if (e instanceof ApiRequestError && e.status === 409) return { ok: false, before: vars.base.yaml, conflict: e.message };
        return { ok: false, before: vars.base.yaml, error: e instanceof Error ? e.message : String(e) };
      }
    },
    onSuccess: (out) => {
      if (out.response?.ok) {
        qc.setQueryData<ConfigResponse>(configKeys.running(), (old) => (old ? { ...old, version: out.response!.version, yaml: out.response!.yaml } : old));
      }
      void qc.invalidateQueries({ queryKey: configKeys.all });
      void qc.invalidateQueries({ queryKey: clusterKeys.all });
    },
  });
}
