import { Module } from '@nestjs/common';
import { ApiKeysController, TenantApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';

@Module({ controllers: [ApiKeysController, TenantApiKeysController], providers: [ApiKeysService] })
export class ApiKeysModule {}
