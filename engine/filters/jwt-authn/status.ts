// jwt_verify_lib's statuses as Envoy words them: the 401/403 body, and the
// RESPONSE_CODE_DETAILS `jwt_authn_access_denied{<message with spaces as _>}`.

export enum JwtStatus {
  Ok,
  JwtMissed,
  JwtNotYetValid,
  JwtExpired,
  JwtBadFormat,
  JwtUnknownIssuer,
  JwtAudienceNotAllowed,
  JwtVerificationFail,
  JwksKidAlgMismatch,
  JwksFetchFail,
  JwksNoValidKeys,
  JwtHeaderBadAlg,
  JwtLifetimeTooLong,
  JwtExpirationMissing,
}

export const STATUS_MESSAGE: Record<JwtStatus, string> = {
  [JwtStatus.Ok]: 'OK',
  [JwtStatus.JwtMissed]: 'Jwt is missing',
  [JwtStatus.JwtNotYetValid]: 'Jwt not yet valid',
  [JwtStatus.JwtExpired]: 'Jwt is expired',
  [JwtStatus.JwtBadFormat]: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  [JwtStatus.JwtUnknownIssuer]: 'Jwt issuer is not configured',
  [JwtStatus.JwtAudienceNotAllowed]: 'Audiences in Jwt are not allowed',
  [JwtStatus.JwtVerificationFail]: 'Jwt verification fails',
  [JwtStatus.JwksKidAlgMismatch]: "Jwks doesn't have key to match kid or alg from Jwt",
  [JwtStatus.JwksFetchFail]: 'Jwks remote fetch is failed',
  [JwtStatus.JwksNoValidKeys]: 'Jwks doesn\'t have valid keys',
  [JwtStatus.JwtHeaderBadAlg]: 'Jwt header [alg] field is required and must be a string',
  [JwtStatus.JwtLifetimeTooLong]: 'Jwt lifetime is longer than allowed',
  [JwtStatus.JwtExpirationMissing]: 'Jwt is missing expiration',
};

/** Envoy's RESPONSE_CODE_DETAILS for a refusal. */
export function rcDetails(message: string): string {
  return `jwt_authn_access_denied{${message.replace(/\s/g, '_')}}`;
}
