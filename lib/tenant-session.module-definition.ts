import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { TenantSessionModuleOptions } from './options/tenant-session-options.interface.js';

/** forRoot / forRootAsync built the way official Nest modules build them, with `isGlobal`. */
export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: TENANT_SESSION_OPTIONS } =
  new ConfigurableModuleBuilder<TenantSessionModuleOptions>()
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createTenantSessionOptions')
    .setExtras({ isGlobal: false }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
    }))
    .build();
