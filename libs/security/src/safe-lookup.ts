import { lookup as dnsLookup, LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import { isPrivateAddress } from './outbound-url.policy';

/** The error code of a connection refused because the host resolves to a private address. */
export const PRIVATE_ADDRESS_CODE = 'EPRIVATEADDRESS';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** How names are resolved: node's `dns.lookup` with `all: true` (a test may pass its own). */
export type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export function privateAddressError(message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = PRIVATE_ADDRESS_CODE;
  return error;
}

/**
 * A `lookup` for sockets that refuses private and loopback addresses at connect time, so a
 * hostname that resolves to an internal address (or is rebound to one) is never reached. Every
 * address is checked, and the socket connects only to the addresses checked: resolve, check,
 * then connect to exactly that (no second resolution an attacker's DNS could answer differently).
 */
export function safeLookup(allowPrivateNetwork: boolean, resolve: Resolver = dnsLookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (addresses.length === 0) {
        const none: NodeJS.ErrnoException = new Error(`${hostname} has no address`);
        none.code = 'ENOTFOUND';
        return callback(none, []);
      }
      if (!allowPrivateNetwork && addresses.some((a) => isPrivateAddress(a.address))) {
        return callback(privateAddressError(`${hostname} resolves to a private network address`), []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
