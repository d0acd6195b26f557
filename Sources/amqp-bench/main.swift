// amqp-bench: confirmed publishes/s and consumed+acked msgs/s through the AMQP module.
// Usage: amqp-bench [--url URL] [--n 50000] [--size 200] [--window 256] [--prefetch 100] [--queue NAME]
// Prints "publish <msgs/s> <client CPU us/msg>" and "consume <msgs/s> <client CPU us/msg>". See bench/amqp.
import AMQP
import Foundation
import Logging
import Resilience

var options: [String: String] = [:]
var argv = CommandLine.arguments.dropFirst()
while let key = argv.popFirst() {
    guard key.hasPrefix("--"), let value = argv.popFirst() else { fatalError("usage: amqp-bench [--n N] [--size B] [--window W] [--prefetch P] [--queue Q] [--url U]") }
    options[String(key.dropFirst(2))] = value
}
let n = Int(options["n"] ?? "50000")!
let size = Int(options["size"] ?? "200")!
let window = Int(options["window"] ?? "256")!
let prefetch = UInt16(options["prefetch"] ?? "100")!
let queue = options["queue"] ?? "bench.swift.\(getpid())"
var configuration = try AMQPConfiguration(url: options["url"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F")
configuration.connectionName = "amqp-bench-swift"
var logger = Logger(label: "amqp-bench")
logger.logLevel = .warning

let topology = Topology(queues: [QueueDeclaration(name: queue, durable: false)])
let body = [UInt8](repeating: 0x61, count: size)

// (a) confirmed publishes, `window` in flight.
let publisher = AMQPPublisher(configuration: configuration, topology: topology, logger: logger)
let publisherRun = Task { try await publisher.run() }
try await publisher.declare(topology)
let publishStart = ContinuousClock.now
let publishCPU = cpuMicroseconds()
// `window` tasks, each publishing its share one confirm at a time: `window` messages in flight.
try await withThrowingTaskGroup(of: Void.self) { group in
    for w in 0..<window {
        let share = n / window + (w < n % window ? 1 : 0)
        group.addTask {
            for _ in 0..<share { try await publisher.publish(exchange: "", routingKey: queue, body: body) }
        }
    }
    try await group.waitForAll()
}
let publishElapsed = ContinuousClock.now - publishStart
print("publish \(Int(Double(n) / publishElapsed.seconds)) \(perMessage(cpuMicroseconds() - publishCPU, n))")

// (b) consume + ack (one cumulative ack per delivered batch), prefetch `prefetch`.
let consumer = AMQPConsumer(configuration: configuration, topology: topology, queue: queue, prefetch: prefetch, logger: logger)
let consumerRun = Task { try await consumer.run() }
_ = await consumer.queueName
let consumeStart = ContinuousClock.now
let consumeCPU = cpuMicroseconds()
var received = 0
for try await batch in consumer.deliveries {
    received += batch.count
    consumer.ack(batch[batch.count - 1].deliveryTag, multiple: true)
    if received >= n { break }
}
let consumeElapsed = ContinuousClock.now - consumeStart
print("consume \(Int(Double(received) / consumeElapsed.seconds)) \(perMessage(cpuMicroseconds() - consumeCPU, received))")

await consumer.close()
_ = try? await consumerRun.value
try await publisher.deleteQueue(queue)
await publisher.close()
_ = try? await publisherRun.value

/// User + system CPU time of this process, in microseconds.
func cpuMicroseconds() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec
}

func perMessage(_ micros: Int, _ count: Int) -> String {
    String(format: "%.1f", Double(micros) / Double(max(count, 1)))
}
