import { Module } from '@nestjs/common';
import { FiltersController } from './filters.controller';
import { FiltersService } from './filters.service';
import { VacationController } from './vacation.controller';
import { VacationService } from './vacation.service';

@Module({ controllers: [FiltersController, VacationController], providers: [FiltersService, VacationService] })
export class FiltersModule {}
