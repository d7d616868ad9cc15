import { CallHandler, ExecutionContext, HttpException, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { from, Observable, throwError } from 'rxjs';
import { catchError, mergeMap } from 'rxjs/operators';
import { ManagementRequest } from '../auth/management-token.guard';
import { ManagementCall, RecordManagementCall } from './record-management-call.usecase';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Logs every Management API write (SPEC §5 `sapi` / `fapi`) once its outcome is known and before
 * the answer leaves: validation errors, conflicts and missing resources included. Reads are not
 * logged. Calls refused by the token guard never reach it: an unauthenticated caller cannot fill
 * the log.
 */
@Injectable()
export class ManagementAuditInterceptor implements NestInterceptor {
  constructor(private readonly record: RecordManagementCall) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<ManagementRequest>();
    if (!WRITES.has(req.method)) return next.handle();
    const call = describeCall(req);
    return next.handle().pipe(
      mergeMap((body: unknown) =>
        from(this.record.execute(call, { statusCode: http.getResponse<Response>().statusCode, body }).then(() => body)),
      ),
      catchError((err: unknown) => {
        const outcome =
          err instanceof HttpException
            ? { statusCode: err.getStatus(), body: err.getResponse(), error: messageOf(err) }
            : { statusCode: 500, body: null, error: 'Internal server error' };
        return from(this.record.execute(call, outcome)).pipe(mergeMap(() => throwError(() => err)));
      }),
    );
  }
}

function describeCall(req: ManagementRequest): ManagementCall {
  const route = (req.route as { path?: string } | undefined)?.path ?? req.path;
  const userId = route.startsWith('/api/v2/users/:id') && typeof req.params.id === 'string' ? req.params.id : null;
  return {
    method: req.method,
    route,
    path: req.path,
    query: { ...(req.query as Record<string, unknown>) },
    body: req.body as unknown,
    // Set by the token guard, which runs first.
    tokenFingerprint: req.managementCaller?.tokenFingerprint ?? 'unknown',
    userId,
    origin: { ip: req.ip, user_agent: req.headers['user-agent'], hostname: req.hostname },
  };
}

/** The error's message as the caller saw it (ValidationPipe gives a list). */
function messageOf(err: HttpException): string {
  const response = err.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : err.message;
}
