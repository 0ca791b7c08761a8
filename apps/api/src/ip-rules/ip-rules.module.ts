import { Module } from '@nestjs/common';
import { IpRulesController } from './ip-rules.controller';
import { IpRulesService } from './ip-rules.service';

@Module({ controllers: [IpRulesController], providers: [IpRulesService] })
export class IpRulesModule {}
