// Builds StreamInfo objects for formatter tests: a request with nothing set, and the mapping of the
// corpus' `facts` (Envoy test vectors) onto it. An unknown fact fails loudly, so a corpus that grows
// new facts cannot silently pass.

import { newStreamInfo, type StreamInfo, type FilterStateObject } from '../../../engine/observe/stream-info';
import { ResponseFlag } from '../../../engine/observe/response-flags';

export function emptyInfo(over: Partial<StreamInfo> = {}): StreamInfo {
  return newStreamInfo({ startMono: 1000, ...over });
}

type Pairs = Array<[string, string]>;

function flat(pairs: Pairs): string[] {
  const out: string[] = [];
  for (const [k, v] of pairs) out.push(k.toLowerCase(), v);
  return out;
}

/** A filter-state object in the corpus: `{string_accessor: "v"}` (TYPED/PLAIN "v") or `{unserializable_any: "T"}` (no serialization). */
function filterStateObject(desc: Record<string, unknown>): FilterStateObject {
  if (typeof desc.string_accessor === 'string') return { typed: desc.string_accessor, plain: desc.string_accessor };
  if (typeof desc.unserializable_any === 'string') return {};
  throw new Error(`unknown filter_state object in the corpus: ${JSON.stringify(desc)}`);
}

export interface MappedFacts {
  info: StreamInfo;
  env: Record<string, string>;
}

/** The corpus' facts → a StreamInfo (and the environment ENVIRONMENT reads). */
export function infoFromFacts(facts: Record<string, unknown>): MappedFacts {
  const info = emptyInfo();
  let env: Record<string, string> = {};
  for (const [key, v] of Object.entries(facts)) {
    switch (key) {
      case 'protocol':
        info.protocol = v === null ? '' : String(v);
        break;
      case 'request_headers':
        for (const [name, value] of v as Pairs) {
          const n = name.toLowerCase();
          if (n === ':method') info.method = value;
          else if (n === ':path') info.originalPath = value;
          else if (n === ':authority') info.authority = value;
          else if (n.startsWith(':')) throw new Error(`unmapped pseudo-header ${n}`);
          else if (info.requestHeaders[n] === undefined) info.requestHeaders[n] = value;
        }
        break;
      case 'response_headers':
        info.responseHeaderList = flat(v as Pairs);
        break;
      case 'response_trailers':
        info.responseTrailerList = flat(v as Pairs);
        break;
      case 'start_time_epoch_s':
        info.startTimeUs = Number(v) * 1e6;
        info.startTimeMs = Number(v) * 1000;
        break;
      case 'start_time_epoch_us':
        info.startTimeUs = Number(v);
        info.startTimeMs = Math.floor(Number(v) / 1000);
        break;
      case 'start_time': {
        const ms = Date.parse(String(v));
        if (Number.isNaN(ms)) throw new Error(`bad start_time ${String(v)}`);
        info.startTimeMs = ms;
        info.startTimeUs = ms * 1000;
        break;
      }
      case 'response_code':
        info.responseCode = Number(v);
        break;
      case 'response_flags':
        for (const name of v as string[]) {
          const bit = (ResponseFlag as Record<string, number>)[name];
          if (bit === undefined) throw new Error(`unknown response flag ${name}`);
          info.responseFlags |= bit;
        }
        break;
      case 'bytes_received':
        info.bytesReceived = Number(v);
        break;
      case 'bytes_sent':
        info.bytesSent = Number(v);
        break;
      case 'duration_ms':
        info.lastDownstreamTxMono = info.startMono + Number(v);
        break;
      case 'duration_ns':
        info.lastDownstreamTxMono = info.startMono + Number(v) / 1e6;
        break;
      case 'request_duration_ms':
        info.lastDownstreamRxMono = info.startMono + Number(v);
        break;
      case 'upstream_host':
        info.upstreamHost = String(v);
        break;
      case 'upstream_cluster':
        info.clusterName = String(v);
        break;
      case 'downstream_local_address':
        info.downstreamLocalAddress = String(v);
        break;
      case 'downstream_remote_address':
        info.downstreamRemoteAddress = String(v);
        break;
      case 'dynamic_metadata':
        info.dynamicMetadata = v as Record<string, Record<string, unknown>>;
        break;
      case 'filter_state': {
        const fs: Record<string, FilterStateObject> = {};
        for (const [k, desc] of Object.entries(v as Record<string, Record<string, unknown>>)) fs[k] = filterStateObject(desc);
        info.filterState = fs;
        break;
      }
      case 'env':
        env = v as Record<string, string>;
        break;
      default:
        throw new Error(`the corpus has a fact this test does not map: ${key}`);
    }
  }
  return { info, env };
}
