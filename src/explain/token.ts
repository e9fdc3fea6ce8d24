/**
 * Reads the claims of a GitLab ID token (a JWT) without verifying it: explain needs the `sub`, `aud`
 * and `iss` a job would present, not proof that they are genuine. The signature is never decoded,
 * kept or printed.
 */

export type TokenClaims = Record<string, unknown>;

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenError";
  }
}

/** The payload of a compact JWS (`header.payload.signature`); surrounding white space is ignored. */
export function decodeTokenClaims(token: string): TokenClaims {
  const parts = token.trim().split(".");
  if (parts.length !== 3 || parts[1] === "") {
    throw new TokenError(
      `not a JWT: expected three dot-separated parts (header.payload.signature), got ${parts.length}`,
    );
  }
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(parts[1])) {
    throw new TokenError("not a JWT: the payload is not base64url");
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    throw new TokenError("not a JWT: the payload is not JSON");
  }
  if (!claims || typeof claims !== "object" || Array.isArray(claims)) {
    throw new TokenError("not a JWT: the payload is not a JSON object");
  }
  return claims as TokenClaims;
}

/** The token's `aud` as a list (a JWT may carry one string or several). */
export function audiencesOf(claims: TokenClaims): string[] | undefined {
  const aud = claims.aud;
  if (typeof aud === "string") return [aud];
  if (Array.isArray(aud) && aud.every((a) => typeof a === "string")) return aud as string[];
  return undefined;
}
