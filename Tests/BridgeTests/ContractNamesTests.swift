@testable import Bridge
import Testing

@Suite struct ContractNamesTests {
    @Test func defaultNamesAreTheContracts() {
        let names = ContractNames()
        #expect(names.jobsExchange == "golem.jobs")
        #expect(names.submitQueue == "golem.jobs.submit")
        #expect(names.eventsExchange == "golem.events")
        #expect(names.controlExchange == "golem.control")
        #expect(names.deadExchange == "golem.jobs.dead")
        #expect(names.deadQueue == "golem.jobs.dead")
        #expect(names.eventRoutingKey(jobId: "a-1", event: "ended") == "job.a-1.ended")
    }

    @Test func onePrefixRenamesEverything() {
        let names = ContractNames(prefix: "acme")
        let topology = names.controlTopology(instance: "b1")
        let declared = topology.exchanges.map(\.name) + topology.queues.map(\.name)
        #expect(declared.allSatisfy { $0.hasPrefix("acme.") })
        #expect(declared.contains("acme.control.cancel.b1"))
    }

    @Test func submitQueueIsQuorumAndDeadLettersToTheDeadExchange() throws {
        let topology = ContractNames().topology
        let submit = try #require(topology.queues.first { $0.name == "golem.jobs.submit" })
        #expect(submit.durable)
        #expect(submit.type == .quorum)
        #expect(submit.arguments["x-dead-letter-exchange"] == .string("golem.jobs.dead"))
    }

    @Test func deadAndStatusQueuesAreQuorumQueuesSoTheyOutliveANode() throws {
        let topology = ContractNames().topology
        for name in ["golem.jobs.dead", "golem.control.status"] {
            let queue = try #require(topology.queues.first { $0.name == name })
            #expect(queue.type == .quorum, "\(name)")
            #expect(queue.acceptsExistingType, "\(name): an older bridge's classic queue is kept")
        }
        #expect(topology.queues.first { $0.name == "golem.control.status" }?.arguments["x-message-ttl"] == .int32(60_000))
    }
}
