import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { Authenticated } from '../auth/authenticated.decorator';
import { Caller, type CallContext } from '../auth/request-context';
import { AdminJobsService } from './admin-jobs.service';

class JobRunQueuedResponse extends createZodDto(
  z.object({ job: z.string(), queued: z.literal(true), requestedAt: z.string() }),
) {}

@ApiTags('admin')
@Controller('v1/admin/jobs')
export class AdminJobsController {
  constructor(private readonly jobs: AdminJobsService) {}

  @ApiOperation({ summary: 'Run a maintenance job now' })
  @Post(':jobName/run')
  @HttpCode(202)
  @Authenticated({ platformOnly: true })
  @ApiAcceptedResponse({
    type: JobRunQueuedResponse,
    description: 'A run of the scheduled job is queued now; runs are safe to overlap',
  })
  run(@Caller() call: CallContext, @Param('jobName') jobName: string) {
    return this.jobs.run(call, jobName);
  }
}
