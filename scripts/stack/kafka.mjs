// Kafka 3.9.1 for scripts/stack.mjs: single-node KRaft (broker+controller) run with
// `java -cp`, jars from Maven Central via scripts/kafka/pom.xml; creates the topics
// of shared/bus/topics.json.
import fs from 'node:fs';
import path from 'node:path';
import { REPO, STATE, fatal, note, paths, parseAddr, run, target, which } from './util.mjs';

const VERSION = '3.9.1';
const P = paths('kafka');
const LIBS = path.join(STATE, `kafka-${VERSION}`, 'libs');
const CONF = path.join(P.dir, 'server.properties');
const LOG4J = path.join(P.dir, 'log4j.properties');
const CONTROLLER_PORT = 19093;
const BROKERS = (process.env.KAFKA_BROKERS || 'localhost:9092').split(',').map((s) => s.trim()).filter(Boolean);
const jarsPresent = () => fs.existsSync(path.join(LIBS, `kafka_2.13-${VERSION}.jar`));
const java = (args) => run(which('java'), [`-Dlog4j.configuration=file:${LOG4J}`, '-cp', `${LIBS}/*`, ...args]);

function serverProperties(t) {
  const h = t.bind.includes(':') ? `[${t.bind}]` : t.bind;
  return `# written by scripts/stack.mjs on every start; edit that script, not this file
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${h}:${CONTROLLER_PORT}
listeners=PLAINTEXT://${h}:${t.port},CONTROLLER://${h}:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${h}:${t.port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${P.data}
num.partitions=8
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=168
num.network.threads=3
num.io.threads=4
`;
}

const log4j = `log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${P.log}
log4j.appender.file.Append=true
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=WARN
log4j.logger.org.apache.kafka=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.zookeeper=WARN
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.kafka.server.ControllerServer=INFO
`;

/** Jars from Maven Central, into a temp dir renamed into place so a broken download is never used. */
async function downloadJars() {
  if (jarsPresent()) return;
  note(`kafka: downloading Kafka ${VERSION} jars from Maven Central (one time) into ${LIBS}`);
  const tmp = `${LIBS}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const r = await run(which('mvn'), ['-q', '-B', '-f', path.join(REPO, 'scripts/kafka/pom.xml'), 'dependency:copy-dependencies',
    `-DoutputDirectory=${tmp}`, '-DincludeScope=runtime']);
  if (r.code !== 0 || !fs.existsSync(path.join(tmp, `kafka_2.13-${VERSION}.jar`))) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`mvn dependency:copy-dependencies failed: ${r.out.trim().split('\n').slice(-5).join(' | ')}`);
  }
  fs.rmSync(LIBS, { recursive: true, force: true });
  fs.renameSync(tmp, LIBS);
}

async function admin(t) {
  const { Kafka, logLevel } = (await import('kafkajs')).default;
  const brokers = t.local ? [t.addr] : BROKERS.map((b) => b.replace(/^[a-z]+:\/\//i, ''));
  const a = new Kafka({ clientId: 'im-stack', brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10000,
    retry: { retries: 0 } }).admin();
  await a.connect();
  return a;
}
const topicsWanted = () => JSON.parse(fs.readFileSync(path.join(REPO, 'shared/bus/topics.json'), 'utf8'));

export default {
  name: 'kafka',
  marker: 'kafka.Kafka',
  log: P.log,
  target: () => {
    const all = BROKERS.map((b) => { const a = parseAddr(b, 9092); return target('kafka', a.host, a.port); });
    return all.find((x) => !x.local) || all[0];
  },
  bins: () => ({ java: 'default-jre-headless', ...(jarsPresent() ? {} : { mvn: 'maven' }) }),

  /** Jars, config files, and the one-time storage format with a generated cluster id. */
  async prepare(t) {
    await downloadJars();
    fs.mkdirSync(P.data, { recursive: true });
    fs.writeFileSync(CONF, serverProperties(t));
    fs.writeFileSync(LOG4J, log4j);
    if (fs.existsSync(path.join(P.data, 'meta.properties'))) return;
    const idFile = path.join(P.dir, 'cluster.id');
    if (!fs.existsSync(idFile)) {
      const r = await java(['kafka.tools.StorageTool', 'random-uuid']);
      const id = r.out.trim().split('\n').pop().trim();
      if (r.code !== 0 || !/^[\w-]{22}$/.test(id)) throw new Error(`StorageTool random-uuid failed: ${r.out.trim()}`);
      fs.writeFileSync(idFile, id);
    }
    const r = await java(['kafka.tools.StorageTool', 'format', '-t', fs.readFileSync(idFile, 'utf8').trim(), '-c', CONF, '--ignore-formatted']);
    fs.appendFileSync(P.log, r.out);
    if (r.code !== 0) throw new Error(`StorageTool format failed (exit ${r.code})`);
  },

  command: () => [which('java'), ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${LOG4J}`, `-Dkafka.logs.dir=${P.dir}`,
    '-cp', `${LIBS}/*`, 'kafka.Kafka', CONF]],

  async ping(t) {
    const a = await admin(t);
    try { await a.listTopics(); } finally { await a.disconnect(); }
  },

  /** Create missing topics; grow partitions of existing ones that have fewer; touch nothing else. */
  async setup(t) {
    const wanted = topicsWanted();
    const rf = Number(process.env.KAFKA_REPLICATION_FACTOR) || (t.local ? 1 : -1); // -1: the broker's default
    const a = await admin(t);
    try {
      const have = new Set(await a.listTopics());
      const missing = Object.entries(wanted).filter(([name]) => !have.has(name));
      if (missing.length) {
        await a.createTopics({ waitForLeaders: true, timeout: 10000, topics: missing.map(([topic, c]) => ({
          topic, numPartitions: c.partitions, replicationFactor: rf,
          configEntries: [{ name: 'retention.ms', value: String(c.retentionMs) }] })) });
      }
      const existing = Object.keys(wanted).filter((n) => have.has(n));
      if (!existing.length) return;
      const { topics } = await a.fetchTopicMetadata({ topics: existing });
      const grow = topics.filter((x) => x.partitions.length < wanted[x.name].partitions)
        .map((x) => ({ topic: x.name, count: wanted[x.name].partitions }));
      if (grow.length) await a.createPartitions({ topicPartitions: grow });
    } catch (e) {
      throw /authoriz|SASL|not allowed/i.test(e.message) ? fatal(e.message) : e;
    } finally { await a.disconnect(); }
  },

  /** Every configured topic exists with its partitions, each with a leader. */
  async verify(t) {
    const wanted = topicsWanted();
    const a = await admin(t);
    try {
      const { topics } = await a.fetchTopicMetadata({ topics: Object.keys(wanted) });
      for (const x of topics) {
        if (x.partitions.length < wanted[x.name].partitions) throw new Error(`topic ${x.name} has ${x.partitions.length} partitions`);
        if (x.partitions.some((p) => p.leader < 0)) throw new Error(`topic ${x.name} has partitions without a leader`);
      }
      // Consumers work at once: this creates __consumer_offsets and waits for its coordinator.
      await a.describeGroups(['im-stack-probe']).catch((e) => { throw new Error(`group coordinator: ${e.message}`); });
    } finally { await a.disconnect(); }
  },
};
