import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { SigningKeys } from '../../signing/signing-keys.provider';

/** SPEC §6 `keys/signing`: the back-channel signing keys, public parts only. */
@ApiTags('keys')
@ManagementApi()
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
