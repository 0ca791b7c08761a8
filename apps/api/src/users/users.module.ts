import { Module } from '@nestjs/common';
import { TenantUsersController } from './tenant-users.controller';
import { UsersService } from './users.service';

@Module({ controllers: [TenantUsersController], providers: [UsersService], exports: [UsersService] })
export class UsersModule {}
