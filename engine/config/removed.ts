// What replaced the fields Envoy removed in v3 (the protos keep their names as `reserved`) and
// the fields it deprecated. Keys are `<message full name>.<field>`; `*.<field>` applies to any
// message. Where this table says nothing, the field's own proto comment is used.

const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const typedHttpOptions = (inner: string): string =>
  `typed_extension_protocol_options: {${HTTP_OPTIONS}: {"@type": type.googleapis.com/${HTTP_OPTIONS}, ${inner}}}`;

/** Removed in v3: message field → what to write instead. */
export const REMOVED_FIELDS: Readonly<Record<string, string>> = {
  'envoy.config.cluster.v3.Cluster.hosts':
    'use load_assignment: {cluster_name: ..., endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: ..., port_value: ...}}}}]}]}',
  'envoy.config.cluster.v3.Cluster.tls_context':
    'use transport_socket: {name: envoy.transport_sockets.tls, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext, ...}}',
  'envoy.config.cluster.v3.Cluster.extension_protocol_options':
    'use typed_extension_protocol_options (each value a typed config with "@type")',
  'envoy.config.listener.v3.FilterChain.tls_context':
    'use transport_socket: {name: envoy.transport_sockets.tls, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, ...}}',
  'envoy.config.listener.v3.Listener.use_original_dst':
    'use listener_filters: [{name: envoy.filters.listener.original_dst}]',
  'envoy.config.bootstrap.v3.Bootstrap.runtime': 'use layered_runtime',
  'envoy.config.route.v3.RouteMatch.regex': 'use safe_regex: {regex: ...}',
  'envoy.config.route.v3.HeaderMatcher.regex_match': 'use string_match: {safe_regex: {regex: ...}}',
  'envoy.config.route.v3.QueryParameterMatcher.value': 'use string_match: {exact: ...}',
  'envoy.config.route.v3.QueryParameterMatcher.regex': 'use string_match: {safe_regex: {regex: ...}}',
  'envoy.config.route.v3.RouteAction.request_mirror_policy': 'use request_mirror_policies (a list)',
  'envoy.config.route.v3.VirtualCluster.pattern': 'use headers: [{name: ":path", string_match: {safe_regex: {regex: ...}}}]',
  'envoy.config.route.v3.VirtualCluster.method': 'use headers: [{name: ":method", string_match: {exact: ...}}]',
  'envoy.config.route.v3.CorsPolicy.allow_origin': 'use allow_origin_string_match',
  'envoy.config.route.v3.CorsPolicy.allow_origin_regex': 'use allow_origin_string_match',
  'envoy.config.core.v3.HealthCheck.HttpHealthCheck.use_http2': 'use codec_client_type: HTTP2',
  'envoy.config.core.v3.HealthCheck.HttpHealthCheck.service_name': 'use service_name_matcher',
  'envoy.config.core.v3.Node.build_version': 'use user_agent_build_version',
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.idle_timeout':
    'use common_http_protocol_options: {idle_timeout: ...}',
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.Tracing.operation_name':
    "set the listener's traffic_direction instead",
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.Tracing.request_headers_for_tags':
    'use custom_tags',
  'envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext.verify_subject_alt_name':
    'use match_typed_subject_alt_names',
  '*.config': 'use typed_config with an "@type" naming the config message',
  '*.per_filter_config': 'use typed_per_filter_config (each value a typed config with "@type")',
};

/** Deprecated (still accepted, with a warning): message field → what to write instead. */
export const DEPRECATED_FIELDS: Readonly<Record<string, string>> = {
  'envoy.config.cluster.v3.Cluster.http2_protocol_options': `use ${typedHttpOptions('explicit_http_config: {http2_protocol_options: {...}}')}`,
  'envoy.config.cluster.v3.Cluster.http_protocol_options': `use ${typedHttpOptions('explicit_http_config: {http_protocol_options: {...}}')}`,
  'envoy.config.cluster.v3.Cluster.common_http_protocol_options': `use ${typedHttpOptions('common_http_protocol_options: {...}')}`,
  'envoy.config.cluster.v3.Cluster.upstream_http_protocol_options': `use ${typedHttpOptions('upstream_http_protocol_options: {...}')}`,
  'envoy.config.cluster.v3.Cluster.protocol_selection': `use ${typedHttpOptions('use_downstream_protocol_config: {...}')}`,
  'envoy.config.cluster.v3.Cluster.track_timeout_budgets': 'use track_cluster_stats: {timeout_budgets: true}',
  'envoy.config.route.v3.WeightedCluster.total_weight': 'remove it: Envoy uses the sum of the cluster weights',
  'envoy.config.bootstrap.v3.Admin.access_log_path':
    'use admin.access_log: [{name: envoy.access_loggers.file, typed_config: {"@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog, path: ...}}]',
  'envoy.config.route.v3.HeaderMatcher.exact_match': 'use string_match: {exact: ...}',
  'envoy.config.route.v3.HeaderMatcher.prefix_match': 'use string_match: {prefix: ...}',
  'envoy.config.route.v3.HeaderMatcher.suffix_match': 'use string_match: {suffix: ...}',
  'envoy.config.route.v3.HeaderMatcher.contains_match': 'use string_match: {contains: ...}',
  'envoy.config.route.v3.HeaderMatcher.safe_regex_match': 'use string_match: {safe_regex: {regex: ...}}',
  'envoy.config.core.v3.HeaderValueOption.append': 'use append_action (APPEND_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS_OR_ADD, ...)',
};

export function lookupReplacement(table: Readonly<Record<string, string>>, messageName: string, field: string): string | undefined {
  return table[`${messageName}.${field}`] ?? table[`*.${field}`];
}

/** Envoy's reStructuredText in proto comments → plain text. */
export function plainComment(comment: string | null | undefined): string {
  if (!comment) return '';
  return comment
    .replace(/\[#[^\]]*\]/g, '')
    .replace(/:ref:`([^`<]*?)\s*<[^>]*>`/g, '$1')
    .replace(/:ref:`([^`]*)`/g, (_m, t: string) => t.split(/[._]/).pop() ?? t)
    .replace(/``([^`]*)``/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\.\.\s+(note|attention|warning)::/gi, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The first sentence of a proto comment, as plain text. */
export function firstSentence(comment: string | null | undefined): string {
  const text = plainComment(comment);
  const m = /^(.*?[.!?])(\s|$)/.exec(text);
  return (m ? m[1] : text).trim();
}

/** "use X" taken from a deprecated field's own comment, e.g. "This field is deprecated. Please use string_match." */
export function deprecationHintFromComment(comment: string | null | undefined): string | undefined {
  const sentences = plainComment(comment).split(/(?<=[.!?])\s+/);
  const useRe = /(?:please use|\buse|in favou?r of|replaced by)\s+(?:the\s+)?([\w.]+(?:\s+field)?)/i;
  for (let i = 0; i < sentences.length; i++) {
    if (!/deprecat|in favou?r of|instead/i.test(sentences[i])) continue;
    for (const s of [sentences[i], sentences[i + 1] ?? '']) {
      const use = useRe.exec(s);
      if (use && use[1].length > 1) return `use ${use[1].replace(/\.$/, '')}`;
    }
  }
  return undefined;
}
