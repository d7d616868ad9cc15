/**
 * npm run dead-letter:replay [-- --dry-run] [-- --source-topic <topic>]
 *
 * Re-publishes the dead-lettered messages of <KAFKA_TOPIC_PREFIX>dead-letter.v1 to the topics they
 * came from, with their keys, up to the end of the dead-letter topic as it is at the start; the
 * consumer group <KAFKA_TOPIC_PREFIX>dead-letter-replay remembers how far it got, so a second run
 * replays only what was dead-lettered since. --dry-run prints what would be replayed and commits
 * nothing; --source-topic replays only the letters of one topic (e.g. logout-requested.v1).
 * KAFKA_BROKERS and KAFKA_TOPIC_PREFIX come from the environment, as for the apps.
 */
import { loadDeadLetterReplayConfig, loadOrExit } from '@ulo/config';
import { DeadLetterReplayOptions, DeadLetterReplayer, createKafka } from '@ulo/messaging';

const USAGE = 'usage: npm run dead-letter:replay [-- [--dry-run] [--source-topic <topic>]]';

function optionsOf(args: string[]): DeadLetterReplayOptions {
  const options: DeadLetterReplayOptions = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--dry-run') options.dryRun = true;
    else if (args[i] === '--source-topic' && args[i + 1]) options.sourceTopic = args[++i];
    else {
      process.stderr.write(`unknown argument ${JSON.stringify(args[i])}\n${USAGE}\n`);
      process.exit(64);
    }
  }
  return options;
}

async function main(): Promise<void> {
  const options = optionsOf(process.argv.slice(2));
  const config = loadOrExit(loadDeadLetterReplayConfig);
  const replayer = new DeadLetterReplayer(createKafka(config, 'dead-letter-replay'), config.kafka.topicPrefix, (line) =>
    process.stdout.write(`${line}\n`),
  );
  const { replayed, skipped, left } = await replayer.replay(options);
  const verb = options.dryRun ? 'would replay' : 'replayed';
  process.stdout.write(`${verb} ${replayed}, skipped ${skipped}${left ? `, left ${left} of other source topics` : ''} (${replayer.topic})\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`dead-letter replay failed: ${err.message}\n`);
  process.exit(1);
});
