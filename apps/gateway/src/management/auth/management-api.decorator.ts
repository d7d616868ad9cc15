import { applyDecorators, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ManagementAuditInterceptor } from '../audit/management-audit.interceptor';
import { ManagementTokenGuard } from './management-token.guard';

/**
 * A Management API controller (SPEC §6): every route behind the management token, every write
 * logged as `sapi` / `fapi` (SPEC §5).
 */
export const ManagementApi = () =>
  applyDecorators(ApiBearerAuth(), UseGuards(ManagementTokenGuard), UseInterceptors(ManagementAuditInterceptor));
