import { Module } from '@nestjs/common';
import { LegalHoldController } from './legal-hold.controller';
import { LegalHoldService } from './legal-hold.service';

@Module({ controllers: [LegalHoldController], providers: [LegalHoldService] })
export class LegalHoldModule {}
