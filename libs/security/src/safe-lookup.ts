import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';
import { isPrivateAddress } from './outbound-url.policy';

/** The error code of a connection refused because the host resolves to a private address. */
export const PRIVATE_ADDRESS_CODE = 'EPRIVATEADDRESS';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for sockets that refuses private and loopback addresses at connect time, so a
 * hostname that resolves to an internal address (or is rebound to one) is never reached.
 */
export function safeLookup(allowPrivateNetwork: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses;
      const refused = !allowPrivateNetwork && list.some((a) => isPrivateAddress(a.address));
      if (refused) {
        const error: NodeJS.ErrnoException = new Error(`${hostname} resolves to a private network address`);
        error.code = PRIVATE_ADDRESS_CODE;
        return callback(error, []);
      }
      if (options.all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}
