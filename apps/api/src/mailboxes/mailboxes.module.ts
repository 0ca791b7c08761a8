import { Module } from '@nestjs/common';
import { AppPasswordsController } from './app-passwords.controller';
import { AppPasswordsService } from './app-passwords.service';
import { ForwardingController } from './forwarding.controller';
import { ForwardingService } from './forwarding.service';
import { MailboxCreator } from './mailbox-creator.service';
import { MailboxImportService } from './mailbox-import.service';
import { MailboxesController } from './mailboxes.controller';
import { MailboxesService } from './mailboxes.service';

@Module({
  controllers: [MailboxesController, ForwardingController, AppPasswordsController],
  providers: [MailboxesService, MailboxCreator, MailboxImportService, ForwardingService, AppPasswordsService],
})
export class MailboxesModule {}
