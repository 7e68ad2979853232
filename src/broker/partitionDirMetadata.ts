// partition.metadata: the topic id a partition directory belongs to, in Kafka's own format (a file of that name in
// every partition directory, `version: 0` and `topic_id: <id>`). Directory names (<topic>-<n>) repeat when a topic is
// deleted and created again; the id tells which incarnation the data belongs to, so a broker deletes a directory only
// when the controller recorded that very topic id as deleted (or a live topic of that name has another id).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PARTITION_METADATA_FILE = 'partition.metadata';

/** The topic id recorded in a partition directory, or null (no file: a directory written before ids were kept). */
export function readPartitionTopicId(dir: string): string | null {
  try {
    const text = readFileSync(join(dir, PARTITION_METADATA_FILE), 'utf8');
    return /^topic_id: (\S+)$/m.exec(text)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Records `topicId` in `dir` unless it is there already (`newDir`: the directory was just made, nothing to read). */
export function writePartitionTopicId(dir: string, topicId: string, newDir = false): void {
  if (!newDir && readPartitionTopicId(dir) === topicId) return;
  writeFileSync(join(dir, PARTITION_METADATA_FILE), `version: 0\ntopic_id: ${topicId}\n`);
}
