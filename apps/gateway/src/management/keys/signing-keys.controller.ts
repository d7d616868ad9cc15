import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ManagementTokenGuard } from '../auth/management-token.guard';
import { SigningKeys } from '../../signing/signing-keys.provider';

/** SPEC §6 `keys/signing`: the back-channel signing keys, public parts only. */
@ApiTags('keys')
@ApiBearerAuth()
@UseGuards(ManagementTokenGuard)
@Controller('api/v2/keys/signing')
export class SigningKeysController {
  constructor(private readonly keys: SigningKeys) {}

  @Get()
  list() {
    return this.keys.list();
  }

  /** A new current key; the old one stays published as `previous` so tokens in flight still verify. */
  @Post('rotate')
  @HttpCode(201)
  rotate() {
    return this.keys.rotate();
  }
}
