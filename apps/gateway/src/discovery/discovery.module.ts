import { Module } from '@nestjs/common';
import { SigningModule } from '../signing/signing.module';
import { DiscoveryController } from './discovery.controller';

/** SPEC §4: the OpenID Provider metadata and JWKS relying parties verify logout tokens with. */
@Module({
  imports: [SigningModule],
  controllers: [DiscoveryController],
})
export class DiscoveryModule {}
