import { Module } from '@nestjs/common';
import { ForwardingController } from './forwarding.controller';
import { ForwardingService } from './forwarding.service';
import { MailboxCreator } from './mailbox-creator.service';
import { MailboxImportService } from './mailbox-import.service';
import { MailboxesController } from './mailboxes.controller';
import { MailboxesService } from './mailboxes.service';

@Module({
  controllers: [MailboxesController, ForwardingController],
  providers: [MailboxesService, MailboxCreator, MailboxImportService, ForwardingService],
})
export class MailboxesModule {}
