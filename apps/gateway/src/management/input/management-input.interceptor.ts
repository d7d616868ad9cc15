import { BadRequestException, CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { Observable } from 'rxjs';

/** Names that reach an object's prototype when used as a key. */
const PROTOTYPE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
/** C0 controls and DEL: no id, name, date or number of the API holds one. */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** PostgreSQL text and jsonb cannot hold NUL: it would fail the statement (a 500) instead of a 400. */
const NUL = /\u0000/;
/** Longer than any id, name or filter value of the API. */
const MAX_PARAMETER_LENGTH = 1024;
/** Deeper than any body of the API (a log stream's sink headers are at depth 4). */
const MAX_BODY_DEPTH = 32;

/**
 * SPEC §7 for the Management API: input that no endpoint accepts is answered 400 here, before
 * validation, the database or a lookup by key sees it: control characters in a path or query
 * parameter, NUL anywhere in a body, prototype property names as a query or body key, overlong
 * parameters, bodies nested deeper than any resource. Inside the audit interceptor, so a write
 * refused here is still logged as `fapi`.
 */
@Injectable()
export class ManagementInputInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    checkParameters('path parameter', req.params);
    checkParameters('query parameter', req.query);
    checkBody(req.body as unknown);
    return next.handle();
  }
}

const refuse = (message: string): never => {
  throw new BadRequestException(message);
};

/** A caller's name for a key in a message: quoted, short, never a control character. */
const nameOf = (key: string) => JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);

function checkParameters(kind: string, parameters: Record<string, unknown> | undefined): void {
  if (!parameters) return;
  for (const key of Object.keys(parameters)) {
    if (CONTROL.test(key)) refuse(`a ${kind} name must not contain control characters`);
    if (PROTOTYPE_NAMES.has(key)) refuse(`${kind} ${nameOf(key)} is not accepted`);
    const value = parameters[key];
    for (const one of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (typeof one !== 'string') refuse(`${kind} ${nameOf(key)} must be text`);
      const text = one as string;
      if (CONTROL.test(text)) refuse(`${kind} ${nameOf(key)} must not contain control characters`);
      if (text.length > MAX_PARAMETER_LENGTH) refuse(`${kind} ${nameOf(key)} must be at most ${MAX_PARAMETER_LENGTH} characters`);
    }
  }
}

/** Walks the parsed JSON without recursion, so that no nesting can overflow the stack. */
function checkBody(body: unknown): void {
  if (body === null || typeof body !== 'object') return;
  const pending: { value: unknown; path: string; depth: number }[] = [{ value: body, path: 'body', depth: 1 }];
  while (pending.length > 0) {
    const { value, path, depth } = pending.pop()!;
    if (typeof value === 'string') {
      if (NUL.test(value)) refuse(`${path} must not contain a NUL character`);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_BODY_DEPTH) refuse(`the body must not nest deeper than ${MAX_BODY_DEPTH} levels`);
    if (Array.isArray(value)) {
      value.forEach((item, i) => pending.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    for (const key of Object.keys(value)) {
      if (NUL.test(key)) refuse(`a member name in ${path} must not contain a NUL character`);
      if (PROTOTYPE_NAMES.has(key)) refuse(`${path} must not have a member named ${nameOf(key)}`);
      pending.push({ value: (value as Record<string, unknown>)[key], path: `${path}.${key.length > 64 ? '…' : key}`, depth: depth + 1 });
    }
  }
}
