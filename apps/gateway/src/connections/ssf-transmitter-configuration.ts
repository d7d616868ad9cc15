/**
 * SSF 1.0 §7.1 Transmitter Configuration Metadata, the members this service reads: the keys that
 * sign the transmitter's SETs, and the endpoints a receiver manages its stream with. Every URL in
 * it goes through the outbound rules (SPEC §4) when it is called, like any configured one.
 */
export interface TransmitterConfiguration {
  issuer: string;
  jwks_uri: string;
  delivery_methods_supported: string[];
  configuration_endpoint?: string;
  status_endpoint?: string;
  add_subject_endpoint?: string;
  remove_subject_endpoint?: string;
  verification_endpoint?: string;
}

/** The document is not a usable configuration of the expected transmitter; the reason is for our log. */
export class InvalidTransmitterConfigurationException extends Error {}

const ENDPOINTS = ['configuration_endpoint', 'status_endpoint', 'add_subject_endpoint', 'remove_subject_endpoint', 'verification_endpoint'] as const;

/**
 * SSF 1.0 §7.2: the configuration's `issuer` MUST be identical to the issuer it was read from, or
 * none of it may be used (a document served for another transmitter names another's keys).
 */
export function parseTransmitterConfiguration(document: unknown, expectedIssuer: string): TransmitterConfiguration {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new InvalidTransmitterConfigurationException('the SSF configuration is not a JSON object');
  }
  const doc = document as Record<string, unknown>;
  if (doc.issuer !== expectedIssuer) throw new InvalidTransmitterConfigurationException('the SSF configuration names another issuer');
  if (typeof doc.jwks_uri !== 'string') throw new InvalidTransmitterConfigurationException('the SSF configuration names no jwks_uri');
  const methods = Array.isArray(doc.delivery_methods_supported) ? doc.delivery_methods_supported.filter((m): m is string => typeof m === 'string') : [];
  const config: TransmitterConfiguration = { issuer: expectedIssuer, jwks_uri: doc.jwks_uri, delivery_methods_supported: methods };
  for (const member of ENDPOINTS) {
    const url = doc[member];
    if (typeof url === 'string') config[member] = url;
  }
  return config;
}
