import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';

/**
 * Hands a handler's error to the transport as it was thrown. Without it Nest's default RPC filter
 * replaces every error with `{ status: 'error', message: 'Internal server error' }`, and
 * KafkaEventServer could not tell poison (dead-letter) from an outage (retry quietly) from a bug.
 */
@Catch()
export class HandlerErrorFilter implements RpcExceptionFilter {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
