import Foundation
import GolemJobs
import JSONModel
import Testing
import Yagna
@testable import GolemBackend

@Suite struct DemandBuilderTests {
    let builder = DemandBuilder(
        subnet: "public", platform: "erc20-holesky-tglm", debitNoteAcceptTimeout: 240, debitNoteInterval: 120, paymentTimeout: 12 * 3600
    )
    let decorations = DemandDecorations(
        properties: [.init(key: "golem.com.payment.platform.erc20-holesky-tglm.address", value: .string("0xabc")),
                     .init(key: "golem.com.payment.protocol.version", value: .string("3"))],
        constraints: ["(golem.com.payment.platform.erc20-holesky-tglm.address=*)", "(golem.com.payment.protocol.version>1)"]
    )

    @Test func propertiesAndConstraintsUseGolemJsNames() {
        let package = PackageSpec(imageHash: "ab", imageUrl: "http://x/i.gvmi", minCpuCores: 2, minCpuThreads: 4, minMemGib: 1.5, minStorageGib: 10, capabilities: ["vpn"])
        let now = Date(timeIntervalSince1970: 1_000)
        let demand = builder.demand(package: package, taskPackage: "hash:sha3:ab:http://x/i.gvmi", market: MarketSpec(rentHours: 1), decorations: decorations, now: now)
        #expect(demand.properties["golem.srv.comp.task_package"] == JSONValue.string("hash:sha3:ab:http://x/i.gvmi"))
        #expect(demand.properties["golem.srv.comp.expiration"] == JSONValue.int((1_000 + 3600) * 1000))
        #expect(demand.properties["golem.node.debug.subnet"] == JSONValue.string("public"))
        #expect(demand.properties["golem.srv.caps.multi-activity"] == JSONValue.bool(true))
        #expect(demand.properties["golem.com.payment.debit-notes.accept-timeout?"] == JSONValue.int(240))
        #expect(demand.properties["golem.com.payment.platform.erc20-holesky-tglm.address"] == JSONValue.string("0xabc"))
        #expect(demand.properties["golem.com.payment.chosen-platform"] == nil)
        #expect(demand.constraints == """
            (&(golem.com.pricing.model=linear)
            \t(golem.node.debug.subnet=public)
            \t(golem.runtime.name=vm)
            \t(golem.inf.mem.gib>=1.5)
            \t(golem.inf.storage.gib>=10)
            \t(golem.inf.cpu.cores>=2)
            \t(golem.inf.cpu.threads>=4)
            \t(golem.runtime.capabilities=vpn)
            \t(golem.com.payment.platform.erc20-holesky-tglm.address=*)
            \t(golem.com.payment.protocol.version>1))
            """)
    }

    @Test func defaultsAreGolemJsDefaults() {
        let demand = builder.demand(package: PackageSpec(imageTag: "golem/alpine:latest"), taskPackage: "p", market: MarketSpec(), decorations: DemandDecorations(properties: [], constraints: []), now: Date())
        #expect(demand.constraints.contains("(golem.inf.mem.gib>=0.5)"))
        #expect(demand.constraints.contains("(golem.inf.storage.gib>=2)"))
        #expect(demand.constraints.contains("(golem.inf.cpu.cores>=1)"))
        #expect(demand.constraints.contains("(golem.inf.cpu.threads>=1)"))
    }

    @Test func aJobsSubnetTagReplacesTheConfiguredSubnetInPropertyConstraintAndCounter() {
        let demand = builder.demand(package: PackageSpec(imageTag: "t/t:1"), taskPackage: "p", market: MarketSpec(subnetTag: "beta-2"), decorations: decorations, now: Date())
        #expect(demand.properties["golem.node.debug.subnet"] == JSONValue.string("beta-2"))
        #expect(demand.constraints.contains("(golem.node.debug.subnet=beta-2)"))
        #expect(!demand.constraints.contains("public"))
        #expect(builder.counter(demand).properties["golem.node.debug.subnet"] == JSONValue.string("beta-2"))
    }

    @Test func theCounterNamesTheChosenPlatform() {
        let demand = builder.demand(package: PackageSpec(imageTag: "t/t:1"), taskPackage: "p", market: MarketSpec(), decorations: decorations, now: Date())
        let counter = builder.counter(demand)
        #expect(counter.properties["golem.com.payment.chosen-platform"] == JSONValue.string("erc20-holesky-tglm"))
        #expect(counter.constraints == demand.constraints)
    }

    /// The terms the default configuration proposes, for every rental the codec lets through, are
    /// within what ya-provider accepts (its negotiator defaults), and long rentals pay mid-agreement.
    @Test func defaultTermsAreWithinWhatYaProviderAccepts() {
        let configuration = GolemBackendConfiguration(yagna: YagnaConfiguration(appKey: "k"))
        let builder = DemandBuilder(
            subnet: "public", platform: configuration.platform, debitNoteAcceptTimeout: configuration.debitNoteAcceptTimeout,
            debitNoteInterval: configuration.debitNoteInterval, paymentTimeout: configuration.paymentTimeout
        )
        let now = Date(timeIntervalSince1970: 1_000)
        for hours in [5.0 / 60, 0.5, 10, 24] {
            let demand = builder.demand(package: PackageSpec(imageTag: "t/t:1"), taskPackage: "p", market: MarketSpec(rentHours: hours), decorations: decorations, now: now)
            func seconds(_ key: String) -> Int? { demand.properties[key]?.int }
            let accept = seconds("golem.com.payment.debit-notes.accept-timeout?")
            let interval = seconds("golem.com.scheme.payu.debit-note.interval-sec?")
            let payment = seconds("golem.com.scheme.payu.payment-timeout-sec?")
            let expiresIn = (seconds("golem.srv.comp.expiration") ?? 0) / 1000 - 1_000
            #expect(accept == 120, "golem-js's accept timeout (ya-provider: 5 … 240 s)")
            #expect(interval.map { (1...86_400).contains($0) } == true)
            #expect(payment.map { (1...86_400).contains($0) } == true, "\(hours) h: payment timeout \(payment ?? -1) s")
            if hours >= 10 { #expect(payment! < expiresIn, "\(hours) h: debit notes are paid during the rental") }
            #expect(expiresIn >= 5 * 60 + 60, "\(hours) h: still 5 minutes left after a minute of negotiation")
            #expect(expiresIn <= 24 * 3600)
        }
    }

    @Test func constraintJoiningFollowsGolemJs() {
        #expect(DemandBuilder.join([]) == "(&)")
        #expect(DemandBuilder.join(["(a=1)"]) == "(a=1)")
        #expect(DemandBuilder.join(["(a=1)", "(b=2)"]) == "(&(a=1)\n\t(b=2))")
    }

    @Test func thePlatformFollowsDriverNetworkAndToken() {
        var configuration = GolemBackendConfiguration(yagna: YagnaConfiguration(appKey: "k"))
        #expect(configuration.platform == "erc20-hoodi-tglm", "hoodi, the testnet golem-js and yagna 0.17 default to")
        configuration.paymentNetwork = "holesky"
        #expect(configuration.platform == "erc20-holesky-tglm")
        configuration.paymentNetwork = "polygon"
        #expect(configuration.platform == "erc20-polygon-glm")
        configuration.paymentPlatform = "erc20-hoodi-tglm"
        #expect(configuration.platform == "erc20-hoodi-tglm")
        #expect(!"\(configuration)".contains("k)"))
    }
}
