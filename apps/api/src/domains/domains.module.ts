import { Module } from '@nestjs/common';
import { ClientSettingsController } from './client-settings.controller';
import { ClientSettingsService } from './client-settings.service';
import { DomainsController } from './domains.controller';
import { DomainsService } from './domains.service';

@Module({
  controllers: [DomainsController, ClientSettingsController],
  providers: [DomainsService, ClientSettingsService],
})
export class DomainsModule {}
