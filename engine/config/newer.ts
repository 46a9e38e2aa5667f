// Fields that Envoy releases newer than the API protos shipped with Meshdeck (those in
// @grpc/grpc-js-xds) accept, seen in real configs. The validator cannot check them; it keeps
// their values, says so with a warning, and skips the "missing field" checks of the message that
// holds them (its rules may have changed with the new field). Add a field here only with a real
// config that Envoy accepts as evidence.

export const NEWER_FIELDS: ReadonlyMap<string, string> = new Map([
  // envoyproxy/envoy configs/jwt_authn.yaml: a claim given as a path of keys instead of claim_name.
  ['envoy.extensions.filters.http.jwt_authn.v3.JwtClaimToHeader.claim_path', 'envoyproxy/envoy configs/jwt_authn.yaml'],
  // envoyproxy/envoy configs/proxy_protocol.yaml: custom TLVs sent in the PROXY protocol header.
  ['envoy.config.core.v3.ProxyProtocolConfig.added_tlvs', 'envoyproxy/envoy configs/proxy_protocol.yaml'],
  // envoyproxy/envoy docs/root/configuration/http/http_filters/_include/compressor-filter.yaml
  ['envoy.extensions.filters.http.compressor.v3.Compressor.CommonDirectionConfig.uncompressible_response_code', 'envoyproxy/envoy compressor-filter.yaml'],
]);
