import { Module } from '@nestjs/common';
import { RetentionRunsController } from './retention-runs.controller';
import { RetentionRunsService } from './retention-runs.service';

@Module({ controllers: [RetentionRunsController], providers: [RetentionRunsService] })
export class RetentionRunsModule {}
