import { Module } from '@nestjs/common';
import { SigningKeys } from './signing-keys.provider';

/** The logout-token signing keys (SPEC §4): published by discovery, rotated by the Management API. */
@Module({
  providers: [SigningKeys],
  exports: [SigningKeys],
})
export class SigningModule {}
