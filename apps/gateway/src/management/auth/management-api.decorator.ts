import { applyDecorators, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ManagementAuditInterceptor } from '../audit/management-audit.interceptor';
import { ManagementInputInterceptor } from '../input/management-input.interceptor';
import { ManagementTokenGuard } from './management-token.guard';

/**
 * A Management API controller (SPEC §6): every route behind the management token, every write
 * logged as `sapi` / `fapi` (SPEC §5), hostile input refused with 400 (SPEC §7).
 */
export const ManagementApi = () =>
  applyDecorators(
    ApiBearerAuth(),
    UseGuards(ManagementTokenGuard),
    // The audit interceptor is the outer one: it logs the input interceptor's refusals too.
    UseInterceptors(ManagementAuditInterceptor, ManagementInputInterceptor),
  );
