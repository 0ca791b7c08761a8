import { Module } from '@nestjs/common';
import { DeliveriesController } from './deliveries.controller';
import { DeliveriesService } from './deliveries.service';
import { SuppressionsService } from './suppressions.service';

@Module({ controllers: [DeliveriesController], providers: [DeliveriesService, SuppressionsService] })
export class DeliveriesModule {}
