import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { ResellersController } from './resellers.controller';
import { ResellersService } from './resellers.service';

@Module({ imports: [UsersModule], controllers: [ResellersController], providers: [ResellersService] })
export class ResellersModule {}
