import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { SIGNING_ALGORITHMS, SigningAlgorithm } from '@ulo/contracts';
import { ManagementApi } from '../auth/management-api.decorator';
import { SigningKeys } from '../../signing/signing-keys.provider';

export class RotateSigningKeysDto {
  @ApiPropertyOptional({ enum: SIGNING_ALGORITHMS, description: 'The algorithm whose key to rotate; every algorithm when absent' })
  @IsOptional()
  @IsIn(SIGNING_ALGORITHMS, { message: `alg must be one of: ${SIGNING_ALGORITHMS.join(', ')}` })
  alg?: SigningAlgorithm;
}

/** SPEC §6 `keys/signing`: the back-channel signing keys (one current per algorithm), public parts only. */
@ApiTags('keys')
@ManagementApi()
@Controller('api/v2/keys/signing')
export class SigningKeysController {
  constructor(private readonly keys: SigningKeys) {}

  @Get()
  list() {
    return this.keys.list();
  }

  /**
   * A new current key for `alg` (or for every algorithm), answered as the list of the new keys;
   * each old one stays published as `previous` so tokens in flight still verify.
   */
  @Post('rotate')
  @HttpCode(201)
  rotate(@Body() dto: RotateSigningKeysDto = {}) {
    return this.keys.rotate(dto.alg ? [dto.alg] : SIGNING_ALGORITHMS);
  }
}
