import { DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from './apps';

export const APP_CONFIG = Symbol('APP_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  /** The app's own config, which main.ts validated (or a test built); injected as APP_CONFIG. */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
