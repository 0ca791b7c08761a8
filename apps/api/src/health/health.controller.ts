import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import type { Response } from 'express';
import { Public } from '../auth/authenticated.decorator';
import { TenantDb } from '../infra/tenant-db.service';
import { RedisService } from '../infra/redis.service';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly db: TenantDb,
    private readonly redis: RedisService,
  ) {}

  /** 200 when PostgreSQL and Redis answer, else 503 with the same body naming what is down. */
  @ApiOperation({ summary: 'Health of the API and what it depends on' })
  @Get()
  @HealthCheck()
  @ApiOkResponse({ description: 'PostgreSQL and Redis answer' })
  @ApiServiceUnavailableResponse({ description: 'PostgreSQL or Redis does not answer; `details` names which' })
  async check(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        async () => {
          const indicator = this.indicators.check('database');
          return (await this.db.ping()) ? indicator.up() : indicator.down();
        },
        async () => {
          const indicator = this.indicators.check('redis');
          return (await this.redis.ping()) ? indicator.up() : indicator.down();
        },
      ]);
    } catch (err) {
      // Terminus reports failure as an exception; a load balancer wants the report itself, not
      // a problem document, so answer it directly with 503.
      if (err instanceof ServiceUnavailableException) {
        res.status(503);
        return err.getResponse() as HealthCheckResult;
      }
      throw err;
    }
  }
}
