// consume-all.js reads topics from the beginning with kafkajs, as a member
// of a consumer group, until each holds the expected number of records,
// then prints one JSON line on stdout saying what it read. pgmotion's
// end-to-end test TestE2EDemoKafkajs (cmd/pgmotion) runs it against the
// demo and compares the line with PostgreSQL and with what kcat reads.
//
//   node consume-all.js BROKER GROUP '{"topic": expected records, ...}' [TIMEOUT_MS]
//
// kafkajs is used as most people install it: alone, with no codec package
// for snappy, lz4 or zstd. Any error that stops the consumer (a crash, a
// batch it cannot decode) ends the script with status 1 and the error on
// stderr; so does reading fewer records than expected before the timeout,
// or more.
//
// The output line:
//   {"topics": {"<topic>": {"records": n, "tombstones": n, "ops": {"c": n, ...},
//                           "rows": {"<key id>": <last "after" value>}}},
//    "committed": {"<topic>": sum of the group's committed offsets}}
// "ops" and "rows" are filled for Debezium change events (JsonConverter
// with schemas): each event's op is counted, and the rows are replayed by
// primary key ("id"), so that "rows" is the table as the events leave it.
'use strict'

const { Kafka, logLevel } = require('kafkajs')

const [broker, groupId, expectJSON, timeoutArg] = process.argv.slice(2)
if (!broker || !groupId || !expectJSON) {
  console.error('usage: node consume-all.js BROKER GROUP \'{"topic": records, ...}\' [TIMEOUT_MS]')
  process.exit(2)
}
const expected = JSON.parse(expectJSON)
const topics = Object.keys(expected)
const timeoutMs = Number(timeoutArg || 60000)

// kafkajs logs through console.info by default, which is stdout: send its
// lines to stderr, keeping stdout for the result.
const logCreator = () => ({ namespace, level, label, log }) => {
  console.error(`kafkajs ${label} ${namespace}: ${log.message}${log.error ? ' (' + log.error + ')' : ''}`)
}

const kafka = new Kafka({ clientId: 'pgmotion-test-kafkajs', brokers: [broker], logLevel: logLevel.WARN, logCreator })
const consumer = kafka.consumer({ groupId })

const read = {}
for (const t of topics) read[t] = { records: 0, tombstones: 0, ops: {}, rows: {}, seen: new Set() }

let finished = false
async function finish (code, message) {
  if (finished) return
  finished = true
  clearTimeout(timer)
  if (message) console.error(message)
  try {
    await consumer.disconnect()
  } catch (e) {
    console.error(`disconnect: ${e.message}`)
  }
  if (code === 0) {
    const committed = {}
    const admin = kafka.admin()
    try {
      await admin.connect()
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
        committed[topic] = partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0)
      }
      await admin.disconnect()
    } catch (e) {
      console.error(`fetch the group's committed offsets: ${e.stack || e}`)
      code = 1
    }
    const out = { topics: {}, committed }
    for (const t of topics) {
      const { records, tombstones, ops, rows } = read[t]
      out.topics[t] = { records, tombstones, ops, rows }
    }
    process.stdout.write(JSON.stringify(out) + '\n')
  }
  process.exit(code)
}

function complete () {
  return topics.every(t => read[t].records >= expected[t])
}

function status () {
  return topics.map(t => `${t} ${read[t].records}/${expected[t]}`).join(', ')
}

const timer = setTimeout(() => finish(1, `timed out after ${timeoutMs} ms: read ${status()}`), timeoutMs)

// Debezium key and value, JsonConverter with schemas: {"schema": ..., "payload": ...}.
function payloadOf (buf) {
  return buf === null ? null : JSON.parse(buf.toString('utf8')).payload
}

function apply (state, message) {
  if (message.value === null) {
    state.tombstones++
    return
  }
  const value = payloadOf(message.value)
  if (value === null || typeof value !== 'object' || typeof value.op !== 'string') return
  state.ops[value.op] = (state.ops[value.op] || 0) + 1
  const key = payloadOf(message.key)
  const id = key && typeof key === 'object' ? String(key.id) : String(key)
  if (value.op === 'd') {
    delete state.rows[id]
  } else {
    state.rows[id] = value.after
  }
}

async function main () {
  consumer.on(consumer.events.CRASH, e => {
    const err = e.payload.error
    finish(1, `consumer crashed: ${err && (err.stack || err)}`)
  })
  await consumer.connect()
  await consumer.subscribe({ topics, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const state = read[topic]
      const at = `${partition}:${message.offset}`
      if (state.seen.has(at)) return // delivered again after a rebalance
      state.seen.add(at)
      state.records++
      apply(state, message)
      const over = topics.filter(t => read[t].records > expected[t])
      if (over.length > 0) {
        finish(1, `more records than expected: ${status()}`)
      } else if (complete()) {
        // Offsets are committed on disconnect; wait a moment for any
        // record beyond the expected ones, which would be a mistake.
        setTimeout(() => complete() && finish(0), 500)
      }
    }
  })
  if (complete()) finish(0) // every topic empty
}

main().catch(e => finish(1, `kafkajs: ${e.stack || e}`))
