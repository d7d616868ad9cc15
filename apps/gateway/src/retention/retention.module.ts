import { Module } from '@nestjs/common';
import { RetentionPruner } from './retention.pruner';

/** What the database keeps and for how long: the prune that keeps it bounded. */
@Module({ providers: [RetentionPruner], exports: [RetentionPruner] })
export class RetentionModule {}
